import FulcrumCore
import FulcrumStorage

/// The replicated log a clustered ledger's leader appends each group to before
/// applying it: the port FulcrumReplication's etcd log implements.
///
/// One append is in flight at a time, and the next begins only once the
/// previous one's `wait` returned (each append is fenced on the one before);
/// the writer applies the previous group meanwhile.
public protocol ReplicatedLog: Sendable {
    /// Starts appending an encoded `LogEntry` at `sequence`.
    func append(_ entry: [UInt8], sequence: UInt64) -> any LogAppend
}

/// An append in flight.
public protocol LogAppend {
    /// Returns once the log has committed the entry. Throws `not_leader` when
    /// this replica was deposed (nothing was appended) and `unavailable` when
    /// the outcome is unknown. Blocks the calling thread (the ledger's writer).
    func wait() throws(FulcrumError)
}

/// An append whose outcome is already known (logs that answer at once, and refusals).
public struct FinishedAppend: LogAppend {
    let error: FulcrumError?
    public init(_ error: FulcrumError? = nil) { self.error = error }
    public func wait() throws(FulcrumError) { if let error { throw error } }
}

/// Who writes to a ledger.
public enum LedgerRole: Sendable {
    /// One process and no log: the embedded node.
    case single
    /// A replica that applies the log its leader appends (`Ledger.apply`);
    /// commands answer `not_leader`, naming the leader's address when known.
    case follower(leader: String?)
    /// The replica that appends each group to `log`, in `term`, before applying it.
    case leader(log: any ReplicatedLog, term: UInt64)

    /// Whether commands (and expiry sweeps) run here.
    var writes: Bool {
        if case .follower = self { return false }
        return true
    }
}

extension Ledger {
    /// Who writes from the next group on: a cluster's replica loop says so.
    public func setRole(_ role: LedgerRole) { writer.setRole(role) }

    public var role: LedgerRole { writer.currentRole }

    /// The last entry of the cluster's log applied here (0: none; always 0 for a single node).
    public var appliedSequence: UInt64 { writer.appliedPosition.load(ordering: .acquiring) }

    /// Applies entries of the cluster's log in order, in one transaction;
    /// those already applied are skipped, a gap is `corrupt`.
    public func apply(_ entries: [LogEntry]) async throws(FulcrumError) {
        guard !entries.isEmpty else { return }
        let result = await withCheckedContinuation { continuation in
            writer.apply(entries) { continuation.resume(returning: $0) }
        }
        _ = try result.get()
    }

    /// A SHA-256 (hex) of every stored key and value but this replica's own
    /// position: replicas that applied the same log have the same digest.
    public func digest() throws(FulcrumError) -> String {
        try LedgerDigest.digest(environment: environment, schema: schema, integrity: integrity)
    }
}

/// Digests of a ledger's whole content, for comparing replicas.
public enum LedgerDigest {
    /// The digest of the ledger in `directory` (another process may be serving it).
    public static func digest(directory: String) throws(FulcrumError) -> String {
        let (environment, schema, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        return try digest(environment: environment, schema: schema, integrity: Integrity(directory: directory))
    }

    /// Each database's digest by name (one the ledger has not created yet is
    /// absent): where two replicas' digests differ, which store diverged.
    public static func databaseDigests(directory: String) throws(FulcrumError) -> [String: String] {
        let (environment, schema, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        return try Dictionary(
            uniqueKeysWithValues: databases(environment: environment, schema: schema, integrity: Integrity(directory: directory))
                .map { ($0.name, SHA256.hex($0.digest)) })
    }

    static func digest(environment: Environment, schema: Schema, integrity: Integrity) throws(FulcrumError) -> String {
        var hash = SHA256()
        // An empty database and one not created yet are the same content.
        for database in try databases(environment: environment, schema: schema, integrity: integrity) where !database.isEmpty {
            hash.update(Array(database.name.utf8))
            hash.update(database.digest)
        }
        return SHA256.hex(hash.finish())
    }

    private static func databases(environment: Environment, schema: Schema, integrity: Integrity) throws(FulcrumError)
        -> [(name: String, digest: [UInt8], isEmpty: Bool)]
    {
        do {
            let transaction = try ReadTransaction(environment)
            return try schema.all.map { database throws(LMDBError) in
                var hash = SHA256()
                var isEmpty = true
                let cursor = try transaction.cursor(database, verifying: false)
                var record = try cursor.first()
                while let (key, value) = record {
                    if !(database == schema.meta && key == Schema.appliedSequenceKey) {
                        hash.update(ByteWriter.lengthPrefixed(key))
                        hash.update(ByteWriter.lengthPrefixed(value))
                        isEmpty = false
                    }
                    record = try cursor.next()
                }
                return (database.name, hash.finish(), isEmpty)
            }
        } catch {
            throw integrity.error(error)
        }
    }
}

extension ByteWriter {
    static func lengthPrefixed(_ bytes: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: bytes.count + 4)
        writer.write(bytes: bytes)
        return writer.bytes
    }
}
