import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumSolver
import FulcrumTestSupport
import Testing

/// The live network: nodes closed, reopened and given a daily capacity at
/// runtime, durable, on a timeline; units released counted per local day.
@Suite struct LiveNetworkTests {
    static let caller = Caller(token: "ops", request: "test")
    /// Near Chicago (cheap) and Dallas; Chicago's day is counted in its own zone.
    static let network = Network(
        nodes: [
            Node(id: "CHI", location: Location(latitude: 41.88, longitude: -87.63)),
            Node(id: "DAL", location: Location(latitude: 32.78, longitude: -96.80)),
        ],
        settings: ["CHI": NodeSettings(capacityPerDay: 4, timezone: "America/Chicago")])
    /// 2026-12-06 12:00 in Chicago (UTC−6).
    static let noonInChicago = Timestamp(millisecondsSinceEpoch: 1_796_580_000_000)

    static func open(_ directory: String, clock: ManualClock) async throws -> Service {
        var options = Service.Options()
        options.clock = clock
        return Service(ledger: try Ledger(directory: directory), network: network, options: options)
    }

    /// Sources and reserves an order of `quantity` units near Chicago, then
    /// releases it (confirms its reservation); returns the nodes shipping it.
    static func release(_ service: Service, _ order: String, quantity: Int = 2) async throws -> [String] {
        let request = OptimizeRequest(
            orders: [
                Order(
                    id: order, shipTo: Location(latitude: 41.9, longitude: -87.7),
                    lines: [Line(id: "1", sku: "TEE", quantity: quantity, noSplit: true)])
            ],
            nodes: try #require(try service.defaultNodes()))
        let result = try await service.optimizeAndReserve(request, options: OptimizeOptions(), ttlSeconds: 600)
        _ = try await service.confirm(order: order)
        return result.response.plans[0].shipments.map(\.node)
    }

    @Test func aClosedNodeIsNotChosenReopeningRestoresItAndChangesAreDurable() async throws {
        let directory = temporaryDirectory()
        let clock = ManualClock(Self.noonInChicago)
        var service = try await Self.open(directory, clock: clock)
        for node in ["CHI", "DAL"] { _ = try await service.adjust(.init(node: node, sku: "TEE", change: .set(100))) }
        #expect(try await Self.release(service, "o1") == ["CHI"])

        let closed = try await service.updateNode("CHI", NodeUpdate(enabled: false, reason: "flooded"), caller: Self.caller)
        #expect(!closed.settings.enabled)
        #expect(try await Self.release(service, "o2") == ["DAL"])
        let reopened = try await service.updateNode("CHI", NodeUpdate(enabled: true), caller: Self.caller)
        #expect(reopened.changes.map(\.summary) == ["opened", "closed"])
        #expect(reopened.changes.map(\.reason) == [nil, "flooded"])
        #expect(reopened.changes.map(\.caller) == ["ops", "ops"])
        #expect(try await Self.release(service, "o3") == ["CHI"])
        // Changing nothing writes nothing.
        #expect(try await service.updateNode("CHI", NodeUpdate(enabled: true), caller: Self.caller).changes.count == 2)

        _ = try await service.updateNode("CHI", NodeUpdate(canShip: false, capacityPerDay: .unlimited), caller: Self.caller)
        #expect(try await Self.release(service, "o4") == ["DAL"])
        #expect(try service.auditTrail(limit: 1).first.map { [$0.operation, $0.subject, $0.detail] }
            == ["update_node", "CHI", "shipping off, capacity_per_day 4 → unlimited"])
        service.close()

        service = try await Self.open(directory, clock: clock)
        defer { service.close() }
        let status = try service.nodeStatus("CHI")
        #expect(status.settings == NodeSettings(enabled: true, canShip: false, capacityPerDay: nil, timezone: "America/Chicago"))
        #expect(status.changes.map(\.revision) == [3, 2, 1])
        #expect(try await Self.release(service, "o5") == ["DAL"])
        #expect(try service.verify().isConsistent)
    }

    @Test func capacityUsedUpMovesOrdersToTheNextNodeUntilTheNodesLocalMidnight() async throws {
        let clock = ManualClock(Self.noonInChicago)
        let service = try await Self.open(temporaryDirectory(), clock: clock)
        defer { service.close() }
        for node in ["CHI", "DAL"] { _ = try await service.adjust(.init(node: node, sku: "TEE", change: .set(100))) }
        #expect(try await Self.release(service, "o1") == ["CHI"])
        #expect(try await Self.release(service, "o2") == ["CHI"])
        let full = try service.nodeStatus("CHI")
        #expect((full.day, full.releasedQuantity, full.capacityLeft) == ("2026-12-06", 4, 0))
        #expect(try await Self.release(service, "o3") == ["DAL"])
        // A reservation not yet released takes no capacity.
        #expect(try service.nodeStatus("DAL").releasedQuantity == 2)

        // 23:59 in Chicago is 05:59 UTC on the 7th: still Chicago's 6th.
        clock.advance(milliseconds: (11 * 3600 + 59 * 60) * 1000)
        #expect(try await Self.release(service, "o4") == ["DAL"])
        clock.advance(milliseconds: 60 * 1000)
        let fresh = try service.nodeStatus("CHI")
        #expect((fresh.day, fresh.releasedQuantity, fresh.capacityLeft) == ("2026-12-07", 0, 4))
        #expect(try await Self.release(service, "o5") == ["CHI"])
        // Dallas has no daily capacity: its day is UTC's, and it only counts.
        #expect(try service.nodeStatus("DAL").day == "2026-12-07")

        // A new capacity applies at once, against what the day already released.
        _ = try await service.updateNode("CHI", NodeUpdate(capacityPerDay: .units(3)), caller: Self.caller)
        #expect(try service.nodeStatus("CHI").capacityLeft == 1)
        #expect(try await Self.release(service, "o6") == ["DAL"])
    }

    @Test func badUpdatesAreTypedErrorsAndChangeNothing() async throws {
        let service = try await Self.open(temporaryDirectory(), clock: ManualClock(Self.noonInChicago))
        defer { service.close() }
        let cases: [(String, NodeUpdate, FulcrumError.Code, String)] = [
            ("NOWHERE", NodeUpdate(enabled: false), .notFound, "node"),
            ("", NodeUpdate(enabled: false), .invalidArgument, "node"),
            ("CHI", NodeUpdate(), .invalidArgument, "node"),
            ("CHI", NodeUpdate(capacityPerDay: .units(-1)), .invalidArgument, "capacity_per_day"),
            ("CHI", NodeUpdate(timezone: "Mars/Olympus_Mons"), .invalidArgument, "timezone"),
            ("CHI", NodeUpdate(enabled: false, reason: "line\nbreak"), .invalidArgument, "reason"),
        ]
        for (node, update, code, path) in cases {
            let error = await #expect(throws: FulcrumError.self) { try await service.updateNode(node, update, caller: Self.caller) }
            #expect(error?.code == code && error?.path == path, "\(String(describing: error))")
        }
        #expect(try service.nodeStatus("CHI").changes.isEmpty)
        #expect(try service.nodeStatus("CHI").settings == NodeSettings(capacityPerDay: 4, timezone: "America/Chicago"))
    }

    @Test func aNetworkFileGivesTimezonesAndDailyCapacitiesAndRefusesARequestsCapacity() throws {
        let network = try Network.decode(
            json: Data(#"{"nodes": [{"id": "A", "latitude": 1, "longitude": 2, "timezone": "Europe/Berlin", "capacity_per_day": 250}, {"id": "B", "latitude": 3, "longitude": 4, "enabled": false}]}"#.utf8),
            path: "net.json")
        #expect(network.settings["A"] == NodeSettings(capacityPerDay: 250, timezone: "Europe/Berlin"))
        #expect(network.settings["B"] == NodeSettings(enabled: false))
        #expect(try Network.decode(json: network.json(), path: "again") == network)
        let bad: [(String, String)] = [
            (#"{"id": "A", "latitude": 1, "longitude": 2, "capacity_units": 5}"#, "net.json: nodes[0].capacity_units"),
            (#"{"id": "A", "latitude": 1, "longitude": 2, "timezone": "Nowhere/Land"}"#, "net.json: nodes[0].timezone"),
            (#"{"id": "A", "latitude": 1, "longitude": 2, "capacity_per_day": 1.5}"#, "net.json: nodes[0].capacity_per_day"),
            (#"{"id": "A", "latitude": 1, "longitude": 2, "capacity_per_day": -3}"#, "net.json: nodes[0].capacity_per_day"),
        ]
        for (node, path) in bad {
            let error = #expect(throws: FulcrumError.self) { try Network.decode(json: Data(#"{"nodes": [\#(node)]}"#.utf8), path: "net.json") }
            #expect(error?.path == path, "\(String(describing: error))")
        }
    }
}

/// Optimize requests whose ship-to has no coordinates: the service places
/// them as journeys do, and each plan says how.
@Suite struct PlacedOptimizeTests {
    static func request(_ shipTo: String) -> String {
        #"{"orders": [{"id": "Z1", "ship_to": \#(shipTo), "lines": [{"id": "1", "sku": "TEE", "quantity": 1}]}], "inventory": [{"node": "DC-WEST", "sku": "TEE", "available": 5}, {"node": "DC-EAST", "sku": "TEE", "available": 5}]}"#
    }

    @Test func aPostalCodeIsPlacedAndThePlanSaysSo() throws {
        let service = Service(ledger: try Ledger(directory: temporaryDirectory()), network: DemoData.network)
        defer { service.close() }
        let seattle = try service.decodeOptimizeRequest(json: Data(Self.request(#"{"country": "US", "postal_code": "98101"}"#).utf8))
        #expect(!seattle.orders[0].shipTo.isPlaced)
        let response = try service.optimize(seattle, options: OptimizeOptions())
        #expect(response.plans[0].shipments.map(\.node) == ["DC-WEST"])
        #expect(response.plans[0].shipToPrecision == .postalCode)
        #expect(String(decoding: response.json(), as: UTF8.self).contains(#""ship_to_precision":"postal_code""#))
        // Offline, the same; glpsol's data carries the placed coordinates.
        #expect(try Service.solve(seattle, options: OptimizeOptions()).plans[0].shipToPrecision == .postalCode)
        #expect(try Service.mathProgData(seattle).contains("47.6"))
        // Coordinates given: nothing to say.
        let given = try service.decodeOptimizeRequest(json: Data(Self.request(#"{"latitude": 47.6, "longitude": -122.3}"#).utf8))
        #expect(try service.optimize(given, options: OptimizeOptions()).plans[0].shipToPrecision == nil)
    }

    @Test func anAddressThatCannotBePlacedIsATypedErrorAtItsField() throws {
        let service = Service(ledger: try Ledger(directory: temporaryDirectory()), network: DemoData.network)
        defer { service.close() }
        let nowhere = try service.decodeOptimizeRequest(json: Data(Self.request(#"{"country": "ZZ", "city": "Atlantis"}"#).utf8))
        let error = #expect(throws: FulcrumError.self) { try service.optimize(nowhere, options: OptimizeOptions()) }
        #expect(error?.code == .invalidArgument && error?.path == "orders[0].ship_to.city", "\(String(describing: error))")
        for shipTo in [#"{"postal_code": "98101"}"#, #"{"latitude": 47.6, "country": "US"}"#] {
            let missing = #expect(throws: FulcrumError.self) { try service.decodeOptimizeRequest(json: Data(Self.request(shipTo).utf8)) }
            #expect(missing?.path.hasPrefix("orders[0].ship_to.") == true, "\(shipTo): \(String(describing: missing))")
        }
        let unplaced = try service.decodeOptimizeRequest(json: Data(Self.request(#"{"country": "US", "postal_code": "98101"}"#).utf8))
        let solver = #expect(throws: FulcrumError.self) { try Optimizer.solve(unplaced) }
        #expect(solver?.path == "orders[0].ship_to.latitude")
    }
}
