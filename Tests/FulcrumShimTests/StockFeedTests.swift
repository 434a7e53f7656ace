import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumShims
import FulcrumTestSupport
import FulcrumWire
import Testing

/// The stock shim against a real fulcrumd: files and signed webhooks from a
/// WMS or POS, counts reconciled and applied without undoing newer changes.
@Suite(.serialized) struct StockFeedTests {
    private static func set(_ client: FulcrumClient, _ node: String, _ sku: String, _ quantity: Int64) async throws {
        _ = try await client.adjust(.with {
            $0.node = node
            $0.sku = sku
            $0.set = quantity
        })
    }

    private static func onHand(_ client: FulcrumClient, _ node: String, _ sku: String) async throws -> Int64 {
        try await client.atp(.with {
            $0.sku = sku
            $0.node = node
        }).available
    }

    @Test func aLateSnapshotKeepsNewerDeltasAndItsReconciliationNamesEveryDifference() async throws {
        let harness = try await ShimHarness(serverArguments: [])
        let client = harness.client
        try await Self.set(client, "DC-A", "SKU-1", 40)
        try await Self.set(client, "DC-A", "SKU-2", 7)
        try await Self.set(client, "DC-B", "SKU-1", 12)
        try await Task.sleep(for: .milliseconds(30))
        let countedMs = Int64(Date().timeIntervalSince1970 * 1000)
        try await Task.sleep(for: .milliseconds(30))

        let drop = harness.directory + "/stock"
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        // The deltas arrive first; the snapshot taken before them arrives late.
        try """
            {"node": "DC-A", "sku": "SKU-1", "delta": -3, "reason": "damaged"}
            {"node": "DC-A", "sku": "SKU-1", "delta": 10, "reason": "return"}
            """.write(toFile: drop + "/1-deltas.jsonl", atomically: true, encoding: .utf8)
        try """
            node,sku,quantity,as_of_ms,reason
            DC-A,SKU-1,38,\(countedMs),cycle count
            DC-A,SKU-2,5,\(countedMs),cycle count
            DC-B,SKU-1,12,\(countedMs),cycle count
            DC-B,SKU-1,13,\(countedMs),counted again
            DC-B,,4,\(countedMs),
            """.write(toFile: drop + "/2-snapshot.csv", atomically: true, encoding: .utf8)
        let arguments = ["shim", "stock", "--source", "wms-east", "--watch", drop, "--server", harness.server.address, "--once", "--json"]
        let first = try await runDetached(builtExecutable("fulcrum"), arguments, timeoutSeconds: 60)
        #expect(first.output.contains(#"{"files":2,"accepted":5,"duplicate":0,"failed":2}"#), "\(first.output)")

        // 38 counted, and the −3 and +10 applied after the count stand.
        #expect(try await Self.onHand(client, "DC-A", "SKU-1") == 45)
        #expect(try await Self.onHand(client, "DC-A", "SKU-2") == 5)
        #expect(try await Self.onHand(client, "DC-B", "SKU-1") == 12)

        let report = try String(contentsOfFile: drop + "/2-snapshot.csv" + StockFeed.reconciliationSuffix, encoding: .utf8)
        #expect(
            report.split(separator: "\n").map(String.init) == [
                #"{"node":"DC-A","sku":"SKU-1","quantity":38,"ledger_quantity":40,"difference":-2,"as_of_ms":\#(countedMs)}"#,
                #"{"node":"DC-A","sku":"SKU-2","quantity":5,"ledger_quantity":7,"difference":-2,"as_of_ms":\#(countedMs)}"#,
            ], "\(report)")
        let errors = try String(contentsOfFile: drop + "/2-snapshot.csv.errors.jsonl", encoding: .utf8)
        #expect(errors.contains(#""message":"DC-B/SKU-1 is counted twice in this feed","path":"line 5""#), "\(errors)")
        #expect(errors.contains(#""path":"line 6.sku""#), "\(errors)")

        // The source and its reference are on the entries (the audit trail shows them).
        let audit = try await client.audit(limit: 10)
        #expect(audit.contains { $0.subject == "DC-A/SKU-1" && $0.detail.contains("set 38 counted at \(countedMs) from wms-east 2-snapshot.csv") })
        #expect(audit.contains { $0.detail == "delta -3 from wms-east 1-deltas.jsonl (damaged)" })

        // Read again without the checkpoint, the files change nothing.
        try FileManager.default.removeItem(atPath: drop + "/" + FileDrop.checkpointName)
        _ = try await runDetached(builtExecutable("fulcrum"), arguments, timeoutSeconds: 60)
        #expect(try await Self.onHand(client, "DC-A", "SKU-1") == 45)

        // The CLI's reconciliation of a whole node names what the count leaves out.
        try "node,sku,quantity\nDC-A,SKU-1,45\n".write(toFile: harness.directory + "/count.csv", atomically: true, encoding: .utf8)
        let reconciled = try await runDetached(
            builtExecutable("fulcrum"),
            ["reconcile", "--server", harness.server.address, "--counts", harness.directory + "/count.csv", "--node", "DC-A", "--json"],
            timeoutSeconds: 30)
        #expect(
            reconciled.output.contains(
                #"{"differences":[{"node":"DC-A","sku":"SKU-2","quantity":0,"ledger_quantity":5,"difference":-5}],"matched":1}"#),
            "\(reconciled.output)")
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    @Test func signedStockWebhooksApplyOnceAndBadOnesAreRefused() async throws {
        let harness = try await ShimHarness(serverArguments: [])
        let client = harness.client
        try await Self.set(client, "STORE-1", "SKU-1", 20)
        let shim = try ChildProcess(builtExecutable("fulcrum"), [
            "shim", "stock", "--source", "pos", "--listen", "127.0.0.1:0", "--secret", "pos-secret", "--server",
            harness.server.address, "--json",
        ])
        defer { shim.stop() }
        let url = "http://\(shim.first["listening"]!)/webhook"
        func signed(_ body: String, secret: String = "pos-secret") -> [(String, String)] {
            [("X-Fulcrum-Hmac-Sha256", WebhookSignature.hex(Data(body.utf8), secret: secret))]
        }
        let body = """
            {"source_reference": "sale-77", "lines": [
              {"node": "STORE-1", "sku": "SKU-1", "delta": -2, "reason": "sold"},
              {"node": "STORE-1", "sku": "SKU-9", "quantity": 3},
              {"node": "STORE-1", "quantity": 1}
            ]}
            """
        let answer = try await post(url, body: body, headers: signed(body))
        #expect(answer.status == 200, "\(answer.body)")
        #expect(answer.body.contains(#""accepted":2,"failed":1"#), "\(answer.body)")
        #expect(answer.body.contains(#""path":"lines[2].sku""#), "\(answer.body)")
        #expect(answer.body.contains(#"{"node":"STORE-1","sku":"SKU-9","quantity":3,"ledger_quantity":0,"difference":3,"as_of_ms":0}"#), "\(answer.body)")
        #expect(try await Self.onHand(client, "STORE-1", "SKU-1") == 18)

        // A platform's retry of the same body applies nothing twice.
        #expect(try await post(url, body: body, headers: signed(body)).status == 200)
        #expect(try await Self.onHand(client, "STORE-1", "SKU-1") == 18)

        let forged = try await post(url, body: body, headers: signed(body, secret: "wrong"))
        #expect(forged.status == 401 && forged.body.contains("bad_signature"), "\(forged.body)")
        let foreign = #"{"source_reference": "x", "lines": [{"node": "STORE-1", "sku": "SKU-1", "qty": 1}]}"#
        // A body that does not decode is refused whole, at the field's path.
        let refused = try await post(url, body: foreign, headers: signed(foreign))
        #expect(refused.status == 400 && refused.body.contains(#""path":"lines[0].qty""#), "\(refused.body)")
        let broken = #"{"lines": []}"#
        #expect(try await post(url, body: broken, headers: signed(broken)).status == 400)
        #expect(try await Self.onHand(client, "STORE-1", "SKU-1") == 18)
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }
}
