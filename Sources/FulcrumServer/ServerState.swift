import FulcrumCore
import FulcrumService
import FulcrumWire
import Logging
import NIOCore
import Synchronization

/// What the whole server shares across connections: counters for Stats and
/// the drain, and the open channels so a drain can close them.
final class ServerState: Sendable {
    /// Every open connection, by class (see `ConnectionTable`).
    let connections: ConnectionTable
    let requestsInFlight = Atomic<Int>(0)
    let requests = Atomic<UInt64>(0)
    let requestsFailed = Atomic<UInt64>(0)
    let draining = Atomic<Bool>(false)
    let started = NIODeadline.now()
    let metrics = OperationMetrics(protocol: "rpc", operations: Array(Opcode.names.values))
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(configuration: RPCServer.Configuration, logger: Logger) {
        connections = ConnectionTable(
            budget: .init(pendingMax: configuration.unauthenticatedConnectionsMax, admittedMax: configuration.connectionsMax),
            what: "rpc", log: { logger.warning("\($0)") })
    }

    func register(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func unregister(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var openChannels: [any Channel] { channels.withLock { Array($0.values) } }
}
