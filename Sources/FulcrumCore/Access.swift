import Synchronization

/// What a token may do. Every operation of the RPC and the gateway needs
/// exactly one scope; a token holds a set of them.
public enum Scope: String, CaseIterable, Sendable, Comparable {
    /// ATP, positions, reservations and orders as they stand, insights, stats.
    case read
    /// Reservations and their transitions, optimize and optimize-and-reserve.
    case reserve
    /// On-hand stock, receipts, safety stock, feeds.
    case inventory
    /// Business events, reprocessing, provider outboxes.
    case orchestrate
    /// Dead-letter replay, the audit trail, configuration and operations.
    case admin

    /// The scope each operation needs, by the name the RPC and the gateway
    /// share (metrics label them alike); an operation not listed needs none
    /// (Hello, health and readiness probes, the operations page's HTML).
    public static let byOperation: [String: Scope] = {
        var table: [String: Scope] = [:]
        let operations: [Scope: [String]] = [
            .read: [
                "stats", "metrics", "atp", "atp_batch", "positions", "get_reservation", "reservations", "optimize",
                "decisions", "decision", "orders", "order", "get_order", "profiles", "skus", "nodes", "node",
                "replication", "reconcile", "receipt", "receipts", "backorders", "allocations", "insights", "alerts", "anomalies",
            ],
            .reserve: ["reserve", "confirm", "ship", "release", "optimize_and_reserve"],
            .inventory: [
                "adjust", "adjust_batch", "schedule", "receive", "set_safety_stock", "transfer", "upsert_skus", "allocate", "reschedule",
            ],
            .orchestrate: ["submit_event", "reprocess", "pull_outbox", "acknowledge", "dead_letters"],
            .admin: ["replay_dead_letter", "audit", "reload_profiles", "update_node", "snapshot"],
        ]
        for (scope, names) in operations {
            for name in names { precondition(table.updateValue(scope, forKey: name) == nil, "\(name) listed twice") }
        }
        return table
    }()

    public static func < (lhs: Scope, rhs: Scope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Who a request comes from: a token's name (never its secret) and its scopes.
public struct Grant: Sendable, Hashable {
    /// The token's name, as the audit trail and the log say it.
    public var name: String
    public var scopes: Set<Scope>

    public init(name: String, scopes: Set<Scope>) {
        self.name = name
        self.scopes = scopes
    }

    /// Everything, for a server without tokens (trusted loopback) and for `--token`.
    public static func everything(name: String) -> Grant { Grant(name: name, scopes: Set(Scope.allCases)) }

    /// `forbidden` naming the scope `operation` needs, unless this grant holds it.
    public func check(_ scope: Scope, for operation: String) throws(FulcrumError) {
        guard scopes.contains(scope) else {
            throw FulcrumError(
                .forbidden, "the token '\(name)' may not \(operation): it needs the '\(scope.rawValue)' scope",
                path: "scope")
        }
    }
}

/// The tokens a server accepts: SHA-256 digests of their secrets, each with
/// its grant. Secrets are never kept; a presented secret is hashed and
/// looked up. Tokens are random strings of at least 128 bits (`fulcrum token
/// new`), so a fast hash is enough: there is nothing to guess from a digest.
public struct TokenTable: Sendable {
    private var grants: [[UInt8]: Grant] = [:]
    /// Whether a token is needed at all (false: every request gets `Grant.everything`).
    public let required: Bool

    /// A table that asks for no token: every caller is `anonymous` with every scope.
    public static let open = TokenTable(required: false)

    private init(required: Bool) { self.required = required }

    /// A table from (digest, grant) pairs; one digest may appear once.
    public init(_ entries: [(digest: [UInt8], grant: Grant)]) {
        required = true
        for entry in entries {
            precondition(entry.digest.count == SHA256.digestBytes)
            precondition(grants.updateValue(entry.grant, forKey: entry.digest) == nil, "each digest once")
        }
    }

    /// The single shared token of `--token`: every scope, named "token".
    public init(sharedToken: String) {
        self.init([(Self.digest(of: sharedToken), Grant.everything(name: "token"))])
    }

    /// The digest a tokens file stores for `secret`.
    public static func digest(of secret: String) -> [UInt8] { SHA256.hash(Array(secret.utf8)) }

    /// The text form of a digest in a tokens file: `sha256:` and 64 hex digits.
    public static func digestText(_ digest: [UInt8]) -> String {
        "sha256:" + SHA256.hex(digest)
    }

    /// Parses `sha256:HEX`; nil when it is not one.
    public static func digest(text: String) -> [UInt8]? {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = Array(text.utf8.dropFirst(7))
        guard hex.count == 2 * SHA256.digestBytes else { return nil }
        var digest: [UInt8] = []
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            digest.append(byte)
        }
        return digest
    }

    /// The grant of a presented secret's digest, or nil.
    public func grant(digest: [UInt8]) -> Grant? {
        required ? grants[digest] : Grant.everything(name: "anonymous")
    }

    /// The tokens' names, for the log line of a reload.
    public var names: [String] { grants.values.map(\.name).sorted() }
}

/// The server's current tokens, swapped whole on reload: a request is checked
/// against the table of the moment it arrives, so a revoked token fails on its
/// next request without any connection being dropped.
public final class AccessControl: Sendable {
    private let current: Mutex<TokenTable>

    public init(_ table: TokenTable) { current = Mutex(table) }

    public var table: TokenTable { current.withLock { $0 } }

    public func replace(with table: TokenTable) { current.withLock { $0 = table } }

    /// The grant of `secret` now; `unauthenticated` when no token matches.
    public func authenticate(secret: String) throws(FulcrumError) -> Grant {
        try authenticate(digest: TokenTable.digest(of: secret))
    }

    /// The grant of a digest taken at Hello, now (after a reload it may be gone).
    public func authenticate(digest: [UInt8]) throws(FulcrumError) -> Grant {
        guard let grant = table.grant(digest: digest) else {
            throw FulcrumError(.unauthenticated, "the token is not (or no longer) one of the server's", path: "token")
        }
        return grant
    }
}
