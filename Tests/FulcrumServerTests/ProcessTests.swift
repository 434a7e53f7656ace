import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumTestSupport
import FulcrumWire
import Synchronization
import Testing

/// fulcrumd and fulcrum as real processes: races between CLI processes,
/// kill -9, SIGTERM, and a client in another language.
@Suite struct ProcessTests {
    /// Standard output parsed as one JSON object.
    func object(_ output: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? [:]
    }

    func verify(_ data: String) throws {
        let (status, output) = try run(builtExecutable("fulcrum"), ["verify", "--data", data, "--json"])
        #expect(status == 0, "verify: \(output)")
    }

    /// Starts fulcrumd again on `data`, expects every order reserved (and
    /// whatever `more` checks), stops it cleanly and refolds the ledger.
    func restartAndExpectReserved(
        _ data: String, _ orders: [String], more: (FulcrumClient) async throws -> Void = { _ in }
    ) async throws {
        let restarted = try ServerProcess(data: data)
        let client = try await FulcrumClient.connect(restarted.address)
        for order in orders { #expect(try await client.reservation(order: order).state == "reserved", "\(order)") }
        try await more(client)
        await client.close()
        restarted.stop()
        #expect(restarted.process.terminationStatus == 0)
        try verify(data)
    }

    /// One process per data directory: a second fulcrumd, `fulcrum demo` and
    /// `fulcrum stress` are refused with `locked` naming the holder's pid;
    /// the first serves on; verify and backup (readers) still work; once it
    /// stops, the directory is free again.
    @Test func oneProcessServesADataDirectory() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try ServerProcess(data: data)
        let client = try await FulcrumClient.connect(first.address)
        _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "NEW-1"; $0.set = 5 })
        let pid = first.process.processIdentifier
        let attempts: [[String]] = [
            [builtExecutable("fulcrumd"), "serve", "--data", data, "--listen", "127.0.0.1:0", "--json"],
            [builtExecutable("fulcrum"), "demo", "--data", data],
            [builtExecutable("fulcrum"), "stress", "--data", data, "--commands", "10"],
        ]
        for attempt in attempts {
            // Through a shell, to read the refusal on standard error too.
            let (status, output) = try await runDetached("/bin/sh", ["-c", "\"$0\" \"$@\" 2>&1"] + attempt, timeoutSeconds: 30)
            #expect(status != 0, "\(attempt[1]) was let in: \(output)")
            #expect(output.contains("locked") && output.contains("pid \(pid)"), "\(attempt[1]): \(output)")
        }
        // The first still serves, new SKUs included (a second writer used to break its name table).
        _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "NEW-2"; $0.set = 6 })
        #expect(try await client.atp(.with { $0.sku = "NEW-2"; $0.node = "DC-1" }).available == 6)
        try verify(data)
        let (backupStatus, backupOutput) = try run(builtExecutable("fulcrum"), ["backup", "--data", data, "--to", temporaryDirectory() + "/copy"])
        #expect(backupStatus == 0, "\(backupOutput)")
        await client.close()
        first.stop()
        let second = try ServerProcess(data: data)
        second.stop()
        #expect(second.process.terminationStatus == 0)
    }

    /// 200 `fulcrum reserve` processes at once for 10 units: exactly 10 win,
    /// the rest get `insufficient_stock`, ATP is 0 and the ledger refolds.
    @Test func twoHundredProcessesRaceForTenUnits() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ServerProcess(data: data)
        let client = try await FulcrumClient.connect(server.address)
        _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "HOT"; $0.set = 10 })

        var shoppers: [(Process, Pipe)] = []
        for index in 0..<200 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: builtExecutable("fulcrum"))
            process.arguments = [
                "reserve", "--server", server.address, "--order", "SHOPPER-\(index)", "--line", "DC-1:HOT:1", "--json",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            shoppers.append((process, output))
        }
        var winners: [String] = []
        var refusals: [String: Int] = [:]
        for (index, (process, output)) in shoppers.enumerated() {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if process.terminationStatus == 0 {
                #expect(object(text)["state"] as? String == "reserved", "\(text)")
                winners.append("SHOPPER-\(index)")
            } else {
                let code = (object(text)["error"] as? [String: Any])?["code"] as? String ?? text
                refusals[code, default: 0] += 1
            }
        }
        #expect(winners.count == 10)
        #expect(refusals == ["insufficient_stock": 190])
        #expect(try await client.atp(.with { $0.sku = "HOT"; $0.node = "DC-1" }).available == 0)
        for order in winners { #expect(try await client.reservation(order: order).lines.first?.quantity == 1) }
        await client.close()
        server.stop()
        #expect(server.process.terminationStatus == 0)
        try verify(data)
    }

    /// Reservations acknowledged before a kill -9 of fulcrumd are all there
    /// after a restart on the same directory, and the ledger refolds.
    @Test func acknowledgedReservationsSurviveKill9() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        for round in 0..<2 {
            let server = try ServerProcess(data: data)
            let setup = try await FulcrumClient.connect(server.address)
            _ = try await setup.adjust(.with { $0.node = "DC-1"; $0.sku = "S"; $0.delta = 1_000_000 })
            let acknowledged = Acknowledged()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    let client = try await FulcrumClient.connect(server.address)
                    group.addTask {
                        var sequence = 0
                        while true {
                            let order = "R\(round)-W\(worker)-\(sequence)"
                            sequence += 1
                            do {
                                _ = try await client.reserve(.with {
                                    $0.order = order
                                    $0.lines = [.with { $0.node = "DC-1"; $0.sku = "S"; $0.quantity = 1 }]
                                })
                            } catch {
                                break  // the server died: this reservation was not acknowledged
                            }
                            acknowledged.append(order)
                        }
                        await client.close()
                    }
                }
                let deadline = ContinuousClock.now + .seconds(30)
                while acknowledged.orders.count < 400, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(acknowledged.orders.count >= 400)
                server.stop(SIGKILL)
                try await group.waitForAll()
            }
            await setup.close()

            let orders = acknowledged.orders
            try await restartAndExpectReserved(data, orders) { client in
                let position = try await client.atp(.with { $0.sku = "S"; $0.node = "DC-1" })
                #expect(position.available <= Int64(1_000_000 * (round + 1)) - Int64(orders.count))
            }
        }
    }

    /// SIGTERM: requests in flight are answered (or `unavailable`), the
    /// process says "stopped" and exits 0, and every acknowledged
    /// reservation is on disk.
    @Test func sigtermDrainsAndClosesCleanly() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ServerProcess(data: data)
        let client = try await FulcrumClient.connect(server.address)
        _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "S"; $0.set = 100_000 })
        let requests = (0..<5_000).map { index in
            (opcode: Opcode.reserve, payload: Fulcrum_V1_ReserveRequest.with {
                $0.order = "T\(index)"
                $0.lines = [.with { $0.node = "DC-1"; $0.sku = "S"; $0.quantity = 1 }]
            }.payload())
        }
        async let answers = client.pipeline(requests)
        try await Task.sleep(for: .milliseconds(20))
        kill(server.process.processIdentifier, SIGTERM)
        let acknowledged = await answers.enumerated().compactMap { index, answer -> String? in
            if case .success = answer { return "T\(index)" }
            return nil
        }
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(server.output.completeLines().contains { object($0)["stopped"] != nil })
        await client.close()

        try await restartAndExpectReserved(data, acknowledged)
    }

    /// A stopped fulcrumd (SIGSTOP) does not hang the CLI: `--timeout-ms`
    /// ends the call with `unavailable` and exit 2; once the server runs
    /// again, the same command is answered.
    @Test func aStoppedServerTimesTheCLIOut() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ServerProcess(data: data)
        let fulcrum = builtExecutable("fulcrum")
        kill(server.process.processIdentifier, SIGSTOP)
        // A CLI that hangs is killed at 30 s (status 9), failing the test; no timing beyond that.
        let stalled = try await runDetached(fulcrum, ["stats", "--server", server.address, "--timeout-ms", "500", "--json"], timeoutSeconds: 30)
        kill(server.process.processIdentifier, SIGCONT)
        let error = object(stalled.output)["error"] as? [String: Any]
        #expect(stalled.status == 2 && error?["code"] as? String == "unavailable", "\(stalled)")
        let answered = try run(fulcrum, ["stats", "--server", server.address, "--timeout-ms", "5000", "--json"])
        #expect(answered.status == 0 && object(answered.output)["ready"] as? Bool == true, "\(answered)")
        server.stop()
        #expect(server.process.terminationStatus == 0)
    }

    /// `fulcrum generate --network` feeds `fulcrumd --network`; the CLI
    /// optimizes and reserves an order that names no nodes, and `fulcrum
    /// stats` counts it. A network file with a bad node stops fulcrumd at
    /// start with a typed error naming the file and the field.
    @Test func networkFileOptimizeAndStatsFromTheCLI() async throws {
        let data = temporaryDirectory()
        let networkFile = data + "-network.json"
        defer {
            for path in [data, networkFile, data + "-bad", data + "-bad.json"] { try? FileManager.default.removeItem(atPath: path) }
        }
        let fulcrum = builtExecutable("fulcrum")
        let generated = try run(fulcrum, ["generate", "--network", "--seed", "3", "--nodes", "12", "--skus", "10"])
        #expect(generated.status == 0)
        try generated.output.write(toFile: networkFile, atomically: true, encoding: .utf8)
        let nodes = (object(generated.output)["nodes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(nodes.count == 12)

        let server = try ServerProcess(data: data, arguments: ["--network", networkFile])
        let adjusted = try run(fulcrum, ["adjust", "--server", server.address, "--node", nodes[0], "--sku", "SKU-X", "--set", "5", "--json"])
        #expect(adjusted.status == 0 && object(adjusted.output)["available"] as? Int == 5, "\(adjusted)")
        let order = #"{"orders":[{"id":"CLI-1","ship_to":{"latitude":40,"longitude":-75},"lines":[{"id":"1","sku":"SKU-X","quantity":2}]}]}"#
        let reserved = try run(fulcrum, ["optimize", "--server", server.address, "--reserve"], input: Data(order.utf8))
        let lines = (object(reserved.output)["reservation"] as? [String: Any])?["lines"] as? [[String: Any]]
        #expect(reserved.status == 0 && lines?.first?["node"] as? String == nodes[0] && lines?.first?["quantity"] as? Int == 2,
                "\(reserved)")
        let stats = try run(fulcrum, ["stats", "--server", server.address, "--json"])
        #expect(stats.status == 0 && object(stats.output)["reservations"] as? Int == 1 && object(stats.output)["ready"] as? Bool == true,
                "\(stats)")
        server.stop()

        try #"{"nodes":[{"id":"BAD","latitude":123,"longitude":0}]}"#.write(toFile: data + "-bad.json", atomically: true, encoding: .utf8)
        let refused = try run(builtExecutable("fulcrumd"), [
            "serve", "--data", data + "-bad", "--listen", "127.0.0.1:0", "--network", data + "-bad.json", "--json",
        ], timeoutSeconds: 30)
        let error = object(refused.output)["error"] as? [String: Any]
        #expect(refused.status != 0 && error?["code"] as? String == "invalid_argument", "\(refused)")
        #expect(error?["path"] as? String == data + "-bad.json: nodes[0].latitude")
    }

    /// The Python client written from docs/protocol.md alone performs ATP,
    /// Reserve and Optimize (and gets typed errors) against a running fulcrumd.
    @Test func pythonClientFromTheProtocolDocument() async throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ServerProcess(data: data)
        let client = try await FulcrumClient.connect(server.address)
        _ = try await client.adjust(.with { $0.node = "DC-EAST"; $0.sku = "TEE-M"; $0.set = 3 })
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/minimal_client.py").path
        func python(_ arguments: String...) throws -> (status: Int32, object: [String: Any]) {
            let (status, output) = try run("/usr/bin/env", ["python3", script, server.address] + arguments)
            return (status, object(output))
        }

        let before = try python("atp", "TEE-M")
        #expect(before.status == 0 && before.object["available"] as? Int == 3, "\(before)")
        let reserved = try python("reserve", "PY-1", "DC-EAST", "TEE-M", "2")
        #expect(reserved.status == 0 && reserved.object["state"] as? String == "reserved", "\(reserved)")
        let short = try python("reserve", "PY-2", "DC-EAST", "TEE-M", "2")
        let error = short.object["error"] as? [String: Any]
        #expect(short.status == 1 && error?["code"] as? String == "insufficient_stock", "\(short)")
        #expect(error?["path"] as? String == "lines[0].quantity")
        let after = try python("atp", "TEE-M")
        #expect(after.object["available"] as? Int == 1, "\(after)")
        // Optimize: protobuf messages both ways, doubles as 8 little-endian bytes.
        let solved = try python("optimize", "PY-3", "42.36", "-71.06", "TEE-M", "1", "DC-EAST", "40.7", "-74.0")
        let plan = (solved.object["plans"] as? [[String: Any]])?.first
        let shipment = (plan?["shipments"] as? [[String: Any]])?.first
        #expect(solved.status == 0 && solved.object["status"] as? String == "optimal", "\(solved)")
        #expect(shipment?["node"] as? String == "DC-EAST" && (shipment?["distance_km"] as? Double ?? 0) > 100, "\(solved)")
        #expect((shipment?["lines"] as? [[String: Any]])?.first?["quantity"] as? Int == 1, "\(solved)")
        let backordered = try python("optimize", "PY-4", "42.36", "-71.06", "TEE-M", "5", "DC-EAST", "40.7", "-74.0")
        let backorders = (backordered.object["plans"] as? [[String: Any]])?.first?["backorders"] as? [[String: Any]]
        #expect(backorders?.first?["quantity"] as? Int == 4, "\(backordered)")
        let bad = try python("optimize", "PY-5", "95", "-71.06", "TEE-M", "1", "DC-EAST", "40.7", "-74.0")
        #expect(bad.status == 1 && (bad.object["error"] as? [String: Any])?["path"] as? String == "orders[0].ship_to.latitude", "\(bad)")
        #expect(try await client.reservation(order: "PY-1").lines.map(\.quantity) == [2])
        await client.close()
        server.stop()
    }
}

/// Orders whose reservation the server acknowledged, appended from many tasks.
final class Acknowledged: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ order: String) { list.withLock { $0.append(order) } }
    var orders: [String] { list.withLock { $0 } }
}
