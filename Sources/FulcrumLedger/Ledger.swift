import FulcrumCore
import FulcrumStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The inventory ledger: balances per (node, SKU), reservations, scheduled
/// receipts and the append-only entry log, in one LMDB environment.
///
/// Owns the environment and its single group-commit writer. Commands go
/// through `execute` (or the typed wrappers) and are acknowledged only once
/// durable. Reads go through `LedgerReader`s, which take no lock.
/// Throws `FulcrumError` only: client errors, `overloaded`, `not_a_ledger`,
/// `storage_error`.
public final class Ledger: Sendable {
    /// How to open a ledger (in FulcrumCore, so front ends can say it through the service).
    public typealias Options = LedgerOptions

    public let directory: String
    /// The clock commands and reads judge expiry by.
    let clock: any Clock
    let environment: Environment
    let schema: Schema
    let gate = ReaderGate()
    let integrity: Integrity
    /// This process's claim on the directory, held while it may write.
    private let lock: DirectoryLock?
    let writer: GroupCommitWriter
    private let scrubber: Scrubber?

    /// Opens the ledger in `directory`, creating both when absent.
    public init(directory: String, options: Options = Options()) throws(FulcrumError) {
        let (environment, schema, lock) = try LedgerFiles.open(
            directory: directory,
            mode: .readWrite(
                durable: options.durable, metaSync: !options.replica, mapSizeBytes: options.mapSizeBytes,
                readersMax: options.readersMax))
        self.directory = directory
        self.clock = options.clock
        self.environment = environment
        self.schema = schema
        self.lock = lock
        integrity = Integrity(directory: directory)
        do {
            writer = try GroupCommitWriter(
                environment: environment, schema: schema, gate: gate,
                configuration: .init(
                    queueDepthMax: options.queueDepthMax, groupCommandsMax: options.groupCommandsMax,
                    expirySweepIntervalMilliseconds: options.expirySweepIntervalMilliseconds, clock: options.clock,
                    mapSizeBytesMax: options.mapSizeBytesMax, integrity: integrity),
                role: options.replica ? .follower(leader: nil) : .single)
        } catch {
            throw integrity.error(error)
        }
        scrubber = options.scrubRecordsPerSecond > 0
            ? Scrubber(
                environment: environment, schema: schema, gate: gate, integrity: integrity,
                recordsPerSecond: options.scrubRecordsPerSecond)
            : nil
    }

    deinit {
        scrubber?.stop()
        writer.stop()
    }

    /// Stops accepting commands, commits those queued, and gives the data
    /// directory back to other processes. Idempotent.
    public func close() {
        scrubber?.stop()
        writer.stop()
        lock?.release()
    }

    /// Queues a command; `completion` runs on the writer thread once the
    /// command's group is durable (or at once with `overloaded`).
    public func submit(
        _ command: LedgerCommand, idempotencyKey: String? = nil,
        completion: @escaping @Sendable (Result<LedgerResult, FulcrumError>) -> Void
    ) {
        writer.submit(command, idempotencyKey: idempotencyKey, records: nil, completion: completion)
    }

    /// `submit` with `records` written in the command's transaction when it succeeds (as `execute(_:attaching:)`).
    public func submit(
        _ command: LedgerCommand, idempotencyKey: String? = nil, attaching records: RecordBatch,
        completion: @escaping @Sendable (Result<LedgerResult, FulcrumError>) -> Void
    ) {
        writer.submit(command, idempotencyKey: idempotencyKey, records: records, completion: completion)
    }

    /// Runs a command and returns its result once it is durable.
    public func execute(_ command: LedgerCommand, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> LedgerResult
    {
        try await run(command, idempotencyKey: idempotencyKey, records: nil)
    }

    /// Runs a command and writes `records` in the same transaction, once the
    /// command succeeds: both are durable when this returns, or neither is
    /// written (a failed guard fails the command with `record_conflict`).
    public func execute(_ command: LedgerCommand, idempotencyKey: String? = nil, attaching records: RecordBatch)
        async throws(FulcrumError) -> LedgerResult
    {
        try await run(command, idempotencyKey: idempotencyKey, records: records)
    }

    /// Writes a batch of records alone; durable when this returns.
    public func write(_ records: RecordBatch) async throws(FulcrumError) {
        _ = try await run(nil, idempotencyKey: nil, records: records)
    }

    private func run(_ command: LedgerCommand?, idempotencyKey: String?, records: RecordBatch?)
        async throws(FulcrumError) -> LedgerResult
    {
        let result = await withCheckedContinuation { continuation in
            writer.submit(command, idempotencyKey: idempotencyKey, records: records) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Counters of the writer: groups, commands, rejections, commit time.
    public var statistics: WriterStatistics { writer.statistics }

    /// The writer's counters now, and the commands waiting for it.
    public var counters: WriterCounters {
        let statistics = writer.statistics
        return WriterCounters(
            groups: statistics.groups.load(ordering: .relaxed), commands: statistics.commands.load(ordering: .relaxed),
            rejected: statistics.rejected.load(ordering: .relaxed),
            failedGroups: statistics.failedGroups.load(ordering: .relaxed),
            mapGrowths: statistics.mapGrowths.load(ordering: .relaxed),
            applyNanoseconds: statistics.applyNanoseconds.load(ordering: .relaxed),
            commitNanoseconds: statistics.commitNanoseconds.load(ordering: .relaxed),
            expiries: statistics.expiries.load(ordering: .relaxed), queueDepth: writer.queueDepth)
    }

    /// Commands waiting for the writer.
    public var queueDepth: Int { writer.queueDepth }

    /// Checksum failures met by reads, commands and the scrubber.
    public var corruptRecords: Int { integrity.corruptRecords.load(ordering: .relaxed) }

    /// Records the background scrubber has checked, and its finished passes over the whole ledger.
    public var scrubbed: (records: Int, passes: Int) {
        (scrubber?.checkedRecords.load(ordering: .relaxed) ?? 0, scrubber?.passes.load(ordering: .relaxed) ?? 0)
    }

    /// A new reader. Each reader is for one thread at a time; make one per thread.
    public func makeReader() throws(FulcrumError) -> LedgerReader {
        try LedgerReader(ledger: self)
    }

    /// Writes a consistent, compacted copy to `path` (created; must be absent
    /// or empty) while the ledger stays in use.
    public func backup(to path: String) throws(FulcrumError) {
        try LedgerBackup.copy(environment, to: path, gate: gate)
    }

    /// Refolds every entry and compares with the stored balances, reservations
    /// and receipts, on one consistent snapshot.
    public func verify() throws(FulcrumError) -> VerificationReport {
        try gate.withTransientReadAccess { () throws(FulcrumError) in
            try LedgerVerifier.verify(environment: environment, schema: schema)
        }
    }
}

extension Ledger: LedgerCommandExecutor {}

/// Consistent copies of a ledger.
public enum LedgerBackup {
    /// Copies the ledger in `directory` (which may be in use by another
    /// process) to `path`, compacted; the copy is then verified.
    public static func copy(directory: String, to path: String) throws(FulcrumError) -> VerificationReport {
        let (environment, _, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        try copy(environment, to: path, gate: nil)
        return try LedgerVerifier.verify(directory: path)
    }

    /// Where the ledger in `directory` stands in a cluster's log: nil when
    /// the directory holds no ledger; else the last log entry it applied and
    /// whether it holds any entry (a ledger written outside a cluster has
    /// entries at position 0).
    public static func position(directory: String) throws(FulcrumError) -> (applied: UInt64, holdsEntries: Bool)? {
        guard LedgerFiles.fileExists(directory + "/data.mdb") else { return nil }
        let (environment, schema, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        do {
            let transaction = try ReadTransaction(environment)
            let applied = try transaction.value(schema.meta, key: Schema.appliedSequenceKey).flatMap(Schema.decodeSequence) ?? 0
            return (applied, try transaction.count(schema.entries) > 0)
        } catch {
            throw FulcrumError(.storage, "cannot read \(directory): \(error)", path: directory)
        }
    }

    /// Makes `file` (a replica's snapshot, already checked whole) the ledger
    /// of `directory`, in place of what it held, under the directory's lock:
    /// refused while a process serves the directory.
    public static func install(_ file: String, into directory: String) throws(FulcrumError) {
        try LedgerFiles.makeDirectory(directory)
        let lock = try DirectoryLock.acquire(directory: directory)
        defer { lock.release() }
        guard rename(file, directory + "/data.mdb") == 0 else {
            throw FulcrumError(.storage, "cannot move the snapshot into \(directory): \(String(cString: strerror(errno)))", path: directory)
        }
        // LMDB's reader table belonged to the file replaced.
        unlink(directory + "/lock.mdb")
    }

    static func copy(_ environment: Environment, to path: String, gate: ReaderGate?) throws(FulcrumError) {
        try LedgerFiles.makeDirectory(path)
        guard LedgerFiles.isEmptyDirectory(path) else {
            throw FulcrumError(.invalidArgument, "the backup directory must be empty", path: path)
        }
        do {
            if let gate {
                try gate.withTransientReadAccess { () throws(LMDBError) in try environment.copy(to: path) }
            } else {
                try environment.copy(to: path)
            }
        } catch {
            throw FulcrumError(.storage, "backup failed: \(error)", path: path)
        }
    }
}
