import FulcrumCore
import NIOHTTPTypes
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// The room and the deadlines of an HTTP listener: a connection cap with a
/// smaller budget for connections still sending their first request's
/// headers (slowloris), a header/idle timeout, and a body timeout.
public struct HTTPAdmission: Sendable {
    public var connectionsMax = Limits.httpConnectionsMax
    public var pendingConnectionsMax = Limits.httpPendingConnectionsMax
    /// Waiting for a request's headers, the first or the next (keep-alive).
    public var idleTimeoutMilliseconds = Limits.httpIdleTimeoutMilliseconds
    /// From a request's headers to the end of its body.
    public var bodyTimeoutMilliseconds = Limits.httpBodyTimeoutMilliseconds
    public init() {}
}

/// Keeps one HTTP connection's place in its listener's `ConnectionTable`:
/// pending until its first request's headers are complete, admitted after;
/// busy while a request is being answered; closed when a body is too slow.
final class AdmissionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let table: ConnectionTable
    private let bodyTimeoutMilliseconds: Int64
    private var ticket: ConnectionTable.Ticket?
    private var admitted = false
    private var inFlight = 0
    private var bodyDeadline: Scheduled<Void>?
    /// A head HTTP could not parse was answered here.
    private var answeredUnparsable = false

    init(table: ConnectionTable, bodyTimeoutMilliseconds: Int64) {
        self.table = table
        self.bodyTimeoutMilliseconds = bodyTimeoutMilliseconds
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        ticket = table.open { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        if let ticket { table.closed(ticket) }
        ticket = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let ticket else { return }
        ticket.touch()
        switch unwrapInboundIn(data) {
        case .head:
            if !admitted {
                admitted = true
                guard table.admit(ticket) else {
                    context.close(promise: nil)
                    return
                }
            }
            inFlight += 1
            ticket.inFlight.store(inFlight, ordering: .relaxed)
            let channel = context.channel
            bodyDeadline = context.eventLoop.scheduleTask(in: .milliseconds(bodyTimeoutMilliseconds)) {
                channel.close(promise: nil)
            }
        case .body:
            break
        case .end:
            bodyDeadline?.cancel()
            bodyDeadline = nil
        }
        context.fireChannelRead(data)
    }

    /// A request line or header HTTP cannot parse is answered here, at once:
    /// the decoder closes the channel as soon as this returns, before
    /// Hummingbird's own (bodiless) 400 can be written from its task (under
    /// load the client saw the connection close with no answer at all).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, inFlight == 0, !answeredUnparsable {
            answeredUnparsable = true
            let error = FulcrumError(
                .invalidArgument, "the request line or a header is not valid HTTP/1.1", path: "headers")
            let body = ByteBuffer(string: HTTPErrors.body(error).rendered)
            let head = HTTPResponse(
                status: .badRequest,
                headerFields: [.connection: "close", .contentType: "application/json", .contentLength: String(body.readableBytes)])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if answeredUnparsable {
            // Hummingbird's answer to the same error, if it gets to write one.
            promise?.succeed(())
            return
        }
        switch unwrapOutboundIn(data) {
        case .end:
            if let ticket, inFlight > 0 {
                inFlight -= 1
                ticket.inFlight.store(inFlight, ordering: .relaxed)
                ticket.touch()
            }
        default:
            break
        }
        context.write(data, promise: promise)
    }
}
