import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumSolver
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// How the HTTP gateway listens and what it accepts.
public struct GatewayConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// When set, every request but health and readiness must carry `Authorization: Bearer TOKEN`.
    public var token: String?
    /// Larger request bodies are refused with 413 `payload_too_large`.
    public var bodyBytesMax = 1 << 20
    /// Served at `/metrics` in Prometheus's text format when set (the
    /// registry behind the process's `MetricsSystem`).
    public var metrics: PrometheusCollectorRegistry?
    public init() {}
}

/// The HTTP/JSON gateway (Hummingbird) over the same `Service` as the binary
/// RPC server: ATP, adjust, reservations, optimize, optimize-and-reserve,
/// health and readiness. Errors are `{"error": {"code", "message", "path"}}`
/// with the status their code calls for.
public final class HTTPGateway: Sendable {
    /// The port it listens on (the one picked when configured with 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts listening; returns once the socket is bound.
    public static func start(service: FulcrumService.Service, configuration: GatewayConfiguration, logger: Logger)
        async throws(FulcrumError) -> HTTPGateway
    {
        let bound = BoundSignal()
        let application = Application(
            router: GatewayRoutes(service: service, configuration: configuration).router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fulcrumd"),
            onServerRunning: { channel in bound.resume(.success(channel.localAddress?.port ?? configuration.port)) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                bound.resume(.failure(error))
                throw error
            }
        }
        switch await bound.value() {
        case .success(let port): return HTTPGateway(port: port, group: group, task: task)
        case .failure(let error):
            throw FulcrumError(.unavailable, "cannot listen on \(configuration.host):\(configuration.port): \(error)", path: "http")
        }
    }

    /// Stops accepting, finishes the requests in flight, and closes.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

/// The first of "bound" or "failed", once.
private final class BoundSignal: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiter: CheckedContinuation<Result<Int, any Error>, Never>?)>((nil, nil))

    func resume(_ result: Result<Int, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<Int, any Error>, Never>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    func value() async -> Result<Int, any Error> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Result<Int, any Error>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
