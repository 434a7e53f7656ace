import FulcrumCore
import FulcrumStorage

/// The inventory ledger: balances per (node, SKU), reservations, scheduled
/// receipts and the append-only entry log, in one LMDB environment.
///
/// Owns the environment and its single group-commit writer. Commands go
/// through `execute` (or the typed wrappers) and are acknowledged only once
/// durable. Reads go through `LedgerReader`s, which take no lock.
/// Throws `FulcrumError` only: client errors, `overloaded`, `not_a_ledger`,
/// `storage_error`.
public final class Ledger: Sendable {
    /// How to open a ledger.
    public struct Options: Sendable {
        /// fsync every group (true) or never (tests, replays in a temporary directory).
        public var durable = true
        public var clock: any Clock = SystemClock()
        public var queueDepthMax = Limits.writerQueueDepthMax
        public var groupCommandsMax = Limits.groupCommandsMax
        /// How often the writer expires lapsed reservations; nil: only on `expireDue()`.
        public var expirySweepIntervalMilliseconds: Int64? = Limits.expirySweepIntervalMilliseconds
        public var mapSizeBytes = Limits.mapSizeBytesInitial
        public init() {}
    }

    public let directory: String
    let environment: Environment
    let schema: Schema
    let gate = ReaderGate()
    private let writer: GroupCommitWriter

    /// Opens the ledger in `directory`, creating both when absent.
    public init(directory: String, options: Options = Options()) throws(FulcrumError) {
        let (environment, schema) = try LedgerFiles.open(
            directory: directory, mode: .readWrite(durable: options.durable, mapSizeBytes: options.mapSizeBytes))
        self.directory = directory
        self.environment = environment
        self.schema = schema
        do {
            writer = try GroupCommitWriter(
                environment: environment, schema: schema, gate: gate,
                configuration: .init(
                    queueDepthMax: options.queueDepthMax, groupCommandsMax: options.groupCommandsMax,
                    expirySweepIntervalMilliseconds: options.expirySweepIntervalMilliseconds, clock: options.clock))
        } catch {
            throw error as? FulcrumError ?? FulcrumError(.storage, "\(error)", path: directory)
        }
    }

    deinit {
        writer.stop()
    }

    /// Stops accepting commands and commits those queued. Idempotent.
    public func close() {
        writer.stop()
    }

    /// Queues a command; `completion` runs on the writer thread once the
    /// command's group is durable (or at once with `overloaded`).
    public func submit(
        _ command: LedgerCommand, idempotencyKey: String? = nil,
        completion: @escaping @Sendable (Result<LedgerResult, FulcrumError>) -> Void
    ) {
        writer.submit(command, idempotencyKey: idempotencyKey, records: nil, completion: completion)
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

    /// Commands waiting for the writer.
    public var queueDepth: Int { writer.queueDepth }

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

/// Anything that runs ledger commands durably: the ledger itself, and the
/// service in front of it. The typed wrappers below come with it.
public protocol LedgerCommandExecutor: Sendable {
    /// Runs a command and returns its result once it is durable.
    func execute(_ command: LedgerCommand, idempotencyKey: String?) async throws(FulcrumError) -> LedgerResult
}

extension Ledger: LedgerCommandExecutor {}

// Typed wrappers: one request type and one result type per command.
extension LedgerCommandExecutor {
    public func adjust(_ request: AdjustRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> Position
    {
        guard case .position(_, let position) = try await execute(.adjust(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("adjust returns a position") }
        return position
    }

    public func schedule(_ request: ScheduleRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> ScheduledReceipt
    {
        guard case .receipt(let receipt) = try await execute(.schedule(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("schedule returns a receipt") }
        return receipt
    }

    public func receive(_ request: ReceiveRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> Position
    {
        guard case .position(_, let position) = try await execute(.receive(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("receive returns a position") }
        return position
    }

    public func setSafetyStock(_ request: SetSafetyStockRequest, idempotencyKey: String? = nil)
        async throws(FulcrumError) -> Position
    {
        guard
            case .position(_, let position) = try await execute(
                .setSafetyStock(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("setSafetyStock returns a position") }
        return position
    }

    public func reserve(_ request: ReserveRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> Reservation
    {
        try await reservation(.reserve(request), idempotencyKey)
    }

    public func confirm(order: String, idempotencyKey: String? = nil) async throws(FulcrumError) -> Reservation {
        try await reservation(.confirm(order: order), idempotencyKey)
    }

    public func ship(order: String, idempotencyKey: String? = nil) async throws(FulcrumError) -> Reservation {
        try await reservation(.ship(order: order), idempotencyKey)
    }

    public func release(order: String, idempotencyKey: String? = nil) async throws(FulcrumError) -> Reservation {
        try await reservation(.release(order: order), idempotencyKey)
    }

    /// Expires the unconfirmed reservations whose time to live has passed by
    /// the ledger's clock; returns their orders.
    public func expireDue() async throws(FulcrumError) -> [String] {
        guard case .expired(let orders) = try await execute(.expireDue, idempotencyKey: nil) else {
            preconditionFailure("expireDue returns orders")
        }
        return orders
    }

    private func reservation(_ command: LedgerCommand, _ idempotencyKey: String?) async throws(FulcrumError)
        -> Reservation
    {
        guard case .reservation(let reservation) = try await execute(command, idempotencyKey: idempotencyKey) else {
            preconditionFailure("\(command) returns a reservation")
        }
        return reservation
    }
}

/// Consistent copies of a ledger.
public enum LedgerBackup {
    /// Copies the ledger in `directory` (which may be in use by another
    /// process) to `path`, compacted; the copy is then verified.
    public static func copy(directory: String, to path: String) throws(FulcrumError) -> VerificationReport {
        let (environment, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        try copy(environment, to: path, gate: nil)
        return try LedgerVerifier.verify(directory: path)
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
