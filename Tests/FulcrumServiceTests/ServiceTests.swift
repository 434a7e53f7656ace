import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumSolver
import FulcrumTestSupport
import Testing

/// FulcrumService as the front ends see it: the one door to the ledger and the solver.
@Suite struct ServiceTests {
    /// A service over a fresh ledger with the demo network and stock.
    static func demoService() async throws -> Service {
        let ledger = try Ledger(directory: temporaryDirectory())
        _ = try await DemoData.load(into: ledger)
        return Service(ledger: ledger, network: DemoData.network)
    }

    static func request(_ json: String) throws -> Data { Data(json.utf8) }

    @Test func availabilityNearAPointListsNodesByDistance() async throws {
        let service = try await Self.demoService()
        defer { service.close() }
        let atp = try service.availableToPromise(
            AvailabilityQuery(sku: "TEE-BLK-M", near: Location(latitude: 40.7, longitude: -74.0)))
        let distances = atp.nodes.compactMap(\.distanceKilometers)
        #expect(distances.count == atp.nodes.count && !distances.isEmpty)
        #expect(distances == distances.sorted())
        #expect(atp.available == atp.nodes.reduce(0) { $0 + max(0, $1.available) })
    }

    /// Ledger commands through the service, with their typed wrappers.
    @Test func commandsGoThroughTheService() async throws {
        let service = try await Self.demoService()
        defer { service.close() }
        let before = try service.position(node: "DC-EAST", sku: "TEE-BLK-M")
        let reservation = try await service.reserve(
            ReserveRequest(order: "S-1", lines: [ReservationLine(node: "DC-EAST", sku: "TEE-BLK-M", quantity: 2)]))
        #expect(reservation.state == .reserved)
        #expect(try service.position(node: "DC-EAST", sku: "TEE-BLK-M").available == before.available - 2)
        _ = try await service.release(order: "S-1")
        #expect(try service.position(node: "DC-EAST", sku: "TEE-BLK-M").available == before.available)
        #expect(service.writer.commands > 0 && service.writer.queueDepth >= 0)
        #expect(try service.verify().isConsistent)
    }

    /// A request without nodes ships from the server's network; its plan is reserved whole.
    @Test func optimizeAndReserveUsesTheNetworkAndTheLedger() async throws {
        let service = try await Self.demoService()
        defer { service.close() }
        let request = try service.decodeOptimizeRequest(json: try Self.request("""
            {"orders": [{"id": "W-1", "ship_to": {"latitude": 40.7, "longitude": -74.0, "postal_code": "10001"},
                         "lines": [{"id": "1", "sku": "TEE-BLK-M", "quantity": 2}]}]}
            """))
        #expect(request.nodes == DemoData.network.nodes)
        let result = try await service.optimizeAndReserve(request, options: Optimizer.Options(), ttlSeconds: 60)
        let reserved = try #require(result.reservation)
        #expect(reserved.lines.reduce(0) { $0 + $1.quantity } == 2)
        #expect(try service.reservation(order: "W-1") == reserved)
    }

    /// Version 2 of the contract at the service's door: old names and unknown profiles are typed errors.
    @Test func theContractsErrorsReachTheCaller() async throws {
        let service = try await Self.demoService()
        defer { service.close() }
        let cases: [(String, FulcrumError.Code, String)] = [
            (#"{"orders": [{"id": "A", "ship_to": {"latitude": 1, "longitude": 2}, "lines": [{"id": "1", "sku": "X", "qty": 1}]}]}"#,
             .unknownField, "orders[0].lines[0].qty"),
            (#"{"orders": [{"id": "A", "ship_to": {"latitude": 1, "longitude": 2}, "lines": [{"id": "1", "sku": "X", "quantity": 1}]}], "profile": "peak"}"#,
             .unknownReference, "profile"),
        ]
        for (json, code, path) in cases {
            do {
                _ = try service.optimize(try service.decodeOptimizeRequest(json: Data(json.utf8)), options: OptimizeOptions())
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.code == code && error.path == path, "\(error)")
            }
        }
        #expect(throws: FulcrumError.self) { try Optimizer.Options(strategy: "cheapest", timeLimitMs: nil, explain: false) }
        #expect(throws: FulcrumError.self) { try Optimizer.Options(strategy: nil, timeLimitMs: Limits.solveTimeLimitMsMax + 1, explain: false) }
    }

    /// The orchestration's port: record batches alone and with a command, both or neither.
    @Test func theOrchestrationPortWritesAtomically() async throws {
        let service = try await Self.demoService()
        defer { service.close() }
        var batch = RecordBatch()
        batch.put(Array("t/one".utf8), [1])
        try await service.write(batch)
        #expect(try service.record(Array("t/one".utf8)) == [1])
        var conflicting = RecordBatch()
        conflicting.expectAbsent(Array("t/one".utf8))
        conflicting.put(Array("t/two".utf8), [2])
        let reserve = LedgerCommand.reserve(
            ReserveRequest(order: "P-1", lines: [ReservationLine(node: "DC-EAST", sku: "TEE-BLK-M", quantity: 1)]))
        await #expect(throws: FulcrumError.self) { _ = try await service.execute(reserve, attaching: conflicting) }
        #expect(try service.record(Array("t/two".utf8)) == nil)
        #expect(try service.reservation(order: "P-1") == nil)
        #expect(try service.records(prefix: Array("t/".utf8), after: nil, limit: 10, reverse: false).count == 1)
    }
}
