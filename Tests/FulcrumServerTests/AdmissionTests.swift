import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumTestSupport
import FulcrumWire
import NIOCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Connections that never prove themselves, against a real fulcrumd: they
/// cannot lock out a client with the token, and their deadlines close them.
@Suite(.serialized) struct AdmissionTests {
    static let token = "admission-secret"

    private func send(_ descriptor: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Whether the server has closed this connection (EOF or a reset), without waiting.
    private func closedByServer(_ descriptor: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    }

    /// Waits until every descriptor reads closed, up to `seconds`; returns how many are still open.
    private func waitUntilClosed(_ descriptors: [Int32], seconds: Double) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var open = descriptors
        while !open.isEmpty && Date() < deadline {
            open.removeAll(where: closedByServer)
            try await Task.sleep(for: .milliseconds(50))
        }
        return open.count
    }

    /// Half a frame: the header's first bytes, then nothing.
    private var halfFrame: [UInt8] {
        var buffer = ByteBuffer()
        Frame(opcode: .health, requestID: 1, payload: ByteBuffer()).write(to: &buffer)
        return Array(buffer.readableBytesView.prefix(5))
    }

    @Test func twoThousandSilentRPCConnectionsDoNotLockOutTheToken() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ServerProcess(
            // Deadlines long enough that the token's own Hello beats them on a
            // loaded 2-core machine (1.5 s once closed it before it was read;
            // 5 s once, in a suite run where this test took 96 s instead of 12).
            data: data, arguments: ["--token", Self.token, "--hello-timeout-ms", "10000", "--idle-timeout-ms", "10000"])
        defer { server.stop() }
        let setup = try await FulcrumClient.connect(server.address, token: Self.token)
        _ = try await setup.adjust(.with { $0.node = "DC-1"; $0.sku = "SKU-1"; $0.set = 7 })
        await setup.close()

        // 1,000 that never speak, 1,000 that stop inside their first frame.
        var silent: [Int32] = []
        for index in 0..<2_000 {
            guard let descriptor = connectedSocket(port: server.port) else { continue }
            if index % 2 == 1 { send(descriptor, halfFrame) }
            silent.append(descriptor)
        }
        defer { for descriptor in silent { close(descriptor) } }
        #expect(silent.count == 2_000)

        // The token's client is served throughout, on new connections too.
        for round in 0..<10 {
            let client = try await FulcrumClient.connect(server.address, token: Self.token, requestTimeoutMilliseconds: 5_000)
            #expect(try await client.atp(.with { $0.node = "DC-1"; $0.sku = "SKU-1" }).available == 7, "round \(round)")
            await client.close()
            try await Task.sleep(for: .milliseconds(100))
        }
        // Every silent one is closed: most at once (shed), the rest by the Hello deadline.
        let stillOpen = try await waitUntilClosed(silent, seconds: 30)
        #expect(stillOpen == 0, "\(stillOpen) silent connections outlived the Hello deadline")

        // An authenticated connection that stops inside a frame is closed by the idle timeout.
        let stalled = RawSocketProbe(port: server.port)
        stalled.hello(token: Self.token)
        send(stalled.descriptor, halfFrame)
        #expect(try await waitUntilClosed([stalled.descriptor], seconds: 30) == 0, "a stalled frame outlived the idle timeout")
    }

    @Test func twoThousandSlowlorisHTTPConnectionsDoNotLockOutClients() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ServerProcess(
            data: data,
            arguments: ["--token", Self.token, "--http", "127.0.0.1:0", "--http-idle-timeout-ms", "1500"])
        defer { server.stop() }
        let http = server.httpAddress!
        let httpPort = Int(http.split(separator: ":").last!)!
        let setup = try await FulcrumClient.connect(server.address, token: Self.token)
        _ = try await setup.adjust(.with { $0.node = "DC-1"; $0.sku = "SKU-1"; $0.set = 9 })
        await setup.close()

        var slow: [Int32] = []
        for _ in 0..<2_000 {
            guard let descriptor = connectedSocket(port: httpPort) else { continue }
            send(descriptor, Array("GET /v1/atp?sku=SKU-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8))
            slow.append(descriptor)
        }
        defer { for descriptor in slow { close(descriptor) } }
        #expect(slow.count == 2_000)

        let session = URLSession(configuration: .ephemeral)
        for round in 0..<10 {
            var request = URLRequest(url: URL(string: "http://\(http)/v1/atp?sku=SKU-1&node=DC-1")!)
            request.setValue("Bearer \(Self.token)", forHTTPHeaderField: "Authorization")
            request.timeoutInterval = 5
            let (body, response) = try await session.data(for: request)
            let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "round \(round)")
            #expect(object?["available"] as? Int == 9, "round \(round)")
            try await Task.sleep(for: .milliseconds(100))
        }
        let stillOpen = try await waitUntilClosed(slow, seconds: 10)
        #expect(stillOpen == 0, "\(stillOpen) slowloris connections outlived the header timeout")
    }
}

/// A raw RPC connection that says Hello, for the idle-timeout check.
private final class RawSocketProbe {
    let socket: RawSocket
    var descriptor: Int32 { socket.descriptorForTests }

    init(port: Int) {
        socket = try! RawSocket(port: port)
    }

    func hello(token: String) {
        socket.send(request(.hello, id: 1, Fulcrum_V1_HelloRequest.with { $0.token = token }))
        let answer = socket.readFrame()
        #expect(answer?.flags.contains(.error) == false, "hello answered")
    }
}
