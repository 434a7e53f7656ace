import Foundation
import FulcrumCore
import FulcrumService
import FulcrumTLS
import Hummingbird
import Logging
import Prometheus
import FulcrumHTTP

/// How the HTTP gateway listens and what it accepts.
public struct GatewayConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// The tokens and their scopes (shared with the RPC server, so a reload
    /// reaches both); when required, every request but health, readiness
    /// and the page's HTML must carry `Authorization: Bearer TOKEN`.
    public var access = AccessControl(.open)
    /// Larger request bodies are refused with 413 `payload_too_large`.
    public var bodyBytesMax = 1 << 20
    /// Served at `/metrics` in Prometheus's text format when set (the
    /// registry behind the process's `MetricsSystem`).
    public var metrics: PrometheusCollectorRegistry?
    /// TLS for every connection when set (reloadable); plaintext otherwise.
    public var tls: ServerTLS?
    /// Connection cap, slowloris budget, header/idle and body timeouts.
    public var admission = HTTPAdmission()
    public init() {}
}

/// The HTTP/JSON gateway (Hummingbird) over the same `Service` as the binary
/// RPC server: ATP, adjust, reservations, optimize, optimize-and-reserve,
/// health and readiness. Errors are `{"error": {"code", "message", "path"}}`
/// with the status their code calls for.
public final class HTTPGateway: Sendable {
    private let listener: HTTPListener
    /// The port it listens on (the one picked when configured with 0).
    public var port: Int { listener.port }

    private init(listener: HTTPListener) {
        self.listener = listener
    }

    /// Starts listening; returns once the socket is bound.
    /// Orders and their timelines are served when the service runs journeys.
    public static func start(
        service: FulcrumService.Service, configuration: GatewayConfiguration, logger: Logger
    ) async throws(FulcrumError) -> HTTPGateway {
        HTTPGateway(
            listener: try await HTTPListener.start(
                router: GatewayRoutes(service: service, configuration: configuration).router(),
                host: configuration.host,
                port: configuration.port, serverName: "fulcrumd", path: "http", admission: configuration.admission,
                tls: configuration.tls, logger: logger))
    }

    /// Stops accepting, finishes the requests in flight, and closes.
    public func shutdown() async {
        await listener.shutdown()
    }
}
