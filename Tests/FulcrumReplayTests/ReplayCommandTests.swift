import Foundation
import FulcrumTestSupport
import Testing

/// `fulcrum replay` as a user runs it: files written, the HTML checked in a
/// real browser, the same KPIs through a running fulcrumd, errors as JSON.
@Suite(.serialized) struct ReplayCommandTests {
    static let fulcrum = builtExecutable("fulcrum")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let demo = repository + "/scenarios/demo"

    private func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    @Test func writesTheReportsAndTheirChartsShowInABrowser() async throws {
        let out = temporaryDirectory()
        let (status, output) = try await runDetached(
            Self.fulcrum, ["replay", Self.demo, "--compare", "optimal,greedy-nearest", "--out", out, "--json", "--quiet"],
            timeoutSeconds: 300)
        #expect(status == 0)
        let report = try json(output)
        #expect((report["strategies"] as? [Any])?.count == 2)
        let comparison = (report["comparisons"] as! [[String: Any]])[0]
        #expect((comparison["summary"] as! String).hasPrefix("optimal saves"))
        for file in ["report.json", "report.md", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file))
        }
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(markdown.contains("| KPI | optimal | greedy-nearest |"))

        // Headless Chromium renders the page; the screenshot must show every chart.
        let checker = Self.repository + "/scripts/check-report.py"
        let (checked, summary) = try await runDetached("/usr/bin/env", ["python3", checker, out], timeoutSeconds: 180)
        #expect(checked == 0, "\(summary)")
        #expect(try json(summary)["ok"] as? Bool == true)

        // The same check fails on a page without its charts.
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        let stripped = html.replacingOccurrences(of: "<svg[^§]*?</svg>", with: "", options: .regularExpression)
        #expect(stripped != html)
        try stripped.write(toFile: out + "/report.html", atomically: true, encoding: .utf8)
        let (failed, _) = try await runDetached("/usr/bin/env", ["python3", checker, out], timeoutSeconds: 180)
        #expect(failed == 1)
    }

    /// Replaying through fulcrumd gives the KPIs of the embedded replay.
    @Test func aServerReplayMatchesTheEmbeddedOne() async throws {
        let server = try ServerProcess(data: temporaryDirectory())
        defer { server.stop() }
        let embedded = try await runDetached(
            Self.fulcrum, ["replay", Self.demo, "--out", temporaryDirectory(), "--json", "--quiet"], timeoutSeconds: 300)
        let remote = try await runDetached(
            Self.fulcrum, ["replay", Self.demo, "--server", server.address, "--out", temporaryDirectory(), "--json", "--quiet"],
            timeoutSeconds: 600)
        #expect(embedded.status == 0 && remote.status == 0)
        let local = (try json(embedded.output)["strategies"] as! [[String: Any]])[0]
        let served = (try json(remote.output)["strategies"] as! [[String: Any]])[0]
        for key in ["totals", "days", "nodes", "stockouts", "supply", "skus_stocked_out"] {
            #expect(NSDictionary(dictionary: local).value(forKey: key).map { NSArray(object: $0) } == NSDictionary(dictionary: served).value(forKey: key).map { NSArray(object: $0) }, "\(key) differs")
        }
        #expect(local["ledger_verified"] as? Bool == true)
    }

    /// A replay through a live server never changes live stock: its SKUs go
    /// to the server as NAMESPACE/SKU; a namespace an earlier replay used is
    /// refused unless --reset-positions.
    @Test func aServerReplayLeavesLiveStockAlone() async throws {
        let server = try ServerProcess(data: temporaryDirectory(), arguments: ["--demo"])
        defer { server.stop() }
        func live() throws -> String {
            try run(Self.fulcrum, ["atp", "--server", server.address, "--sku", "TEE-BLK-M", "--node", "DC-EAST", "--json"]).output
        }
        let before = try live()
        #expect(before.contains("\"available\""))
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
            version: 1
            name: one-order
            start: "2026-01-05"
            days: 1
            network:
              nodes:
                - {id: DC-EAST, latitude: 40.52, longitude: -74.41}
            catalogue:
              skus: [{id: TEE-BLK-M, weight_kg: 0.3}]
            stock:
              positions:
                - {node: DC-EAST, sku: TEE-BLK-M, on_hand: 4}
            demand:
              orders:
                - {id: O-1, day: 0, time: "10:00", ship_to: {latitude: 40.7, longitude: -74.0}, lines: [{sku: TEE-BLK-M, quantity: 1}]}
            """.write(toFile: directory + "/scenario.yaml", atomically: true, encoding: .utf8)
        let replay = [
            "replay", directory, "--server", server.address, "--namespace", "test-ns", "--out", temporaryDirectory(), "--json", "--quiet",
        ]
        let first = try await runDetached("/bin/sh", ["-c", "\"$0\" \"$@\" 2>&1", Self.fulcrum] + replay, timeoutSeconds: 120)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("namespace 'test-ns': sets 1 positions"), "\(first.output)")
        #expect(try live() == before, "the live position changed")
        let namespaced = try run(Self.fulcrum, ["atp", "--server", server.address, "--sku", "test-ns/TEE-BLK-M", "--node", "DC-EAST", "--json"])
        #expect(namespaced.output.contains("\"available\":3"), "\(namespaced.output)")

        let again = try await runDetached(Self.fulcrum, replay, timeoutSeconds: 120)
        #expect(again.status != 0)
        let error = try json(again.output)["error"] as! [String: Any]
        #expect(error["path"] as? String == "namespace" && (error["message"] as? String)?.contains("already holds 1 positions") == true)
        let reset = try await runDetached(Self.fulcrum, replay + ["--reset-positions"], timeoutSeconds: 120)
        #expect(reset.status == 0, "\(reset.output)")
        #expect(try live() == before)
    }

    @Test func aBadScenarioIsAnErrorNamingTheFileAndLine() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "version: 1\nname: x\nstart: \"2026-01-01\"\ndays: 0\n".write(
            toFile: directory + "/scenario.yaml", atomically: true, encoding: .utf8)
        let (status, output) = try await runDetached(Self.fulcrum, ["replay", directory, "--json", "--quiet"], timeoutSeconds: 60)
        #expect(status != 0)
        let error = try json(output)["error"] as! [String: Any]
        #expect(error["code"] as? String == "invalid_scenario")
        #expect(error["path"] as? String == directory + "/scenario.yaml:4:7: days")
    }
}
