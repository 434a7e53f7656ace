import Foundation
import FulcrumCore
import FulcrumLedger
import Logging
import Synchronization

/// How a fulcrumd joins a cluster (`fulcrumd serve --cluster --etcd --advertise`).
public struct ClusterOptions: Sendable {
    /// The cluster's name: its keys in etcd live under `/fulcrum/<cluster>/`.
    public var cluster: String
    /// etcd's client URLs, `http://HOST:PORT`.
    public var endpoints: [String]
    /// This replica's RPC address, as clients reach it: what `not_leader` names.
    public var advertise: String
    /// This replica's name among its peers (its published position's key).
    public var name: String
    public var leaseSeconds = Limits.leaderLeaseSeconds
    /// Log entries the leader keeps below the lowest live replica's position.
    public var logTailEntriesKept = Limits.logTailEntriesKept

    public init(cluster: String, endpoints: [String], advertise: String, name: String? = nil) {
        self.cluster = cluster
        self.endpoints = endpoints
        self.advertise = advertise
        self.name = name ?? advertise
    }
}

/// A replica's view of its cluster: for `fulcrum stats` and the operations page.
public struct ReplicaStatus: Sendable, Hashable {
    public var cluster: String
    public var name: String
    /// "leader" or "follower".
    public var role: String
    /// The leadership this replica knows of: the create revision of the leader key.
    public var term: UInt64
    /// The leader's address, when one is known.
    public var leader: String?
    /// The last log entry applied here.
    public var applied: UInt64
    /// The log's last entry, as last seen.
    public var head: UInt64
    /// Entries behind the head.
    public var lagEntries: UInt64 { head > applied ? head - applied : 0 }
}

/// A ledger's membership in a cluster: one leader at a time, elected with an
/// etcd lease; the leader appends every group commit to the log in etcd
/// (fenced on its term and the log's head) before applying it; followers
/// watch the log and apply the same entries through the same state machine.
/// See `docs/replication.md`.
public final class Replica: Sendable {
    let options: ClusterOptions
    let ledger: Ledger
    let client: EtcdClient
    let keys: ClusterKeys
    private let logger: Logger
    /// Called after a follower applied entries (caches over the ledger go stale).
    private let onApplied: @Sendable () -> Void
    /// Called with true once this replica leads and takes writes, false when it stops.
    private let onLeadership: @Sendable (Bool) async -> Void

    private struct State {
        var role = "follower"
        var term: UInt64 = 0
        var leader: String?
        var head: UInt64 = 0
        /// The lease this replica holds (nil: none yet, or it lapsed).
        var lease: Int64?
    }
    private let state = Mutex(State())
    private let wakeup = Wakeup()
    private let tasks = Mutex<[Task<Void, Never>]>([])

    private init(
        ledger: Ledger, options: ClusterOptions, logger: Logger, onApplied: @escaping @Sendable () -> Void,
        onLeadership: @escaping @Sendable (Bool) async -> Void
    ) {
        self.ledger = ledger
        self.options = options
        self.logger = logger
        self.onApplied = onApplied
        self.onLeadership = onLeadership
        client = EtcdClient(endpoints: options.endpoints)
        keys = ClusterKeys(cluster: options.cluster)
    }

    /// Joins the cluster: checks its log's format, applies the log from this
    /// ledger's position to the head, then campaigns and follows in the
    /// background. Throws when etcd cannot be reached or the log is not one
    /// this build reads (nothing is applied then).
    public static func join(
        ledger: Ledger, options: ClusterOptions, logger: Logger, onApplied: @escaping @Sendable () -> Void = {},
        onLeadership: @escaping @Sendable (Bool) async -> Void = { _ in }
    ) async throws(FulcrumError) -> Replica {
        let replica = Replica(ledger: ledger, options: options, logger: logger, onApplied: onApplied, onLeadership: onLeadership)
        do throws(FulcrumError) {
            try await replica.checkFormat()
            let head = try await replica.readHead()
            guard ledger.appliedSequence <= head.sequence else {
                throw FulcrumError(
                    .invalidArgument,
                    "this replica applied \(ledger.appliedSequence) entries but the log of cluster \(options.cluster) ends at \(head.sequence): it belongs to another log",
                    path: "cluster")
            }
            try await replica.catchUp(through: head.sequence)
        } catch {
            await replica.client.shutdown()
            throw error
        }
        replica.tasks.withLock { tasks in
            tasks.append(Task { await replica.renewLease() })
            tasks.append(Task { await replica.run() })
        }
        return replica
    }

    /// Where a replica whose ledger applied `applied` entries starts from:
    /// nil when the log still holds the entry after them (it catches up from
    /// the log), else the address of the leader, to copy a snapshot from.
    /// Throws when etcd cannot be reached, or the log was trimmed past
    /// `applied` and no leader is up to copy from.
    public static func snapshotSource(options: ClusterOptions, applied: UInt64) async throws(FulcrumError) -> String? {
        let client = EtcdClient(endpoints: options.endpoints)
        let keys = ClusterKeys(cluster: options.cluster)
        do throws(FulcrumError) {
            let first = try await client.range(keys.logStart, end: keys.logEnd, limit: 1).kvs?.first
            guard let first, let sequence = keys.sequence(first.keyBytes), sequence > applied + 1 else {
                await client.shutdown()
                return nil
            }
            let leader = try await client.range(keys.leader).kvs?.first
            await client.shutdown()
            guard let leader else {
                throw FulcrumError(
                    .unavailable,
                    "the log of cluster \(options.cluster) starts at entry \(sequence), past this replica's \(applied), and no leader is up to copy a snapshot from; retry once one is",
                    path: "cluster")
            }
            return String(decoding: leader.valueBytes, as: UTF8.self)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    public var status: ReplicaStatus {
        let state = state.withLock { $0 }
        return ReplicaStatus(
            cluster: options.cluster, name: options.name, role: state.role, term: state.term, leader: state.leader,
            applied: ledger.appliedSequence, head: max(state.head, ledger.appliedSequence))
    }

    /// Every replica's published position (name → applied), from etcd.
    public func positions() async throws(FulcrumError) -> [String: UInt64] {
        let response = try await client.range(keys.appliedPrefix, end: ClusterKeys.end(of: keys.appliedPrefix))
        var positions: [String: UInt64] = [:]
        for pair in response.kvs ?? [] {
            let name = String(decoding: pair.keyBytes.dropFirst(keys.appliedPrefix.count), as: UTF8.self)
            positions[name] = UInt64(String(decoding: pair.valueBytes, as: UTF8.self))
        }
        return positions
    }

    /// Leaves the cluster: stops following or leading, and gives the lease
    /// back so that another replica takes over at once instead of after it lapses.
    public func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in running { task.cancel() }
        wakeup.fire()
        for task in running { await task.value }
        ledger.setRole(.follower(leader: nil))
        if let lease = state.withLock({ $0.lease }) { await client.revoke(lease: lease) }
        await client.shutdown()
    }

    // MARK: Joining

    private func checkFormat() async throws(FulcrumError) {
        let format = Array(LogEntry.formatName.utf8)
        var transaction = Txn()
        transaction.compares = [(keys.format, .create, 0)]
        transaction.success = [.put(key: keys.format, value: format, lease: nil)]
        transaction.failure = [.range(key: keys.format)]
        let response = try await client.txn(transaction)
        guard response.succeeded != true else { return }
        let stored = response.responses?.first?.response_range?.kvs?.first?.valueBytes ?? []
        guard stored == format else {
            throw FulcrumError(
                .invalidArgument,
                "the log of cluster \(options.cluster) holds entries of format \"\(String(decoding: stored, as: UTF8.self))\"; this build reads \"\(LogEntry.formatName)\": nothing was applied",
                path: "cluster")
        }
    }

    /// The log's head: its last sequence and the head key's revision (0 and 0 for an empty log).
    private func readHead() async throws(FulcrumError) -> (sequence: UInt64, revision: Int64) {
        let response = try await client.range(keys.head)
        guard let pair = response.kvs?.first else { return (0, 0) }
        guard let sequence = UInt64(String(decoding: pair.valueBytes, as: UTF8.self)) else {
            throw FulcrumError(.corrupt, "the head of cluster \(options.cluster)'s log is not a number", path: "cluster")
        }
        state.withLock { $0.head = max($0.head, sequence) }
        return (sequence, pair.modRevision)
    }

    private func catchUp(through sequence: UInt64) async throws(FulcrumError) {
        while ledger.appliedSequence < sequence {
            guard try await tail() else {
                throw FulcrumError(
                    .corrupt, "the log of cluster \(options.cluster) ends at \(ledger.appliedSequence), before its head \(sequence)",
                    path: "cluster")
            }
        }
    }

    /// Applies the next entries of the log, if any; returns whether there were.
    @discardableResult
    private func tail() async throws(FulcrumError) -> Bool {
        let from = ledger.appliedSequence + 1
        let response = try await client.range(keys.log(from), end: keys.logEnd, limit: Limits.logEntriesPerApplyMax)
        guard let pairs = response.kvs, !pairs.isEmpty else { return false }
        if let first = pairs.first, first.keyBytes != keys.log(from) {
            throw FulcrumError(
                .unavailable,
                "the log of cluster \(options.cluster) was trimmed past this replica's position \(from - 1) (its next entry is gone): "
                    + "restart it to start from a snapshot of the leader",
                path: "cluster")
        }
        var entries: [LogEntry] = []
        for (offset, pair) in pairs.enumerated() {
            let entry = try LogEntry.decode(pair.valueBytes)
            guard entry.sequence == from + UInt64(offset), pair.keyBytes == keys.log(entry.sequence) else {
                throw FulcrumError(.corrupt, "log entry \(entry.sequence) is stored under another position", path: "cluster")
            }
            entries.append(entry)
        }
        try await ledger.apply(entries)
        state.withLock { $0.head = max($0.head, entries.last!.sequence) }
        onApplied()
        return true
    }

    // MARK: Leading and following

    private func run() async {
        while !Task.isCancelled {
            do {
                let lease = try await currentLease()
                var campaign = Txn()
                campaign.compares = [(keys.leader, .create, 0)]
                campaign.success = [.put(key: keys.leader, value: Array(options.advertise.utf8), lease: lease)]
                campaign.failure = [.range(key: keys.leader)]
                let response = try await client.txn(campaign)
                if response.succeeded == true {
                    try await lead(term: response.header?.revisionNumber ?? 0, lease: lease)
                } else if let leader = response.responses?.first?.response_range?.kvs?.first {
                    try await follow(leader, from: (response.header?.revisionNumber ?? 0) + 1)
                }
            } catch {
                logger.warning("replica \(options.name): \(error)")
                stepDown(leader: nil)
                await wakeup.wait(milliseconds: Limits.replicaRetryIntervalMilliseconds)
            }
        }
    }

    /// Leads until the lease lapses, an append fails, or the replica stops.
    private func lead(term: Int64, lease: Int64) async throws(FulcrumError) {
        let head = try await readHead()
        try await catchUp(through: head.sequence)
        let log = EtcdLog(client: client, keys: keys, term: term, head: head, wakeup: wakeup)
        ledger.setRole(.leader(log: log, term: UInt64(term)))
        state.withLock {
            $0.role = "leader"
            $0.term = UInt64(term)
            $0.leader = options.advertise
        }
        logger.info("replica \(options.name) leads cluster \(options.cluster) from entry \(head.sequence) (term \(term))")
        await onLeadership(true)
        var published = ContinuousClock.now - .seconds(60)
        var retention = Retention()
        while !Task.isCancelled && !log.failed && state.withLock({ $0.lease }) == lease {
            if ContinuousClock.now - published >= .milliseconds(Limits.appliedPublishIntervalMilliseconds) {
                await publishApplied(lease: lease)
                await trim(&retention)
                published = .now
            }
            await wakeup.wait(milliseconds: Limits.followerPollIntervalMilliseconds)
        }
        stepDown(leader: nil)
        logger.info("replica \(options.name) stops leading cluster \(options.cluster) (term \(term))")
        await onLeadership(false)
        // Give the leadership up at once; the next campaign takes a fresh lease.
        state.withLock { if $0.lease == lease { $0.lease = nil } }
        await client.revoke(lease: lease)
    }

    /// Applies the log while `leader` holds the leader key: the entries the
    /// watch delivers, in order; the log is read only to fill a gap and on
    /// each periodic check.
    private func follow(_ leader: KeyValue, from revision: Int64) async throws(FulcrumError) {
        let address = String(decoding: leader.valueBytes, as: UTF8.self)
        stepDown(leader: address)
        state.withLock { $0.term = UInt64(leader.createRevision) }
        let leaderChanged = Atomic<Bool>(false)
        let delivered = Mutex<(entries: [[UInt8]], overflow: Bool)>(([], false))
        let keys = keys
        let wakeup = wakeup
        let watch = Task { [client] in
            do {
                try await client.watch(keys.prefix, end: ClusterKeys.end(of: keys.prefix), startRevision: revision) { changes in
                    var logged: [[UInt8]] = []
                    for change in changes {
                        if change.key == keys.leader { leaderChanged.store(true, ordering: .relaxed) }
                        if !change.deleted && change.key.starts(with: keys.logStart) { logged.append(change.value) }
                    }
                    delivered.withLock { delivered in
                        // Bounded: past the limit the log itself is read instead.
                        if delivered.entries.count + logged.count > Limits.logEntriesPerApplyMax * 4 {
                            delivered.overflow = true
                            delivered.entries.removeAll()
                        } else {
                            delivered.entries += logged
                        }
                    }
                    wakeup.fire()
                }
            } catch {}
            // A watch that ended says nothing more: look again now.
            leaderChanged.store(true, ordering: .relaxed)
            wakeup.fire()
        }
        defer { watch.cancel() }
        while try await tail() {}
        var checked = ContinuousClock.now
        while !Task.isCancelled {
            let (values, overflow) = delivered.withLock { delivered in
                defer { delivered = ([], false) }
                return delivered
            }
            let continued = overflow ? false : try await applyDelivered(values)
            if !continued {
                while try await tail() {}
            }
            if leaderChanged.load(ordering: .relaxed) { return }
            if ContinuousClock.now - checked >= .milliseconds(Limits.followerPollIntervalMilliseconds) {
                while try await tail() {}
                let current = try await client.range(keys.leader).kvs?.first
                guard current?.createRevision == leader.createRevision else { return }
                _ = try await readHead()
                if let lease = state.withLock({ $0.lease }) { await publishApplied(lease: lease) }
                checked = .now
            }
            await wakeup.wait(milliseconds: Limits.followerPollIntervalMilliseconds)
        }
    }

    /// Applies entries a watch delivered that continue this replica's log;
    /// false when they leave a gap (the log is read instead).
    private func applyDelivered(_ values: [[UInt8]]) async throws(FulcrumError) -> Bool {
        guard !values.isEmpty else { return true }
        var entries: [LogEntry] = []
        var next = ledger.appliedSequence + 1
        for value in values {
            let entry = try LogEntry.decode(value)
            if entry.sequence < next { continue }
            guard entry.sequence == next else { return false }
            entries.append(entry)
            next += 1
        }
        guard !entries.isEmpty else { return true }
        try await ledger.apply(entries)
        state.withLock { $0.head = max($0.head, entries.last!.sequence) }
        onApplied()
        return true
    }

    /// What the leader has trimmed, and when it last compacted etcd's history.
    private struct Retention {
        var trimmedBelow: UInt64 = 0
        var compactedAt = ContinuousClock.now
        var compactRevision: Int64 = 0
    }

    /// Deletes the log below the lowest position a live replica published,
    /// less a kept tail; now and then compacts etcd's history behind it.
    private func trim(_ retention: inout Retention) async {
        guard let lowest = try? await positions().values.min(), lowest > options.logTailEntriesKept else { return }
        let cut = lowest - options.logTailEntriesKept
        if cut > retention.trimmedBelow {
            var delete = Txn()
            delete.success = [.delete(key: keys.log(0), end: keys.log(cut))]
            guard let response = try? await client.txn(delete) else { return }
            retention.trimmedBelow = cut
            retention.compactRevision = response.header?.revisionNumber ?? 0
        }
        if retention.compactRevision > 0,
            ContinuousClock.now - retention.compactedAt >= .milliseconds(Limits.logCompactionIntervalMilliseconds)
        {
            try? await client.compact(revision: retention.compactRevision)
            retention.compactedAt = .now
            retention.compactRevision = 0
        }
    }

    private func stepDown(leader: String?) {
        ledger.setRole(.follower(leader: leader))
        state.withLock {
            $0.role = "follower"
            $0.leader = leader
        }
    }

    private func publishApplied(lease: Int64) async {
        var put = Txn()
        put.success = [.put(key: keys.applied(options.name), value: Array(String(ledger.appliedSequence).utf8), lease: lease)]
        _ = try? await client.txn(put)
    }

    // MARK: The lease

    private func currentLease() async throws(FulcrumError) -> Int64 {
        if let lease = state.withLock({ $0.lease }) { return lease }
        let lease = try await client.grantLease(ttlSeconds: options.leaseSeconds)
        state.withLock { $0.lease = lease }
        return lease
    }

    /// Renews the lease while the replica runs. A lease etcd says has lapsed,
    /// or one not renewed for its whole time to live, is dropped: a leader
    /// then steps down (its appends would fail their compare anyway).
    private func renewLease() async {
        var renewed = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Limits.leaseRenewIntervalMilliseconds))
            guard let lease = state.withLock({ $0.lease }) else {
                renewed = .now
                continue
            }
            let remaining = try? await client.keepAlive(lease: lease)
            if let remaining, remaining > 0 {
                renewed = .now
            } else if remaining == 0 || ContinuousClock.now - renewed >= .seconds(options.leaseSeconds) {
                state.withLock { if $0.lease == lease { $0.lease = nil } }
                wakeup.fire()
            }
        }
    }
}

/// The log as the leader appends to it: each append is one etcd transaction
/// fenced on the leader key's create revision (the term) and on the head's
/// revision, so a deposed leader's append, or a second writer's, fails.
final class EtcdLog: ReplicatedLog {
    private let client: EtcdClient
    private let keys: ClusterKeys
    let term: Int64
    private let wakeup: Wakeup
    /// The head key's revision after the last append: the next append's compare.
    let headRevision: Mutex<Int64>
    private let failure = Atomic<Bool>(false)

    init(client: EtcdClient, keys: ClusterKeys, term: Int64, head: (sequence: UInt64, revision: Int64), wakeup: Wakeup) {
        self.client = client
        self.keys = keys
        self.term = term
        self.wakeup = wakeup
        headRevision = Mutex(head.revision)
    }

    /// An append failed: this log takes no more.
    var failed: Bool { failure.load(ordering: .acquiring) }

    func append(_ entry: [UInt8], sequence: UInt64) -> any LogAppend {
        guard !failed else { return FinishedAppend(FulcrumError(.notLeader, "this replica no longer leads; retry at the new leader")) }
        var transaction = Txn()
        transaction.compares = [(keys.leader, .create, term), (keys.head, .mod, headRevision.withLock { $0 })]
        transaction.success = [
            .put(key: keys.log(sequence), value: entry, lease: nil), .put(key: keys.head, value: Array(String(sequence).utf8), lease: nil),
        ]
        return Append(log: self, call: client.startTxn(transaction, timeoutMilliseconds: Limits.logAppendTimeoutMilliseconds))
    }

    /// One append in flight; its answer moves the head the next append is fenced on.
    struct Append: LogAppend {
        let log: EtcdLog
        let call: EtcdClient.StartedTxn

        func wait() throws(FulcrumError) {
            let response: TxnResponse
            do {
                response = try call.wait()
            } catch {
                log.fail()
                throw FulcrumError(
                    .unavailable, "the log append's outcome is unknown (\(error.message)); retry with the same idempotency key")
            }
            guard response.succeeded == true else {
                log.fail()
                throw FulcrumError(.notLeader, "this replica lost its leadership (term \(log.term)); retry at the new leader")
            }
            log.headRevision.withLock { $0 = response.header?.revisionNumber ?? 0 }
        }
    }

    private func fail() {
        failure.store(true, ordering: .releasing)
        wakeup.fire()
    }
}

/// The keys of one cluster, all under `/fulcrum/<cluster>/`.
struct ClusterKeys: Sendable {
    let prefix: [UInt8]
    let leader: [UInt8]
    let head: [UInt8]
    let format: [UInt8]
    let logStart: [UInt8]
    let logEnd: [UInt8]
    let appliedPrefix: [UInt8]

    init(cluster: String) {
        prefix = Array("/fulcrum/\(cluster)/".utf8)
        leader = prefix + Array("leader".utf8)
        head = prefix + Array("head".utf8)
        format = prefix + Array("format".utf8)
        logStart = prefix + Array("log/".utf8)
        logEnd = Self.end(of: logStart)
        appliedPrefix = prefix + Array("applied/".utf8)
    }

    /// `log/` and the sequence in 20 digits, so that key order is log order.
    func log(_ sequence: UInt64) -> [UInt8] {
        let digits = String(sequence)
        return logStart + Array((String(repeating: "0", count: 20 - digits.count) + digits).utf8)
    }

    /// The sequence a `log(_:)` key names; nil for another key.
    func sequence(_ key: [UInt8]) -> UInt64? {
        guard key.starts(with: logStart) else { return nil }
        return UInt64(String(decoding: key.dropFirst(logStart.count), as: UTF8.self))
    }

    func applied(_ name: String) -> [UInt8] { appliedPrefix + Array(name.utf8) }

    /// The first key after every key starting with `prefix` (etcd's range end for a prefix).
    static func end(of prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}

/// Wakes one waiting loop: fired by watches, failed appends and lapsed leases;
/// a wait also ends after its timeout. A fire with no one waiting is kept for the next wait.
final class Wakeup: Sendable {
    private struct State {
        var fired = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.fired = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(milliseconds: Int) async {
        let timer = Task { [self] in
            try? await Task.sleep(for: .milliseconds(milliseconds))
            if !Task.isCancelled { fire() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.fired {
                    state.fired = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
    }
}
