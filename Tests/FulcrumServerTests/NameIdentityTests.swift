import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One identity per name: "é" precomposed (NFC) and decomposed (NFD) are the
/// same node, SKU and order through the binary RPC, the HTTP gateway, every
/// reader, and across a restart of a real fulcrumd.
@Suite struct NameIdentityTests {
    static let nodeNFC = "Montr\u{E9}al"
    static let nodeNFD = "Montre\u{301}al"
    static let skuNFC = "caf\u{E9}-noir"
    static let skuNFD = "cafe\u{301}-noir"
    static let orderNFC = "commande-\u{E9}t\u{E9}"
    static let orderNFD = "commande-e\u{301}te\u{301}"

    private func http(_ address: String, _ method: String, _ path: String, _ body: [String: Any]? = nil) async throws
        -> [String: Any]
    {
        var request = URLRequest(url: URL(string: "http://\(address)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    private func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    /// Available at the node by both spellings, over both protocols, from several connections (several readers).
    private func expectAvailable(_ expected: Int64, rpc: String, http address: String, _ context: String) async throws {
        for _ in 0..<3 {
            let client = try await FulcrumClient.connect(rpc)
            for (node, sku) in [(Self.nodeNFC, Self.skuNFD), (Self.nodeNFD, Self.skuNFC), (Self.nodeNFD, Self.skuNFD)] {
                #expect(try await client.atp(.with { $0.node = node; $0.sku = sku }).available == expected, "\(context) rpc")
                let answer = try await http(address, "GET", "/v1/atp?sku=\(query(sku))&node=\(query(node))")
                #expect(answer["available"] as? Int == Int(expected), "\(context) http \(answer)")
            }
            await client.close()
        }
    }

    @Test func precomposedAndDecomposedAreOneNameEverywhere() async throws {
        #expect(Array(Self.nodeNFC.utf8) != Array(Self.nodeNFD.utf8), "the two spellings differ in bytes")
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var server = try ServerProcess(data: data, arguments: ["--http", "127.0.0.1:0"])
        let client = try await FulcrumClient.connect(server.address)
        _ = try await client.adjust(.with { $0.node = Self.nodeNFC; $0.sku = Self.skuNFC; $0.set = 10 })
        _ = try await http(
            server.httpAddress!, "POST", "/v1/adjust", ["node": Self.nodeNFD, "sku": Self.skuNFD, "delta": 5])
        try await expectAvailable(15, rpc: server.address, http: server.httpAddress!, "before restart")

        _ = try await http(
            server.httpAddress!, "POST", "/v1/reservations",
            ["order": Self.orderNFD, "lines": [["node": Self.nodeNFD, "sku": Self.skuNFC, "quantity": 4]]])
        #expect(try await client.reservation(order: Self.orderNFC).state == "reserved")
        await client.close()
        server.stop()

        server = try ServerProcess(data: data, arguments: ["--http", "127.0.0.1:0"])
        try await expectAvailable(11, rpc: server.address, http: server.httpAddress!, "after restart")
        // A new write in the other spelling after the restart lands on the same position.
        let again = try await FulcrumClient.connect(server.address)
        _ = try await again.adjust(.with { $0.node = Self.nodeNFD; $0.sku = Self.skuNFC; $0.delta = 1 })
        try await expectAvailable(12, rpc: server.address, http: server.httpAddress!, "after a write in NFD")
        let confirmed = try await http(server.httpAddress!, "POST", "/v1/reservations/\(query(Self.orderNFC))/confirm")
        #expect(confirmed["state"] as? String == "confirmed", "\(confirmed)")
        let positions = try await http(server.httpAddress!, "GET", "/v1/positions?limit=10")
        #expect((positions["positions"] as? [Any])?.count == 1, "one position, not two: \(positions)")
        await again.close()
        server.stop()
        let (status, output) = try run(builtExecutable("fulcrum"), ["verify", "--data", data, "--json"])
        #expect(status == 0, "\(output)")
    }
}
