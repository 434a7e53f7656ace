import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumReplication
import Logging

/// How a replica joins its cluster (front ends name it through the service).
public typealias ClusterOptions = FulcrumReplication.ClusterOptions
/// A replica's view of its cluster.
public typealias ReplicaStatus = FulcrumReplication.ReplicaStatus

/// The service as a replica of a cluster (`fulcrumd serve --cluster --etcd`):
/// every replica serves reads from its own ledger; the leader takes writes
/// and runs the journeys; a follower answers writes with `not_leader`.
extension Service {
    /// Joins the cluster `options` names; the ledger must have been opened as
    /// a replica (`LedgerOptions.replica`). Returns once this replica has
    /// applied the log to its head; it campaigns and follows from then on.
    /// A ledger written outside the cluster is refused (it would diverge from the log).
    public func joinCluster(_ options: ClusterOptions, logger: Logger) async throws(FulcrumError) {
        guard case .follower = ledger.role else {
            preconditionFailure("joinCluster needs a ledger opened with LedgerOptions.replica")
        }
        if ledger.appliedSequence == 0, try counts().entries > 0 {
            throw FulcrumError(
                .invalidArgument,
                "the data directory holds a ledger written outside cluster \(options.cluster): a replica starts empty and takes the cluster's log",
                path: "data")
        }
        let replica = try await Replica.join(
            ledger: ledger, options: options, logger: logger,
            onApplied: { [weak self] in self?.forgetLedgerCaches() },
            onLeadership: { [weak self] leading in await self?.leadershipChanged(leading, logger: logger) })
        replication.withLock { $0 = replica }
    }

    /// Starts a new, wiped or long-stopped replica's data directory from a
    /// peer's snapshot when the cluster's log no longer reaches it (the
    /// leader trimmed the entries it would need): `download` fetches the
    /// snapshot from the address given into the file given (the snapshot
    /// RPC) and answers its log position. The copy is verified before it
    /// replaces what the directory held. Answers the peer and position, or
    /// nil when the log reaches the directory (nothing is changed). A
    /// directory holding a ledger written outside a cluster is left alone
    /// (`joinCluster` refuses it). Call before opening the directory.
    public static func bootstrap(
        directory: String, options: ClusterOptions,
        download: (_ source: String, _ file: String) async throws(FulcrumError) -> UInt64
    ) async throws(FulcrumError) -> (source: String, position: UInt64)? {
        let partial = directory + "/snapshot.partial"
        try? FileManager.default.removeItem(atPath: partial)  // an interrupted download
        let current = try LedgerBackup.position(directory: directory)
        if let current, current.applied == 0 && current.holdsEntries { return nil }
        guard let source = try await Replica.snapshotSource(options: options, applied: current?.applied ?? 0) else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch {
            throw FulcrumError(.storage, "cannot create \(partial): \(error)", path: "data")
        }
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let position = try await download(source, partial + "/data.mdb")
        guard position > (current?.applied ?? 0) else {
            throw FulcrumError(
                .unavailable, "the snapshot of \(source) holds entry \(position), no further than this replica's \(current?.applied ?? 0)",
                path: "cluster")
        }
        let report = try LedgerVerifier.verify(directory: partial, checksums: true)
        guard report.isConsistent else {
            throw FulcrumError(
                .corrupt, "the snapshot of \(source) fails its refold: \(report.mismatches.prefix(3).joined(separator: "; "))",
                path: "cluster")
        }
        try LedgerBackup.install(partial + "/data.mdb", into: directory)
        return (source, position)
    }

    /// This replica's view of its cluster; nil for a single node.
    public var replicaStatus: ReplicaStatus? { replication.withLock { $0 }?.status }

    /// Every replica's published position (name → applied), read from etcd.
    public func replicaPositions() async throws(FulcrumError) -> [String: UInt64] {
        guard let replica = replication.withLock({ $0 }) else { return [:] }
        return try await replica.positions()
    }

    /// Leaves the cluster (at shutdown): a leader hands its leadership on at once.
    public func leaveCluster() async {
        guard let replica = replication.withLock({ $0 }) else { return }
        await replica.stop()
    }

    /// A digest of every stored key and value but the replica's own position:
    /// equal on replicas that applied the same log.
    public func digest() throws(FulcrumError) -> String { try ledger.digest() }

    /// The same for the ledger in `directory` (which may be in use): `fulcrum verify --digest`.
    public static func digest(directory: String) throws(FulcrumError) -> String {
        try LedgerDigest.digest(directory: directory)
    }

    /// Each database's digest by name, to name the store where two replicas differ.
    public static func databaseDigests(directory: String) throws(FulcrumError) -> [String: String] {
        try LedgerDigest.databaseDigests(directory: directory)
    }

    /// The last log entry this replica applied (0 on a single node): what a
    /// write's answer carries, read after the write, so at or after its entry.
    public var logPosition: UInt64 { ledger.appliedSequence }

    /// Returns once this replica applied the log through `position`, for a
    /// read that must see a write answered at that position (read-your-writes);
    /// `stale` after `Limits.readPositionWaitMilliseconds`.
    /// A single node has no log: a position past 0 is `invalid_argument`.
    public func waitForLogPosition(_ position: UInt64) async throws(FulcrumError) {
        guard position == 0 || replicaStatus != nil else {
            throw FulcrumError(
                .invalidArgument, "this is a single node, not a replica of a cluster: its log position is always 0", path: "min_position")
        }
        let deadline = ContinuousClock.now + .milliseconds(Limits.readPositionWaitMilliseconds)
        while ledger.appliedSequence < position {
            guard ContinuousClock.now < deadline else {
                throw FulcrumError(
                    .stale,
                    "this replica applied the log to entry \(ledger.appliedSequence), not \(position), within \(Limits.readPositionWaitMilliseconds) ms: retry, or read from the leader",
                    path: "min_position")
            }
            try? await Task.sleep(for: .milliseconds(Limits.readPositionPollMilliseconds))
        }
    }

    /// A compacted copy of the ledger, in chunks, for a new or wiped replica
    /// to start from (the snapshot RPC): with `snapshot` nil, makes a copy
    /// (a blocking disk copy: call it off the event loop) and answers its
    /// first chunk; else the chunk of that copy from `offset`.
    public func snapshot(_ snapshot: String?, offset: UInt64) throws(FulcrumError) -> SnapshotChunk {
        guard let snapshot else { return try snapshots.make(from: ledger) }
        return try snapshots.chunk(snapshot, offset: offset)
    }

    /// Caches read from the ledger (the catalogue, the live network) are read
    /// again once the log changed what they hold.
    func forgetLedgerCaches() {
        catalogueTable.withLock { $0 = nil }
        nodeSettingsTable.withLock { $0 = nil }
    }

    private func leadershipChanged(_ leading: Bool, logger: Logger) async {
        forgetLedgerCaches()
        guard leading else {
            orchestration.withLock { $0 = nil }
            return
        }
        do {
            try await runJourneys()
        } catch {
            logger.error("the journeys did not start on the new leader: \(error)")
        }
    }
}
