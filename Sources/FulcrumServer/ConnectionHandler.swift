import Dispatch
import FulcrumCore
import FulcrumWire
import Logging
import NIOCore

/// One client connection: checks the token and the in-flight limit, routes
/// each frame, and writes the answers. Answers made while frames are being
/// read are flushed once at the end of the read, so pipelined requests cost
/// one write system call per batch; so are answers that other threads
/// complete together (see `AnswerQueue`).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private let router: Router
    private let configuration: RPCServer.Configuration
    private let state: ServerState
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// The digest of the token this connection's Hello presented (empty
    /// when none is required); nil until then. Checked against the current
    /// tokens on every request, so a revoked token stops at its next one.
    private var digest: [UInt8]?
    private var authenticated: Bool { digest != nil }
    private var requestsInFlight = 0 {
        didSet { ticket?.inFlight.store(requestsInFlight, ordering: .relaxed) }
    }
    /// Writes wait for one flush while frames are read or a batch of answers is written.
    private var reading = false
    private var holdingFlush = false
    private var flushPending = false
    /// This connection's event loop's answers from other threads.
    private let answers: AnswerQueue
    /// This connection's place among the open ones; nil once closed.
    private var ticket: ConnectionTable.Ticket?
    /// The Hello deadline or the next idle check.
    private var deadline: Scheduled<Void>?
    /// Set once the connection is being closed for cause: later frames are ignored.
    private var refused = false

    init(
        router: Router, configuration: RPCServer.Configuration, state: ServerState, answers: AnswerQueue, logger: Logger
    ) {
        self.router = router
        self.answers = answers
        self.configuration = configuration
        self.state = state
        self.logger = logger
        digest = configuration.access.table.required ? nil : []
    }

    func handlerAdded(context: ChannelHandlerContext) {
        assert(context.eventLoop === answers.eventLoop, "a connection's answers are queued for its own event loop")
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        ticket = state.connections.open { channel.close(promise: nil) }
        state.register(channel)
        if authenticated {
            admit(context)
        } else {
            // Room among the unauthenticated is only lent: Hello must come in time.
            deadline = context.eventLoop.scheduleTask(in: .milliseconds(configuration.helloTimeoutMilliseconds)) {
                [weak self] in
                guard let self, !self.authenticated else { return }
                channel.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let ticket { state.connections.closed(ticket) }
        ticket = nil
        state.unregister(context.channel)
        context.fireChannelInactive()
    }

    /// Moves this connection among the admitted, or refuses it when all of them are busy;
    /// then watches it for idleness.
    private func admit(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        guard let ticket, state.connections.admit(ticket) else {
            let budget = configuration.connectionsMax
            refuse(context, FulcrumError(.overloaded, "the server's \(budget) connections are all busy"))
            return
        }
        scheduleIdleCheck(context, after: configuration.idleTimeoutMilliseconds)
    }

    /// Closes the connection once it has gone `idleTimeoutMilliseconds`
    /// without a complete frame and with nothing in flight.
    private func scheduleIdleCheck(_ context: ChannelHandlerContext, after milliseconds: Int64) {
        let channel = context.channel
        let loop = NIOLoopBound(self, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
            let handler = loop.value
            guard let ticket = handler.ticket, let context = handler.context else { return }
            let idle = Int64((DispatchTime.now().uptimeNanoseconds - ticket.lastActiveNanoseconds.load(ordering: .relaxed)) / 1_000_000)
            let timeout = handler.configuration.idleTimeoutMilliseconds
            if handler.requestsInFlight == 0 && idle >= timeout {
                channel.close(promise: nil)
            } else {
                handler.scheduleIdleCheck(context, after: max(1, timeout - idle))
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !refused else { return }
        ticket?.touch()
        state.requests.wrappingAdd(1, ordering: .relaxed)
        reading = true
        if !frame.flags.isEmpty {
            answer(frame, FulcrumError(.invalidArgument, "requests carry no flags", path: "flags"))
        } else if frame.opcode == .hello {
            hello(context, frame)
        } else if !authenticated {
            refuse(context, FulcrumError(.unauthenticated, "send Hello with the server's token first"), frame: frame)
        } else if state.draining.load(ordering: .relaxed) {
            answer(frame, FulcrumError(.unavailable, "the server is shutting down"))
        } else if requestsInFlight >= configuration.requestsInFlightMax {
            answer(frame, FulcrumError(.overloaded, "\(requestsInFlight) requests in flight on this connection"))
        } else {
            let grant: Grant
            do {
                grant = try configuration.access.authenticate(digest: digest!)
            } catch {
                logger.warning("closing the connection of \(remote(context)): its token was revoked")
                return refuse(context, error, frame: frame)
            }
            if let scope = frame.opcode.scope {
                do {
                    try grant.check(scope, for: frame.opcode.description)
                } catch {
                    return answer(frame, error)
                }
            }
            requestsInFlight += 1
            state.requestsInFlight.wrappingAdd(1, ordering: .relaxed)
            let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
            let caller = Caller(token: grant.name, request: "rpc:\(ticket?.number ?? 0)/\(frame.requestID)")
            router.route(
                frame,
                Responder(
                    connection: connection, answers: answers, requestID: frame.requestID, opcode: frame.opcode,
                    arrivedNanoseconds: DispatchTime.now().uptimeNanoseconds),
                caller: caller)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        flushIfPending()
        context.fireChannelReadComplete()
    }

    /// Holds this connection's flush while a batch of answers is written;
    /// false when it is already held by this batch.
    func holdFlush() -> Bool {
        guard !holdingFlush else { return false }
        holdingFlush = true
        return true
    }

    /// Ends `holdFlush`: one flush for the batch's answers.
    func releaseFlush() {
        assert(holdingFlush && !reading, "a batch of answers is written outside a read")
        holdingFlush = false
        flushIfPending()
    }

    private func flushIfPending() {
        guard flushPending else { return }
        flushPending = false
        context?.flush()
    }

    private func remote(_ context: ChannelHandlerContext) -> String {
        context.remoteAddress.map { "\($0)" } ?? "a client"
    }

    /// A malformed stream (bad magic, oversized length, truncated frame)
    /// closes this connection only.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let remote = context.remoteAddress.map { "\($0)" } ?? "unknown peer"
        if let error = error as? FrameError {
            logger.warning("closing the connection of \(remote): \(error)")
        } else {
            logger.info("closing the connection of \(remote): \(error)")
        }
        context.close(promise: nil)
    }

    /// Answers a routed request; called on the event loop by its `Responder`.
    func finish(requestID: UInt32, opcode: Opcode, arrivedNanoseconds: UInt64, result: Result<ByteBuffer, FulcrumError>) {
        requestsInFlight -= 1
        state.requestsInFlight.wrappingSubtract(1, ordering: .relaxed)
        precondition(requestsInFlight >= 0, "each request is answered once")
        var failed = false
        if case .failure = result { failed = true }
        state.metrics.record(
            opcode.description, failed: failed, nanoseconds: DispatchTime.now().uptimeNanoseconds - arrivedNanoseconds)
        write(requestID: requestID, opcode: opcode, result: result)
    }

    private func answer(_ frame: Frame, _ error: FulcrumError) {
        state.metrics.record(frame.opcode.description, failed: true, nanoseconds: nil)
        write(requestID: frame.requestID, opcode: frame.opcode, result: .failure(error))
    }

    private func write(requestID: UInt32, opcode: Opcode, result: Result<ByteBuffer, FulcrumError>) {
        guard let context else { return }  // the connection closed before the answer
        let frame: Frame
        switch result {
        case .success(let payload):
            frame = Frame(opcode: opcode, requestID: requestID, flags: .response, payload: payload)
        case .failure(let error):
            state.requestsFailed.wrappingAdd(1, ordering: .relaxed)
            frame = Frame(opcode: opcode, requestID: requestID, flags: [.response, .error], payload: error.wire.payload())
        }
        context.write(wrapOutboundOut(frame), promise: nil)
        if reading || holdingFlush {
            flushPending = true
        } else {
            context.flush()
        }
    }

    private func hello(_ context: ChannelHandlerContext, _ frame: Frame) {
        let request: Fulcrum_V1_HelloRequest
        do {
            request = try Fulcrum_V1_HelloRequest(payload: frame.payload)
        } catch {
            return refuse(context, error, frame: frame)
        }
        if configuration.access.table.required {
            let presented = TokenTable.digest(of: request.token)
            guard (try? configuration.access.authenticate(digest: presented)) != nil else {
                logger.warning("refusing \(remote(context)): wrong token")
                return refuse(context, FulcrumError(.unauthenticated, "wrong token", path: "token"), frame: frame)
            }
            let first = digest == nil
            digest = presented
            guard first else { return answerHello(frame) }  // a second Hello may switch tokens
        } else if digest == nil {
            digest = []
        }
        admit(context)
        guard !refused else { return }
        answerHello(frame)
    }

    private func answerHello(_ frame: Frame) {
        let response = Fulcrum_V1_HelloResponse.with {
            $0.protocolVersion = UInt32(Frame.version)
            $0.server = "fulcrumd \(FulcrumVersion.string)"
        }
        write(requestID: frame.requestID, opcode: .hello, result: .success(response.payload()))
    }

    /// Answers with `error` and closes the connection once it is written.
    private func refuse(_ context: ChannelHandlerContext, _ error: FulcrumError, frame: Frame? = nil) {
        refused = true
        let answer = Frame(
            opcode: frame?.opcode ?? .hello, requestID: frame?.requestID ?? 0, flags: [.response, .error],
            payload: error.wire.payload())
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in
            // Half-close first: closing with the client's frames unread would
            // reset the connection, and a reset can discard this answer before
            // the client reads it. The client closes on reading it; a client
            // that does not is closed after a grace period.
            let closed = channel.eventLoop.makePromise(of: Void.self)
            closed.futureResult.whenFailure { _ in channel.close(promise: nil) }
            channel.close(mode: .output, promise: closed)
            channel.eventLoop.scheduleTask(in: .milliseconds(Self.refusalGraceMilliseconds)) { channel.close(promise: nil) }
        }
    }

    /// How long a refused connection may stay half-open for its client to read why.
    static let refusalGraceMilliseconds: Int64 = 2_000
}
