import FulcrumCore
import FulcrumService
import FulcrumTLS
import FulcrumWire
import Logging
import NIOCore
import NIOPosix

/// fulcrumd's binary RPC server over TCP (SwiftNIO): frames in, the service,
/// frames out. See docs/protocol.md for the wire format.
public final class RPCServer: Sendable {
    /// Where to listen and the limits that keep one client from hurting the rest.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 7400
        /// The tokens the server accepts and their scopes; when they are
        /// required, every connection must first send Hello with one.
        public var access = AccessControl(.open)
        /// TLS for every connection when set (reloadable); plaintext otherwise.
        public var tls: ServerTLS?
        public var payloadBytesMax = Limits.framePayloadBytesMax
        public var requestsInFlightMax = Limits.connectionRequestsInFlightMax
        public var connectionsMax = Limits.connectionsMax
        public var unauthenticatedConnectionsMax = Limits.unauthenticatedConnectionsMax
        public var helloTimeoutMilliseconds = Limits.helloTimeoutMilliseconds
        public var idleTimeoutMilliseconds = Limits.connectionIdleTimeoutMilliseconds
        public var eventLoopThreads = System.coreCount
        public init() {}
    }

    public let configuration: Configuration
    /// The address the server listens on (the real port when 0 was asked).
    public let localAddress: SocketAddress
    private let service: Service
    private let state: ServerState
    private let group: MultiThreadedEventLoopGroup
    private let listener: any Channel
    private let logger: Logger

    /// Binds and starts serving; the journeys' operations (opcodes 50–56) answer `unavailable` unless the service runs them.
    public static func start(
        service: Service, configuration: Configuration, logger: Logger
    ) async throws -> RPCServer {
        let state = ServerState(configuration: configuration, logger: logger)
        let router = Router(service: service, state: state)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        let answers = AnswerQueues(group)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = configuration.tls { try pipeline.addHandler(tls.makeHandler()) }
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(payloadBytesMax: configuration.payloadBytesMax)))
                    try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                    try pipeline.addHandler(
                        ConnectionHandler(
                            router: router, configuration: configuration, state: state, answers: answers.queue(of: channel.eventLoop),
                            logger: logger))
                }
            }
        do {
            let listener = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            return RPCServer(
                configuration: configuration, localAddress: listener.localAddress!, service: service, state: state,
                group: group, listener: listener, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(
        configuration: Configuration, localAddress: SocketAddress, service: Service, state: ServerState,
        group: MultiThreadedEventLoopGroup, listener: any Channel, logger: Logger
    ) {
        self.configuration = configuration
        self.localAddress = localAddress
        self.service = service
        self.state = state
        self.group = group
        self.listener = listener
        self.logger = logger
    }

    /// Stops accepting connections, answers new requests `unavailable`, waits
    /// (up to `timeoutMilliseconds`) for the requests in flight to be
    /// answered, then closes every connection and the event loops. The
    /// ledger stays open: its owner closes it after this returns. Calls
    /// after the first return at once.
    public func shutdown(timeoutMilliseconds: Int64 = Limits.drainTimeoutMilliseconds) async {
        guard !state.draining.exchange(true, ordering: .relaxed) else { return }
        try? await listener.close()
        let deadline = NIODeadline.now() + .milliseconds(timeoutMilliseconds)
        while state.requestsInFlight.load(ordering: .relaxed) > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        let abandoned = state.requestsInFlight.load(ordering: .relaxed)
        if abandoned > 0 {
            logger.warning("drain timed out with \(abandoned) requests in flight")
        }
        for channel in state.openChannels {
            try? await channel.close()
        }
        try? await group.shutdownGracefully()
    }

    /// Requests accepted and not yet answered, over all connections.
    public var requestsInFlight: Int { state.requestsInFlight.load(ordering: .relaxed) }
}
