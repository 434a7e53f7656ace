import FulcrumCore
@testable import FulcrumServer
import FulcrumService
import FulcrumTestSupport
import FulcrumWire
import Logging
import NIOCore
import NIOEmbedded
import SwiftProtobuf
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The connection handler on a testing channel (no sockets): the token, the
/// flags rule, draining, and the in-flight bound, frame in, frame out.
@Suite struct ConnectionHandlerTests {
    /// A connected testing channel with a handler over a fresh service.
    static func channel(
        token: String? = nil, requestsInFlightMax: Int = Limits.connectionRequestsInFlightMax, draining: Bool = false,
        flushes: FlushCounter? = nil, answers: ((NIOAsyncTestingEventLoop) -> AnswerQueue)? = nil
    ) async throws -> (NIOAsyncTestingChannel, Service) {
        let service = try Service.open(directory: temporaryDirectory())
        var options = RPCServer.Configuration()
        if let token { options.access = AccessControl(TokenTable(sharedToken: token)) }
        options.requestsInFlightMax = requestsInFlightMax
        let configuration = options
        let state = ServerState(configuration: configuration, logger: Logger(label: "test"))
        state.draining.store(draining, ordering: .relaxed)
        let channel = NIOAsyncTestingChannel()
        let queue = answers?(channel.testingEventLoop) ?? AnswerQueue(eventLoop: channel.testingEventLoop)
        try await channel.testingEventLoop.executeInContext {
            if let flushes { try channel.pipeline.syncOperations.addHandler(flushes) }
            try channel.pipeline.syncOperations.addHandler(
                ConnectionHandler(
                    router: Router(service: service, state: state), configuration: configuration, state: state,
                    answers: queue, logger: Logger(label: "test")))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7400)).get()
        return (channel, service)
    }

    static func frame(_ opcode: Opcode, _ id: UInt32, _ message: some SwiftProtobuf.Message, flags: FrameFlags = []) -> Frame {
        Frame(opcode: opcode, requestID: id, flags: flags, payload: message.payload())
    }

    static func error(_ frame: Frame) throws -> FulcrumError? {
        guard frame.flags.contains(.error) else { return nil }
        let wire = try Fulcrum_V1_Error(payload: frame.payload)
        return FulcrumError(.init(rawValue: wire.code), wire.message, path: wire.path)
    }

    @Test func aTokenIsAskedForBeforeAnythingElse() async throws {
        let (channel, service) = try await Self.channel(token: "s3cret")
        defer { service.close() }
        try await channel.writeInbound(Self.frame(.health, 1, Fulcrum_V1_HealthRequest()))
        let refused = try await channel.waitForOutboundWrite(as: Frame.self)
        let refusal = try Self.error(refused)
        #expect(refused.requestID == 1 && refusal?.code == .unauthenticated)
        // Refused: what follows is ignored, even a Hello with the right token.
        try await channel.writeInbound(Self.frame(.hello, 2, Fulcrum_V1_HelloRequest.with { $0.token = "s3cret" }))
        #expect(try await channel.readOutbound(as: Frame.self) == nil)
    }

    @Test func theRightTokenOpensTheConnectionAndAWrongOneClosesIt() async throws {
        let (channel, service) = try await Self.channel(token: "s3cret")
        defer { service.close() }
        try await channel.writeInbound(Self.frame(.hello, 1, Fulcrum_V1_HelloRequest.with { $0.token = "s3cret" }))
        let hello = try await channel.waitForOutboundWrite(as: Frame.self)
        let greeting = try Fulcrum_V1_HelloResponse(payload: hello.payload)
        #expect(hello.flags == .response && greeting.protocolVersion == 1)
        try await channel.writeInbound(Self.frame(.health, 2, Fulcrum_V1_HealthRequest()))
        let health = try await channel.waitForOutboundWrite(as: Frame.self)
        let status = try Fulcrum_V1_HealthResponse(payload: health.payload)
        #expect(health.requestID == 2 && status.ready)

        let (other, otherService) = try await Self.channel(token: "s3cret")
        defer { otherService.close() }
        try await other.writeInbound(Self.frame(.hello, 1, Fulcrum_V1_HelloRequest.with { $0.token = "guess" }))
        #expect(try Self.error(try await other.waitForOutboundWrite(as: Frame.self)) == FulcrumError(.unauthenticated, "wrong token", path: "token"))
    }

    @Test func requestsCarryNoFlagsAndADrainingServerTakesNoWork() async throws {
        let (channel, service) = try await Self.channel()
        defer { service.close() }
        try await channel.writeInbound(Self.frame(.health, 7, Fulcrum_V1_HealthRequest(), flags: .response))
        #expect(try Self.error(try await channel.waitForOutboundWrite(as: Frame.self))?.path == "flags")

        let (draining, drainingService) = try await Self.channel(draining: true)
        defer { drainingService.close() }
        try await draining.writeInbound(Self.frame(.health, 1, Fulcrum_V1_HealthRequest()))
        #expect(try Self.error(try await draining.waitForOutboundWrite(as: Frame.self))?.code == .unavailable)
    }

    /// Past the bound of requests in flight a request is `overloaded` at once;
    /// those in flight are answered when durable.
    @Test func requestsInFlightAreBounded() async throws {
        let (channel, service) = try await Self.channel(requestsInFlightMax: 2)
        defer { service.close() }
        let frames = (1...3).map { (id: UInt32) in
            Self.frame(.adjust, id, Fulcrum_V1_AdjustRequest.with { $0.node = "N1"; $0.sku = "S\(id)"; $0.set = Int64(id) })
        }
        // One read of three frames: the third finds two in flight.
        try await channel.testingEventLoop.executeInContext {
            for frame in frames { channel.pipeline.fireChannelRead(NIOAny(frame)) }
            channel.pipeline.fireChannelReadComplete()
        }
        var answers: [UInt32: Frame] = [:]
        while answers.count < 3 {
            let frame = try await channel.waitForOutboundWrite(as: Frame.self)
            answers[frame.requestID] = frame
        }
        #expect(try Self.error(answers[3]!)?.code == .overloaded)
        for id: UInt32 in 1...2 {
            #expect(try Fulcrum_V1_PositionResponse(payload: answers[id]!.payload).position.onHand == Int64(id))
        }
    }

    /// Answers the ledger's writer completes together are written by one
    /// task on the connection's loop with one flush, not a flush each.
    @Test func answersCompletedTogetherAreFlushedOnce() async throws {
        let flushes = FlushCounter()
        nonisolated(unsafe) var queue: AnswerQueue?
        let (channel, service) = try await Self.channel(flushes: flushes) { loop in
            queue = AnswerQueue(eventLoop: loop)
            return queue!
        }
        defer { service.close() }
        let answers = queue!
        let frames = (1...3).map { (id: UInt32) in
            Self.frame(.adjust, id, Fulcrum_V1_AdjustRequest.with { $0.node = "N1"; $0.sku = "S\(id)"; $0.set = Int64(id) })
        }
        // The loop is held until the writer has completed all three: they wait in the queue together.
        try await channel.testingEventLoop.executeInContext {
            for frame in frames { channel.pipeline.fireChannelRead(NIOAny(frame)) }
            channel.pipeline.fireChannelReadComplete()
            let deadline = ContinuousClock.now + .seconds(30)
            while answers.waitingCount < 3 && ContinuousClock.now < deadline { usleep(1_000) }
        }
        var ids: [UInt32] = []
        while ids.count < 3 { ids.append(try await channel.waitForOutboundWrite(as: Frame.self).requestID) }
        #expect(ids.sorted() == [1, 2, 3])
        #expect(flushes.count.load(ordering: .relaxed) == 1)
    }
}

/// Counts the flushes that reach the socket's end of the pipeline.
final class FlushCounter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame
    let count = Atomic<Int>(0)

    func flush(context: ChannelHandlerContext) {
        count.wrappingAdd(1, ordering: .relaxed)
        context.flush()
    }
}
