import FulcrumCore
import FulcrumTLS
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import Synchronization

/// One Hummingbird application listening on a socket, started and stopped
/// from async code: what the gateway and the provider shims' webhook
/// receivers run.
public final class HTTPListener: Sendable {
    /// The port it listens on (the one picked when configured with 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts serving `router`; returns once the socket is bound (or throws
    /// `unavailable` naming `path` when it cannot be).
    public static func start<Context: RequestContext>(
        router: Router<Context>, host: String, port: Int, serverName: String, path: String,
        admission: HTTPAdmission = HTTPAdmission(), tls: ServerTLS? = nil, logger: Logger
    ) async throws(FulcrumError) -> HTTPListener where Context.Source == ApplicationRequestContextSource {
        let bound = BoundSignal()
        let table = ConnectionTable(
            budget: .init(pendingMax: admission.pendingConnectionsMax, admittedMax: admission.connectionsMax),
            what: "\(serverName) http", log: { logger.warning("\($0)") })
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                AdmissionHandler(table: table, bodyTimeoutMilliseconds: admission.bodyTimeoutMilliseconds)
            ],
            idleTimeout: .milliseconds(admission.idleTimeoutMilliseconds))
        let server: HTTPServerBuilder =
            if let tls {
                HTTPServerBuilder { responder in
                    ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: http1), tls: tls)
                }
            } else {
                .http1(configuration: http1)
            }
        let application = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in bound.resume(.success(channel.localAddress?.port ?? port)) },
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
        case .success(let port): return HTTPListener(port: port, group: group, task: task)
        case .failure(let error):
            throw FulcrumError(.unavailable, "cannot listen on \(host):\(port): \(error)", path: path)
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

/// Typed errors as HTTP answers: `{"error": {"code", "message", "path"}}`
/// with the status their code calls for.
public enum HTTPErrors {
    public static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: value.rendered)))
    }

    public static func body(_ error: FulcrumError) -> JSON {
        .object([
            "error": .orderedObject([
                ("code", .string(error.code.rawValue)), ("message", .string(error.message)), ("path", .string(error.path)),
            ])
        ])
    }

    /// The error's answer; a 503 (`overloaded`, `unavailable`, `stale`) says when to
    /// try again (`Retry-After`, seconds), as clients and webhook platforms expect.
    public static func response(_ error: FulcrumError) -> Response {
        var response = json(body(error), status: status(of: error.code))
        if response.status == .serviceUnavailable { response.headers[.retryAfter] = String(Limits.retryAfterSeconds) }
        // A follower names its cluster's leader (the error's path): send the request there.
        if error.code == .notLeader, !error.path.isEmpty, let leader = HTTPField.Name("Fulcrum-Leader") {
            response.headers[leader] = error.path
        }
        return response
    }

    public static func status(of code: FulcrumError.Code) -> HTTPResponse.Status {
        switch code {
        case .unauthenticated, .badSignature: .unauthorized
        case .forbidden: .forbidden
        case .notFound, .reservationNotFound, .receiptNotFound: .notFound
        case .insufficientStock, .reservationExists, .receiptExists, .illegalTransition, .idempotencyConflict, .planConflict,
            .duplicateID, .recordConflict:
            .conflict
        case .unmappedValue: .unprocessableContent
        case .payloadTooLarge: .contentTooLarge
        case .notLeader: .misdirectedRequest
        case .methodNotAllowed: .methodNotAllowed
        case .overloaded, .unavailable, .stale: .serviceUnavailable
        case .storage, .corrupt, .solverFailure, .notALedger: .internalServerError
        default: .badRequest
        }
    }

    /// Constant-time comparison: the time taken does not tell how much of a guess was right.
    public static func constantTimeEquals(_ given: some Collection<UInt8>, _ expected: some Collection<UInt8>) -> Bool {
        let given = Array(given)
        let expected = Array(expected)
        var difference = given.count ^ expected.count
        for index in 0..<expected.count { difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0)) }
        return difference == 0
    }
}
