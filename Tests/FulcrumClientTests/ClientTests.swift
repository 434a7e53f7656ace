import FulcrumClient
import FulcrumCore
import FulcrumWire
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// A stand-in server that answers the way a real one may: out of order, with
/// error frames, or by closing the connection. It says hello to any Hello,
/// holds every other request until `window` have arrived, then answers them
/// last-first (health answers carry the request id in `version`), except
/// that opcode `stats` is answered with an `insufficient_stock` error frame
/// and opcode `release` closes the connection.
private final class ScriptedServer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame
    let window: Int
    private var held: [Frame] = []

    init(window: Int) { self.window = window }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .hello:
            context.writeAndFlush(wrapOutboundOut(answer(frame, Fulcrum_V1_HelloResponse())), promise: nil)
        case .stats:
            let error = Fulcrum_V1_Error.with { $0.code = "insufficient_stock"; $0.message = "none left"; $0.path = "lines[0].quantity" }
            context.writeAndFlush(
                wrapOutboundOut(Frame(opcode: frame.opcode, requestID: frame.requestID, flags: [.response, .error], payload: error.payload())),
                promise: nil)
        case .release:
            context.close(promise: nil)
        default:
            held.append(frame)
            guard held.count == window else { return }
            for request in held.reversed() {
                context.write(wrapOutboundOut(answer(request, Fulcrum_V1_HealthResponse.with { $0.version = "\(request.requestID)" })), promise: nil)
            }
            held.removeAll()
            context.flush()
        }
    }

    private func answer(_ request: Frame, _ message: some SwiftProtobuf.Message) -> Frame {
        Frame(opcode: request.opcode, requestID: request.requestID, flags: [.response], payload: message.payload())
    }
}

@Suite struct ClientTests {
    static func serve(window: Int) async throws -> (any Channel, Int) {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(payloadBytesMax: Limits.framePayloadBytesMax)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(ScriptedServer(window: window))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (server, server.localAddress!.port!)
    }

    /// Answers that come back last-first reach the callers that asked, by request id.
    @Test func pipelinedAnswersAreMatchedByRequestID() async throws {
        let (server, port) = try await Self.serve(window: 64)
        defer { server.close(promise: nil) }
        let client = try await FulcrumClient.connect(host: "127.0.0.1", port: port)
        let requests = (0..<64).map { _ in (opcode: Opcode.health, payload: ByteBuffer()) }
        let answers = await client.pipeline(requests)
        let versions = try answers.map { try Fulcrum_V1_HealthResponse(payload: try $0.get()).version }
        // Request ids are handed out in order after the Hello: each caller gets its own answer.
        #expect(versions == versions.sorted { Int($0)! < Int($1)! })
        #expect(Set(versions).count == 64)
        await client.close()
    }

    /// An error frame is the server's typed error, code, message and path as sent.
    @Test func errorFramesAreTypedErrors() async throws {
        let (server, port) = try await Self.serve(window: 1)
        defer { server.close(promise: nil) }
        let client = try await FulcrumClient.connect(host: "127.0.0.1", port: port)
        do {
            _ = try await client.stats()
            Issue.record("an error frame was taken for an answer")
        } catch {
            #expect(error == FulcrumError(.insufficientStock, "none left", path: "lines[0].quantity"))
        }
        await client.close()
    }

    /// A connection that closes fails the calls waiting on it (`unavailable`);
    /// the next call connects again (Hello included) and is answered.
    @Test func aClosedConnectionFailsItsCallsAndTheNextCallReconnects() async throws {
        let (server, port) = try await Self.serve(window: 2)
        defer { server.close(promise: nil) }
        let client = try await FulcrumClient.connect(host: "127.0.0.1", port: port)
        async let waiting = client.health()  // held by the server: never answered
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: FulcrumError.self) { _ = try await client.release(order: "A1") }
        do {
            _ = try await waiting
            Issue.record("a call survived its connection")
        } catch {
            #expect((error as? FulcrumError)?.code == .unavailable, "\(error)")
        }
        let again = await client.pipeline([(opcode: .health, payload: ByteBuffer()), (opcode: .health, payload: ByteBuffer())])
        #expect(again.allSatisfy { if case .success = $0 { true } else { false } }, "\(again)")
        await client.close()
    }

    /// With nobody listening, calls fail at once with `unavailable` and the
    /// client waits out its backoff before trying again; once the server is
    /// there, a call connects by itself.
    @Test func aClientThatStartsFirstConnectsWhenTheServerComes() async throws {
        let (probe, port) = try await Self.serve(window: 1)
        try await probe.close()
        let client = FulcrumClient.connecting(host: "127.0.0.1", port: port)
        do {
            _ = try await client.health()
            Issue.record("answered with nobody listening")
        } catch {
            #expect(error.code == .unavailable && error.path == "server")
        }
        do {
            _ = try await client.health()
            Issue.record("answered with nobody listening")
        } catch {
            #expect(error.message.contains("next attempt in"), "\(error)")  // inside the backoff: no new attempt
        }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(payloadBytesMax: Limits.framePayloadBytesMax)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(ScriptedServer(window: 1))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        defer { server.close(promise: nil) }
        var answered = false
        // Generous: under the full suite on 2 cores, 10 s of backoff and retries once ran out.
        let deadline = ContinuousClock.now + .seconds(60)
        while !answered, ContinuousClock.now < deadline {
            answered = (try? await client.health()) != nil
            if !answered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answered)
        await client.close()
    }

    @Test func nobodyListeningIsUnavailable() async throws {
        let (server, port) = try await Self.serve(window: 1)
        try await server.close()
        do {
            _ = try await FulcrumClient.connect(host: "127.0.0.1", port: port)
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.code == .unavailable && error.path == "server")
        }
    }
}
