import Foundation
import FulcrumCore
import FulcrumStorage
import Metrics
import Synchronization

/// The ledger's only writer: one thread that drains a bounded queue and
/// commits commands in groups, one write transaction and one fsync for up to
/// `groupCommandsMax` commands. A command's completion runs only after its
/// group is durable. A command that fails while planning fails alone; the rest
/// of its group commits.
///
/// Write transactions never leave this thread and never cross an `await`.
final class GroupCommitWriter: @unchecked Sendable {
    typealias Completion = @Sendable (Result<LedgerResult, FulcrumError>) -> Void

    struct Pending {
        /// Nil for a batch of records alone.
        var command: LedgerCommand?
        var idempotencyKey: String?
        var records: RecordBatch?
        var completion: Completion?
    }

    struct Configuration {
        var queueDepthMax: Int
        var groupCommandsMax: Int
        var expirySweepIntervalMilliseconds: Int64?
        var clock: any Clock
        var mapSizeBytesMax: Int
        var integrity: Integrity
    }

    private let environment: Environment
    private let gate: ReaderGate
    private let configuration: Configuration
    let statistics = WriterStatistics()

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false

    // Confined to the writer thread: the runtime's exclusivity checks only cost time.
    @exclusivity(unchecked) private var machine: LedgerStateMachine
    @exclusivity(unchecked) private var lastSweepUptimeNanoseconds: UInt64 = 0
    /// The last sweep stopped at `expiriesPerGroupMax`: more are due now.
    @exclusivity(unchecked) private var sweepBacklog = false

    private let finished = DispatchSemaphore(value: 0)
    private var writerThread: Thread?

    init(environment: Environment, schema: Schema, gate: ReaderGate, configuration: Configuration) throws {
        precondition(configuration.groupCommandsMax >= 1 && configuration.queueDepthMax >= configuration.groupCommandsMax)
        self.environment = environment
        self.gate = gate
        self.configuration = configuration
        let transaction = try ReadTransaction(environment)
        self.machine = try LedgerStateMachine(schema: schema, integrity: configuration.integrity, transaction: transaction)
        queue.reserveCapacity(configuration.queueDepthMax)
        let thread = Thread { [self] in run() }
        thread.name = "fulcrum-ledger-writer"
        writerThread = thread
        thread.start()
    }

    /// Queues a command. Answers `overloaded` at once when the queue is full
    /// and `unavailable` once the writer is stopping; never blocks.
    func submit(
        _ command: LedgerCommand?, idempotencyKey: String?, records: RecordBatch?, completion: @escaping Completion
    ) {
        precondition(command != nil || records != nil, "a command or records")
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(FulcrumError(.unavailable, "the ledger is closed")))
            return
        }
        if queue.count >= configuration.queueDepthMax {
            condition.unlock()
            statistics.rejected.add(1, ordering: .relaxed)
            completion(
                .failure(FulcrumError(.overloaded, "the writer queue holds \(configuration.queueDepthMax) commands")))
            return
        }
        queue.append(Pending(command: command, idempotencyKey: idempotencyKey, records: records, completion: completion))
        if queue.count == 1 { condition.signal() }
        condition.unlock()
    }

    /// Stops taking commands, commits what is queued, and ends the thread.
    /// Called from the writer thread itself (a completion that drops the last
    /// reference to the ledger), it does not wait for itself.
    func stop() {
        condition.lock()
        let alreadyStopping = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !alreadyStopping && Thread.current !== writerThread { finished.wait() }
    }

    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    private func run() {
        while let group = nextGroup() {
            commit(group)
        }
        finished.signal()
    }

    /// Waits for work; returns nil when stopped and drained. Adds an expiry
    /// sweep at the front of a group when the sweep interval has passed.
    private func nextGroup() -> [Pending]? {
        condition.lock()
        while queue.isEmpty && !stopping && !sweepIsDue() {
            if let interval = configuration.expirySweepIntervalMilliseconds {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(interval) / 1000))
            } else {
                condition.wait()
            }
        }
        if queue.isEmpty && stopping {
            condition.unlock()
            return nil
        }
        var group: [Pending]
        if queue.count <= configuration.groupCommandsMax {
            group = queue
            queue.removeAll(keepingCapacity: true)
        } else {
            group = Array(queue.prefix(configuration.groupCommandsMax))
            queue.removeFirst(configuration.groupCommandsMax)
        }
        condition.unlock()
        if sweepIsDue() {
            lastSweepUptimeNanoseconds = DispatchTime.now().uptimeNanoseconds
            group.insert(Pending(command: .expireDue, idempotencyKey: nil, records: nil, completion: nil), at: 0)
        }
        return group
    }

    private func sweepIsDue() -> Bool {
        guard let interval = configuration.expirySweepIntervalMilliseconds else { return false }
        return sweepBacklog
            || DispatchTime.now().uptimeNanoseconds - lastSweepUptimeNanoseconds >= UInt64(interval) * 1_000_000
    }

    private func commit(_ group: [Pending]) {
        while true {
            let now = configuration.clock.now()
            let applyStarted = DispatchTime.now().uptimeNanoseconds
            do {
                let transaction = try WriteTransaction(environment)
                var results: [Result<LedgerResult, FulcrumError>] = []
                results.reserveCapacity(group.count)
                for pending in group {
                    results.append(
                        try machine.execute(
                            pending.command, idempotencyKey: pending.idempotencyKey, records: pending.records, now: now,
                            in: transaction))
                }
                let started = DispatchTime.now().uptimeNanoseconds
                try transaction.commit()
                var expiries = 0
                var backlog = false
                for case .success(.expired(let orders)) in results {
                    expiries += orders.count
                    backlog = orders.count >= Limits.expiriesPerGroupMax
                }
                sweepBacklog = backlog
                statistics.recordGroup(
                    commands: group.count, applyNanoseconds: started - applyStarted,
                    commitNanoseconds: DispatchTime.now().uptimeNanoseconds - started, expiries: expiries)
                machine.groupCommitted()
                for (pending, result) in zip(group, results) { pending.completion?(result) }
                return
            } catch LMDBError.mapFull {
                machine.groupAborted()
                if let failure = growMap() {
                    fail(group, failure)
                    return
                }
            } catch {
                machine.groupAborted()
                fail(group, configuration.integrity.error(error))
                return
            }
        }
    }

    private func fail(_ group: [Pending], _ error: FulcrumError) {
        statistics.failedGroups.add(1, ordering: .relaxed)
        for pending in group { pending.completion?(.failure(error)) }
    }

    /// Doubles the map while no reader is inside it. Returns an error when the
    /// map is already at its limit or cannot grow.
    private func growMap() -> FulcrumError? {
        let current = environment.mapSizeBytes
        let limit = configuration.mapSizeBytesMax
        guard current < limit else {
            return FulcrumError(.storage, "the ledger is full: its map is at the \(limit)-byte limit")
        }
        let grown = min(current * 2, limit)
        do {
            try gate.withExclusiveAccess { () throws(LMDBError) in try environment.setMapSize(bytes: grown) }
            statistics.mapGrowths.add(1, ordering: .relaxed)
            return nil
        } catch {
            return FulcrumError(.storage, "cannot grow the map to \(grown) bytes: \(error)")
        }
    }
}

/// Counters the writer keeps for `Stats`, metrics and benchmarks.
public final class WriterStatistics: Sendable {
    public let groups = Atomic<Int>(0)
    public let commands = Atomic<Int>(0)
    public let rejected = Atomic<Int>(0)
    public let failedGroups = Atomic<Int>(0)
    public let mapGrowths = Atomic<Int>(0)
    /// Total time spent planning and writing commands into transactions.
    public let applyNanoseconds = Atomic<UInt64>(0)
    /// Total time spent in `mdb_txn_commit` (page writes and fsyncs).
    public let commitNanoseconds = Atomic<UInt64>(0)
    /// Reservations ended by their time to live.
    public let expiries = Atomic<Int>(0)

    // The same, as metrics (swift-metrics: the process chooses the backend, e.g. Prometheus).
    private let groupCommandsMetric = Recorder(label: "fulcrum_ledger_group_commands")
    private let commitMetric = Metrics.Timer(label: "fulcrum_ledger_commit_seconds")
    private let expiriesMetric = Counter(label: "fulcrum_ledger_expiries_total")

    func recordGroup(commands count: Int, applyNanoseconds apply: UInt64, commitNanoseconds commit: UInt64, expiries expired: Int) {
        groups.add(1, ordering: .relaxed)
        commands.add(count, ordering: .relaxed)
        applyNanoseconds.add(apply, ordering: .relaxed)
        commitNanoseconds.add(commit, ordering: .relaxed)
        groupCommandsMetric.record(count)
        commitMetric.recordNanoseconds(Int64(commit))
        if expired > 0 {
            expiries.add(expired, ordering: .relaxed)
            expiriesMetric.increment(by: expired)
        }
    }
}
