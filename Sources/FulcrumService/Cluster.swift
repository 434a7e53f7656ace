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
