import FulcrumCore
import FulcrumWire
import NIOCore
import Synchronization

/// A request on its way out, with the promise its answer completes.
struct PendingCall {
    var opcode: Opcode
    var payload: ByteBuffer
    var promise: EventLoopPromise<ByteBuffer>
    /// Fail with `unavailable` when no answer came by then; nil: wait as long as the connection lives.
    var timeoutMilliseconds: Int64?
}

/// Why the server refused a connection (an error frame with request id 0).
/// It may arrive, and the connection close, before the first request is
/// written: requests fail with it rather than with a bare "connection closed".
final class ConnectionRefusal: Sendable {
    private let stored = Mutex<FulcrumError?>(nil)
    var error: FulcrumError? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

/// Numbers outgoing requests and matches answers to them by request id, so
/// many requests can be in flight and answered in any order.
final class ClientHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = PendingCall
    typealias OutboundOut = Frame

    private var nextRequestID: UInt32 = 1
    private var pending: [UInt32: EventLoopPromise<ByteBuffer>] = [:]
    private let refusal: ConnectionRefusal

    init(refusal: ConnectionRefusal) {
        self.refusal = refusal
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        if let refusal = refusal.error {
            call.promise.fail(refusal)
            promise?.succeed()
            return
        }
        let requestID = nextRequestID
        nextRequestID &+= 1
        if nextRequestID == 0 { nextRequestID = 1 }
        precondition(pending[requestID] == nil, "request ids wrap only after 4 billion requests")
        pending[requestID] = call.promise
        if let timeout = call.timeoutMilliseconds {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let expiry = context.eventLoop.scheduleTask(in: .milliseconds(timeout)) {
                // Forgotten here, a late answer is dropped like any unknown request id.
                handler.value.pending.removeValue(forKey: requestID)?.fail(FulcrumError(
                    .unavailable,
                    "fulcrumd did not answer within \(timeout) ms (the request may have been applied: "
                        + "retry with an idempotency key)", path: "server"))
            }
            call.promise.futureResult.whenComplete { _ in expiry.cancel() }
        }
        context.write(wrapOutboundOut(Frame(opcode: call.opcode, requestID: requestID, payload: call.payload)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let promise = pending.removeValue(forKey: frame.requestID) else {
            if frame.requestID == 0, frame.flags.contains(.error) {
                // The server refused the connection itself (too many connections).
                let refusal = error(of: frame)
                self.refusal.error = refusal
                failAll(refusal)
            }
            return
        }
        if frame.flags.contains(.error) {
            promise.fail(error(of: frame))
        } else {
            promise.succeed(frame.payload)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(refusal.error ?? FulcrumError(.unavailable, "the connection to the server closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed TLS handshake lands here: it is a refusal, not a shed connection to open again.
        // A TLS record (0x15 alert, 0x16 handshake; version 3.x) where a frame's magic should be.
        let speaksTLS = if case .badMagic(let magic)? = (error as? FrameError)?.reason { [0x1503, 0x1603].contains(magic) } else { false }
        let failure =
            speaksTLS
            ? FulcrumError(.unavailable, "the server speaks TLS: connect with TLS (--ca FILE, the CA of its certificate)", path: "server")
            : FulcrumError(.unavailable, "the connection failed (a TLS handshake, or the network): \(error)", path: "server")
        if refusal.error == nil { refusal.error = failure }
        failAll(failure)
        context.close(promise: nil)
    }

    private func error(of frame: Frame) -> FulcrumError {
        (try? Fulcrum_V1_Error(payload: frame.payload)).map(FulcrumError.init(wire:))
            ?? FulcrumError(.corrupt, "the server's error frame does not decode")
    }

    private func failAll(_ error: FulcrumError) {
        let waiting = pending
        pending.removeAll()
        for promise in waiting.values { promise.fail(error) }
    }
}
