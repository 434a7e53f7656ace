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
        /// Entries of the cluster's log to apply as they are (a follower's
        /// catch-up): then the fields above are unused.
        var logged: [LogEntry]? = nil

        var asLogged: LogEntry.Command {
            LogEntry.Command(command: command, idempotencyKey: idempotencyKey, records: records)
        }
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
    private var role: LedgerRole

    // Confined to the writer thread: the runtime's exclusivity checks only cost time.
    @exclusivity(unchecked) private var machine: LedgerStateMachine
    @exclusivity(unchecked) private var lastSweepUptimeNanoseconds: UInt64 = 0
    /// The last sweep stopped at `expiriesPerGroupMax`: more are due now.
    @exclusivity(unchecked) private var sweepBacklog = false
    /// The last log entry applied (replicas; 0 for a single node), and its time:
    /// a new leader's groups are never timed before what it applied.
    @exclusivity(unchecked) private var appliedSequence: UInt64
    @exclusivity(unchecked) private var appliedAt = Timestamp(millisecondsSinceEpoch: 0)
    /// `appliedSequence` for other threads.
    let appliedPosition = Atomic<UInt64>(0)

    private let finished = DispatchSemaphore(value: 0)
    private var writerThread: Thread?

    init(environment: Environment, schema: Schema, gate: ReaderGate, configuration: Configuration, role: LedgerRole) throws {
        precondition(configuration.groupCommandsMax >= 1 && configuration.queueDepthMax >= configuration.groupCommandsMax)
        self.environment = environment
        self.gate = gate
        self.configuration = configuration
        self.role = role
        let transaction = try ReadTransaction(environment)
        self.machine = try LedgerStateMachine(schema: schema, integrity: configuration.integrity, transaction: transaction)
        appliedSequence = try transaction.value(schema.meta, key: Schema.appliedSequenceKey).flatMap(Schema.decodeSequence) ?? 0
        appliedPosition.store(appliedSequence, ordering: .relaxed)
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
        if case .follower(let leader) = role {
            condition.unlock()
            completion(.failure(Self.notLeader(leader)))
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

    /// Queues entries of the cluster's log to apply in order, in one
    /// transaction; entries already applied are skipped. The caller (one
    /// replica loop) awaits each batch, which bounds what it queues.
    func apply(_ entries: [LogEntry], completion: @escaping Completion) {
        precondition(!entries.isEmpty)
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(FulcrumError(.unavailable, "the ledger is closed")))
            return
        }
        queue.append(Pending(command: nil, idempotencyKey: nil, records: nil, completion: completion, logged: entries))
        if queue.count == 1 { condition.signal() }
        condition.unlock()
    }

    /// Who writes from the next group on.
    func setRole(_ newRole: LedgerRole) {
        condition.lock()
        role = newRole
        condition.signal()
        condition.unlock()
    }

    var currentRole: LedgerRole {
        condition.lock()
        defer { condition.unlock() }
        return role
    }

    static func notLeader(_ leader: String?) -> FulcrumError {
        guard let leader else {
            return FulcrumError(.notLeader, "this replica is a follower and no leader is known yet; retry shortly")
        }
        return FulcrumError(.notLeader, "this replica is a follower; the leader is at \(leader)", path: leader)
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

    /// A leader's group whose append is in flight: applied and acknowledged
    /// once the log has it, while the next group's append is in flight.
    private struct Appending {
        var group: [Pending]
        var sequence: UInt64
        var at: Timestamp
        var append: any LogAppend
    }
    @exclusivity(unchecked) private var appending: Appending?
    /// A logged group failed to apply here: what is in flight can no longer be applied in order.
    @exclusivity(unchecked) private var applyBroken = false

    private func run() {
        while true {
            if let previous = appending {
                // A leader's pipeline: while the log takes the next group, the previous one is applied.
                appending = nil
                guard finishAppend(previous) else { continue }
                if case .leader(let log, let term) = currentRole, let (group, _) = nextGroup(waiting: false) {
                    startAppend(group, log: log, term: term, after: previous)
                }
                applyAppended(previous)
                continue
            }
            applyBroken = false
            guard let (group, role) = nextGroup(waiting: true) else { break }
            if let entries = group.first?.logged {
                applyLogged(entries, completion: group[0].completion)
                continue
            }
            switch role {
            case .single: commit(group)
            case .leader(let log, let term): startAppend(group, log: log, term: term, after: nil)
            case .follower(let leader): fail(group, Self.notLeader(leader))
            }
        }
        finished.signal()
    }

    /// Appends a leader's group to the log (one append in flight at a time).
    /// A group too large for one entry is cut: its second half goes back to the queue.
    private func startAppend(_ group: [Pending], log: any ReplicatedLog, term: UInt64, after previous: Appending?) {
        var group = group
        let at = max(configuration.clock.now(), previous?.at ?? appliedAt)
        // A sweep with nothing due is not worth a log entry.
        if group.first?.command == .expireDue && group[0].completion == nil && !sweepFindsWork(now: at) {
            group.removeFirst()
            if group.isEmpty { return }
        }
        let sequence = (previous?.sequence ?? appliedSequence) + 1
        var encoded = LogEntry(sequence: sequence, term: term, at: at, commands: group.map(\.asLogged)).encoded()
        while encoded.count > Limits.logEntryBytesMax {
            guard group.count > 1 else {
                fail(group, FulcrumError(
                    .payloadTooLarge,
                    "the command takes \(encoded.count) bytes in the log; an entry holds at most \(Limits.logEntryBytesMax)"))
                return
            }
            requeue(Array(group[(group.count / 2)...]))
            group.removeLast(group.count - group.count / 2)
            encoded = LogEntry(sequence: sequence, term: term, at: at, commands: group.map(\.asLogged)).encoded()
        }
        appending = Appending(group: group, sequence: sequence, at: at, append: log.append(encoded, sequence: sequence))
    }

    /// Waits for an append. A failed one fails its group and makes this
    /// replica a follower; one that landed after a group failed to apply here
    /// cannot be applied in order, so its outcome is the log's to tell.
    private func finishAppend(_ appended: Appending) -> Bool {
        do {
            try appended.append.wait()
        } catch {
            setRole(.follower(leader: nil))
            fail(appended.group, error)
            return false
        }
        guard !applyBroken else {
            fail(appended.group, FulcrumError(
                .unavailable, "the command is in the cluster's log but this replica could not apply it; retry with the same idempotency key"))
            return false
        }
        return true
    }

    private func applyAppended(_ appended: Appending) {
        if !commit(appended.group, logged: (appended.sequence, appended.at)) {
            // Logged but not applied here: the replica's log tail applies it again.
            applyBroken = true
            setRole(.follower(leader: nil))
        }
    }

    private func requeue(_ pending: [Pending]) {
        condition.lock()
        queue.insert(contentsOf: pending, at: 0)
        condition.unlock()
    }

    /// Waits for work (`waiting`, else answers nil at once when there is none);
    /// returns nil when stopped and drained. Adds an expiry sweep at the front
    /// of a group when the sweep interval has passed and this ledger may
    /// write. Logged entries come as a group of their own.
    private func nextGroup(waiting: Bool) -> ([Pending], LedgerRole)? {
        condition.lock()
        if !waiting && (queue.isEmpty || queue.first?.logged != nil) && !(sweepIsDue() && role.writes) {
            condition.unlock()
            return nil
        }
        while queue.isEmpty && !stopping && !(sweepIsDue() && role.writes) {
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
        let role = self.role
        var group: [Pending]
        if queue.first?.logged != nil {
            group = [queue.removeFirst()]
            condition.unlock()
            return (group, role)
        }
        let count = queue.prefix(configuration.groupCommandsMax).prefix { $0.logged == nil }.count
        if count == queue.count {
            group = queue
            queue.removeAll(keepingCapacity: true)
        } else {
            group = Array(queue.prefix(count))
            queue.removeFirst(count)
        }
        condition.unlock()
        if role.writes && sweepIsDue() {
            lastSweepUptimeNanoseconds = DispatchTime.now().uptimeNanoseconds
            group.insert(Pending(command: .expireDue, idempotencyKey: nil, records: nil, completion: nil), at: 0)
        }
        return (group, role)
    }

    private func sweepIsDue() -> Bool {
        guard let interval = configuration.expirySweepIntervalMilliseconds else { return false }
        return sweepBacklog
            || DispatchTime.now().uptimeNanoseconds - lastSweepUptimeNanoseconds >= UInt64(interval) * 1_000_000
    }

    /// Applies a group in one transaction and completes its commands; a
    /// leader's group (`logged`: its position in the log and its time) only
    /// once the log has it. Returns false when the group failed.
    @discardableResult
    private func commit(_ group: [Pending], logged: (sequence: UInt64, at: Timestamp)? = nil) -> Bool {
        let now = logged?.at ?? configuration.clock.now()
        let sequence = logged?.sequence
        while true {
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
                if let sequence { try transaction.put(machine.schema.meta, key: Schema.appliedSequenceKey, value: Schema.encodeSequence(sequence)) }
                let started = DispatchTime.now().uptimeNanoseconds
                try transaction.commit()
                if let sequence { applied(sequence, at: now) }
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
                return true
            } catch LMDBError.mapFull {
                machine.groupAborted()
                if let failure = growMap() {
                    fail(group, failure)
                    return false
                }
            } catch {
                machine.groupAborted()
                fail(group, configuration.integrity.error(error))
                return false
            }
        }
    }

    /// Applies entries of the log, as the leader did, in one transaction with
    /// the position they reach. Their commands' own outcomes were the
    /// leader's to report; only a failure to write fails the batch.
    private func applyLogged(_ entries: [LogEntry], completion: Completion?) {
        while true {
            var sequence = appliedSequence
            var at = appliedAt
            do {
                let transaction = try WriteTransaction(environment)
                for entry in entries where entry.sequence > sequence {
                    guard entry.sequence == sequence + 1 else {
                        throw FulcrumError(.corrupt, "log entry \(entry.sequence) follows \(sequence): a gap in the log")
                    }
                    for command in entry.commands {
                        _ = try machine.execute(
                            command.command, idempotencyKey: command.idempotencyKey, records: command.records, now: entry.at,
                            in: transaction)
                    }
                    sequence = entry.sequence
                    at = entry.at
                }
                try transaction.put(machine.schema.meta, key: Schema.appliedSequenceKey, value: Schema.encodeSequence(sequence))
                try transaction.commit()
                machine.groupCommitted()
                applied(sequence, at: at)
                completion?(.success(.recorded))
                return
            } catch LMDBError.mapFull {
                machine.groupAborted()
                if let failure = growMap() {
                    completion?(.failure(failure))
                    return
                }
            } catch let error as FulcrumError {
                machine.groupAborted()
                completion?(.failure(error))
                return
            } catch {
                machine.groupAborted()
                completion?(.failure(configuration.integrity.error(error)))
                return
            }
        }
    }

    private func sweepFindsWork(now: Timestamp) -> Bool {
        do {
            let transaction = try ReadTransaction(environment)
            return try machine.anyDue(now: now, in: transaction)
        } catch {
            return true  // the sweep itself reports what is wrong
        }
    }

    private func applied(_ sequence: UInt64, at: Timestamp) {
        assert(sequence >= appliedSequence)
        appliedSequence = sequence
        appliedAt = at
        appliedPosition.store(sequence, ordering: .releasing)
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
