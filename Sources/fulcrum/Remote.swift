import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumConfig
import FulcrumCore
import FulcrumTLS
import FulcrumWire

/// How a command reaches fulcrumd: how long it waits for an answer (so a
/// stopped or wedged server never hangs it) and TLS (the CA that must have
/// signed the server's certificate; a client certificate for mutual TLS).
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Give up on an answer after this many milliseconds (0: wait as long as the connection lives).")
    var timeoutMs: Int64 = Limits.cliRequestTimeoutMilliseconds
    @Option(help: "Speak TLS; the server's certificate must chain to this CA (PEM) (default: $FULCRUM_CA).")
    var ca: String?
    @Option(help: "With TLS: this client's certificate (PEM), for a server that asks for one.")
    var tlsCert: String?
    @Option(help: "The private key of --tls-cert (PEM).")
    var tlsKey: String?

    func validate() throws {
        guard timeoutMs >= 0 else { throw ValidationError("--timeout-ms must be 0 or more") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    /// The client's request timeout; nil waits without end.
    var milliseconds: Int64? { timeoutMs == 0 ? nil : timeoutMs }

    func tls() throws(FulcrumError) -> ClientTLS? {
        guard let ca = ca ?? ProcessInfo.processInfo.environment["FULCRUM_CA"] else { return nil }
        return try ClientTLS(ca: ca, certificate: tlsCert, key: tlsKey)
    }

    /// Connects to `server` (HOST:PORT) with `token` or $FULCRUM_TOKEN; each
    /// answer may take `extraMilliseconds` more than --timeout-ms.
    func connect(_ server: String, token: String?, extraMilliseconds: Int64 = 0) async throws(FulcrumError) -> FulcrumClient {
        try await FulcrumClient.connect(
            server, token: token ?? ProcessInfo.processInfo.environment["FULCRUM_TOKEN"],
            requestTimeoutMilliseconds: milliseconds.map { $0 + extraMilliseconds }, tls: try tls())
    }

    /// A client that connects on first use and again after restarts (the shims).
    func connecting(_ server: String, token: String?) throws(FulcrumError) -> FulcrumClient {
        try FulcrumClient.connecting(
            server, token: token ?? ProcessInfo.processInfo.environment["FULCRUM_TOKEN"], requestTimeoutMilliseconds: milliseconds,
            tls: try tls())
    }
}

/// Options every command that talks to a running fulcrumd shares.
struct ServerOptions: ParsableArguments {
    @Option(help: "fulcrumd's address, HOST:PORT; a cluster's replicas as HOST:PORT,HOST:PORT,... (writes follow the leader).") var server: String
    @Option(help: "The server's token (default: $FULCRUM_TOKEN).") var token: String?
    @Flag(help: "Print machine-readable JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func connect() async throws(FulcrumError) -> FulcrumClient {
        try await connection.connect(server, token: token)
    }

    /// Connects, runs `body`, prints its answer (JSON or text) and closes;
    /// an error is printed the same way and exits non-zero.
    func run(_ body: (FulcrumClient) async throws(FulcrumError) -> (json: JSON, text: String)) async throws {
        let result: Result<(json: JSON, text: String), FulcrumError>
        do {
            let client = try await connect()
            do {
                result = .success(try await body(client))
            } catch {
                result = .failure(error)
            }
            await client.close()
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let answer): print(json ? answer.json.rendered : answer.text)
        case .failure(let error): throw fail(error, json: json)
        }
    }
}

// Wire messages as the CLI's JSON and text.
/// `fulcrum adjust --server H:P --node N --sku S (--set Q | --delta Q)`.
struct Adjust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set or move on-hand stock at a node.")
    @OptionGroup var server: ServerOptions
    @Option var node: String
    @Option var sku: String
    @Option(help: "On hand becomes this many units.") var set: Int64?
    @Option(help: "On hand moves by this many units (negative for shrink).") var delta: Int64?
    @Option(help: "Why (free text, kept in the ledger's entry).") var reason = ""
    @Option(help: "The system the change comes from (kept in the ledger's entry).") var source = ""
    @Option(help: "The source's own id of the change.") var sourceReference = ""
    @Option(help: "With --set: when the count was taken (YYYY-MM-DD or ISO 8601); changes applied since stay on top.")
    var asOf: String?
    @Option(help: "An idempotency key: a retry with the same key is applied once.") var key = ""

    func validate() throws {
        guard (set == nil) != (delta == nil) else { throw ValidationError("give exactly one of --set and --delta") }
    }

    func run() async throws {
        let asOfMs: Int64
        do {
            asOfMs = try asOf.map { text throws(FulcrumError) in try ATP.parseDate(text, path: "as_of_ms") } ?? 0
        } catch {
            throw fail(error, json: server.json)
        }
        let request = Fulcrum_V1_AdjustRequest.with {
            $0.node = node
            $0.sku = sku
            if let set { $0.set = set }
            if let delta { $0.delta = delta }
            $0.reason = reason
            $0.source = source
            $0.sourceReference = sourceReference
            $0.asOfMs = asOfMs
            $0.idempotencyKey = key
        }
        try await server.run { client throws(FulcrumError) in
            let (key, position) = try await client.adjust(request).position.domain
            return (position.json(key), position.text(key))
        }
    }
}

/// `fulcrum reserve --server H:P --order ID --line NODE:SKU:QUANTITY ...`: exits 0
/// only when the reservation is made and durable.
struct Reserve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reserve stock for an order: every line or none.")
    @OptionGroup var server: ServerOptions
    @Option var order: String
    @Option(
        name: .customLong("line"),
        help: "NODE:SKU:QUANTITY, or NODE:SKU:QUANTITY:RECEIPT for a preorder of a scheduled receipt (repeat for more lines).")
    var lines: [String] = []
    @Option(help: "An idempotency key: a retry with the same key is applied once.") var key = ""
    @Option(help: "Seconds the reservation holds unless confirmed (default 900).") var ttlSeconds: Int64 = 0
    @Option(help: "The sales channel: its allocations are taken first.") var channel = ""

    func run() async throws {
        let parsed: [Fulcrum_V1_ReservationLine]
        do {
            parsed = try lines.enumerated().map { index, line throws(FulcrumError) in try Self.parse(line, index: index) }
        } catch {
            throw fail(error, json: server.json)
        }
        let request = Fulcrum_V1_ReserveRequest.with {
            $0.order = order
            $0.lines = parsed
            $0.idempotencyKey = key
            $0.ttlSeconds = ttlSeconds
            $0.channel = channel
        }
        try await server.run { client throws(FulcrumError) in
            let reservation = try await client.reserve(request).domain()
            return (reservation.json, "reserved " + reservation.text)
        }
    }

    static func parse(_ line: String, index: Int) throws(FulcrumError) -> Fulcrum_V1_ReservationLine {
        let parts = line.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, let quantity = Int64(parts[2]) else {
            throw FulcrumError(.invalidArgument, "expected NODE:SKU:QUANTITY[:RECEIPT], got \(line)", path: "lines[\(index)]")
        }
        return .with {
            $0.node = String(parts[0])
            $0.sku = String(parts[1])
            $0.quantity = quantity
            if parts.count == 4 { $0.receipt = String(parts[3]) }
        }
    }
}

/// `fulcrum reservation|confirm|ship|release --server H:P --order ID`.
struct OrderCommand: AsyncParsableCommand {
    enum Action: String { case reservation, confirm, ship, release }

    @OptionGroup var server: ServerOptions
    @Option var order: String
    @Option(help: "An idempotency key (confirm, ship, release).") var key = ""

    func run(_ action: Action) async throws {
        try await server.run { client throws(FulcrumError) in
            let reservation: Fulcrum_V1_Reservation =
                switch action {
                case .reservation: try await client.reservation(order: order)
                case .confirm: try await client.confirm(order: order, idempotencyKey: key)
                case .ship: try await client.ship(order: order, idempotencyKey: key)
                case .release: try await client.release(order: order, idempotencyKey: key)
                }
            let parsed = try reservation.domain()
            return (parsed.json, parsed.text)
        }
    }
}

struct ReservationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservation", abstract: "Show an order's reservation; exits non-zero when there is none.")
    @OptionGroup var command: OrderCommand
    func run() async throws { try await command.run(.reservation) }
}

struct Confirm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Confirm an order's reservation (reserved → confirmed).")
    @OptionGroup var command: OrderCommand
    func run() async throws { try await command.run(.confirm) }
}

struct Ship: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ship a confirmed order (its units leave on hand).")
    @OptionGroup var command: OrderCommand
    func run() async throws { try await command.run(.ship) }
}

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Release an order's reservation (its units are available again).")
    @OptionGroup var command: OrderCommand
    func run() async throws { try await command.run(.release) }
}

/// `fulcrum atp --server H:P --sku S [--node N] [--on DATE] [--near LATITUDE,LONGITUDE] [--channel C]`.
struct ATP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atp", abstract: "Available to promise of a SKU: at a node, everywhere, or nearest a point first.")
    @OptionGroup var server: ServerOptions
    @Option var sku: String
    @Option var node: String?
    @Option(help: "Count receipts due by then: YYYY-MM-DD (end of that day, UTC) or an ISO 8601 time.") var on: String?
    @Option(help: "LATITUDE,LONGITUDE: list the network's nodes nearest first, with distances.") var near: String?
    @Option(help: "A replica answers once it applied the cluster's log this far (a write's log position), else `stale`.")
    var minPosition: UInt64 = 0
    @Option(help: "ATP to this sales channel's reservations (its allocations); without it, unallocated stock.")
    var channel = ""

    func run() async throws {
        var request = Fulcrum_V1_AtpRequest.with {
            $0.sku = sku
            $0.node = node ?? ""
            $0.minPosition = minPosition
            $0.channel = channel
        }
        do throws(FulcrumError) {
            if let on { request.onMs = try Self.parseDate(on) }
            if let near {
                let parts = near.split(separator: ",")
                guard parts.count == 2, let latitude = Double(parts[0]), let longitude = Double(parts[1]) else {
                    throw FulcrumError(.invalidArgument, "expected LATITUDE,LONGITUDE, got \(near)", path: "near")
                }
                request.hasNear_p = true
                request.nearLatitude = latitude
                request.nearLongitude = longitude
            }
        } catch {
            throw fail(error, json: server.json)
        }
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.atp(request)
            let nodes = answer.nodes.map { entry in
                var fields: [(String, JSON)] = [("node", .string(entry.node)), ("available", .integer(entry.available))]
                if request.hasNear_p { fields.append(("distance_km", .number(entry.distanceKm))) }
                return JSON.orderedObject(fields)
            }
            let json = JSON.orderedObject([("sku", .string(answer.sku)), ("available", .integer(answer.available)), ("nodes", .array(nodes))])
            let cells = answer.nodes.map { entry in
                "\(entry.node) \(entry.available)" + (request.hasNear_p ? String(format: " (%.0f km)", entry.distanceKm) : "")
            }
            return (json, "\(answer.sku): \(answer.available) available" + (cells.isEmpty ? "" : " — " + cells.joined(separator: ", ")))
        }
    }

    /// YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 time, as epoch milliseconds.
    static func parseDate(_ text: String, path: String = "on") throws(FulcrumError) -> Int64 {
        if text.count == 10, let day = try? Date.ISO8601FormatStyle().year().month().day().parse(text) {
            return Int64(day.timeIntervalSince1970 * 1000) + 86_400_000 - 1
        }
        if let time = try? Date.ISO8601FormatStyle().parse(text) { return Int64(time.timeIntervalSince1970 * 1000) }
        throw FulcrumError(.invalidArgument, "expected YYYY-MM-DD or an ISO 8601 time, got \(text)", path: path)
    }
}

/// `fulcrum stats --server H:P`: health and the server's counters.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a running server's health and counters.")
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let health = try await client.health()
            let stats = try await client.stats()
            let counters: [(String, UInt64)] = [
                ("positions", stats.positions), ("reservations", stats.reservations), ("entries", stats.entries),
                ("receipts", stats.receipts), ("writer_groups", stats.writerGroups),
                ("writer_commands", stats.writerCommands), ("writer_rejected", stats.writerRejected),
                ("writer_queue_depth", stats.writerQueueDepth), ("connections", stats.connections),
                ("requests", stats.requests), ("requests_failed", stats.requestsFailed),
                ("optimize_retries", stats.optimizeRetries), ("events_queued", stats.eventsQueued),
                ("corrupt_records", stats.corruptRecords), ("scrubbed_records", stats.scrubbedRecords),
            ]
            var fields: [(String, JSON)] =
                [("ready", .bool(health.ready)), ("version", .string(health.version)),
                 ("uptime_ms", .integer(Int64(health.uptimeMs)))]
                    + counters.map { ($0.0, JSON.integer(Int64($0.1))) }
            var text = "fulcrumd \(health.version), \(health.ready ? "ready" : "draining"), up \(health.uptimeMs / 1000) s\n"
                + counters.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
            if stats.hasReplication {
                let replica = stats.replication
                fields.append(("replication", .orderedObject([
                    ("cluster", .string(replica.cluster)), ("name", .string(replica.name)), ("role", .string(replica.role)),
                    ("term", .integer(Int64(replica.term))), ("leader", replica.leader.isEmpty ? .null : .string(replica.leader)),
                    ("applied", .integer(Int64(replica.applied))), ("head", .integer(Int64(replica.head))),
                    ("lag_entries", .integer(Int64(replica.lagEntries))),
                ])))
                text += "\nreplica \(replica.name) of cluster \(replica.cluster): \(replica.role), term \(replica.term), "
                    + "leader \(replica.leader.isEmpty ? "unknown" : replica.leader), applied \(replica.applied) of \(replica.head) "
                    + "(\(replica.lagEntries) behind)"
            }
            return (JSON.orderedObject(fields), text)
        }
    }
}

/// `fulcrum audit --server H:P [--limit N] [--before ID]`.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail: inventory changes and admin actions with the token that made them, newest first.")
    @OptionGroup var server: ServerOptions
    @Option(help: "How many entries (1 to \(Limits.pageItemsMax)).") var limit = 100
    @Option(help: "Continue after this entry's id (the last of the previous page).") var before: String?

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let entries = try await client.audit(before: before, limit: limit)
            let text = entries.map {
                "\($0.atMilliseconds)  \($0.token)  \($0.operation)  \($0.subject)  \($0.detail)  [\($0.request)]"
            }.joined(separator: "\n")
            return (.object(["entries": .array(entries.map(\.json))]), entries.isEmpty ? "(no entries)" : text)
        }
    }
}

/// `fulcrum profiles --server H:P [--reload]`.
struct Profiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the fulfillment profiles fulcrumd solves under; --reload reads its profiles file again first (admin scope).")
    @OptionGroup var server: ServerOptions
    @Flag(help: "Have fulcrumd read its --profiles file again; a file with a mistake is refused and the old profiles stay.")
    var reload = false

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let profiles = try await client.profiles(reload: reload)
            let text = "profiles from \(profiles.source ?? "built in")\n"
                + profiles.names.map { profiles.byName[$0]!.json.rendered }.joined(separator: "\n")
            return (profiles.json, text)
        }
    }
}

/// `fulcrum skus --server H:P [--set FILE]`.
struct Skus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show fulcrumd's SKU catalogue; --set adds or replaces the SKUs of a file (YAML, or CSV sku,weight_kg,category).")
    @OptionGroup var server: ServerOptions
    @Option(help: "A catalogue file to upsert first (inventory scope).") var set: String?

    func run() async throws {
        let upsert = try set.map { (file) throws(FulcrumError) in try CatalogueFile.load(path: file) } ?? []
        try await server.run { client throws(FulcrumError) in
            var skus: [SKU] = []
            for start in stride(from: 0, to: upsert.count, by: Limits.pageItemsMax) {
                _ = try await client.skus(upsert: Array(upsert[start..<min(start + Limits.pageItemsMax, upsert.count)]))
            }
            skus = try await client.skus()
            let rows = skus.map { sku in
                JSON.orderedObject(
                    [("id", .string(sku.id)), ("weight_kg", .number(sku.weightKilograms))]
                        + (sku.category.map { [("category", JSON.string($0))] } ?? [])
                        + (sku.flags.isEmpty ? [] : [("flags", JSON.array(sku.flags.map(JSON.string)))]))
            }
            let text = skus.map { "\($0.id)  \($0.weightKilograms) kg  \($0.category ?? "-")  \($0.flags.joined(separator: ","))" }
                .joined(separator: "\n")
            return (.object(["skus": .array(rows)]), skus.isEmpty ? "(no SKUs)" : text)
        }
    }
}

/// `fulcrum node`: the live network; with a setting, changes the node first.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Show fulcrumd's nodes as they stand (units released today, capacity left); with NODE, one node and its timeline of changes; with a setting, change it first (admin scope).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "A node of the server's network.") var node: String?
    @Option(help: "Open (true) or close (false) the node.") var enabled: Bool?
    @Option(name: .customLong("can-ship"), help: "Whether the node ships to customers (a store that does not still serves pickups).")
    var canShip: Bool?
    @Option(name: .customLong("capacity-per-day"), help: "Units the node may release per local day, or 'unlimited'.")
    var capacityPerDay: String?
    @Option(help: "The IANA time zone whose midnight starts the node's day (America/Chicago).") var timezone: String?
    @Option(help: "Why, for the node's timeline.") var reason: String?
    @Option(help: "Changes to show for one node, newest first.") var limit = Limits.pageItemsDefault

    func run() async throws {
        let update = NodeUpdate(
            enabled: enabled, canShip: canShip, capacityPerDay: try capacity(), timezone: timezone, reason: reason)
        let changes = update != NodeUpdate(reason: reason)
        try await server.run { client throws(FulcrumError) in
            guard let node else {
                guard !changes else { throw FulcrumError(.invalidArgument, "name the node to change", path: "node") }
                let statuses = try await client.nodes()
                return (.object(["nodes": .array(statuses.map(\.json))]), statuses.isEmpty ? "(no network)" : statuses.map(\.text).joined(separator: "\n"))
            }
            let status = changes ? try await client.updateNode(node, update) : try await client.nodes(node, limit: limit)[0]
            let timeline = status.changes.map { change in
                "  r\(change.revision) \(Date(timeIntervalSince1970: Double(change.atMilliseconds) / 1000).ISO8601Format()) \(change.caller): \(change.summary)"
                    + (change.reason.map { " (\($0))" } ?? "")
            }
            return (status.json, ([status.text] + timeline).joined(separator: "\n"))
        }
    }

    private func capacity() throws -> NodeUpdate.Capacity? {
        guard let capacityPerDay else { return nil }
        if capacityPerDay == "unlimited" { return .unlimited }
        guard let units = Int64(capacityPerDay) else {
            throw fail(FulcrumError(.invalidArgument, "a number of units, or unlimited", path: "capacity_per_day"), json: server.json)
        }
        return .units(units)
    }
}

/// `fulcrum token new | hash`: tokens for a tokens file.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a token, or print the digest a tokens file stores for one.", subcommands: [New.self, Hash.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random token (256 bits) and its digest; give the token to its holder, the digest to the file.")
        func run() throws {
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }
                .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
            print("token:  fulcrum_\(secret)")
            print("digest: \(TokenTable.digestText(TokenTable.digest(of: "fulcrum_" + secret)))")
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the digest of a token read from standard input (one line), for a tokens file.")
        func run() throws {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw fail(FulcrumError(.invalidArgument, "give the token on standard input", path: "token"), json: false)
            }
            print(TokenTable.digestText(TokenTable.digest(of: line)))
        }
    }
}
