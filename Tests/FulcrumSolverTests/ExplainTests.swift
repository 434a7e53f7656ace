import Foundation
import FulcrumCore
import FulcrumSolver
import Testing

@Suite struct ExplainTests {
    /// One order near node A; every other node is unusable for a different reason.
    static let request = OptimizeRequest(
        orders: [
            Order(id: "o", shipTo: Location(latitude: 40, longitude: -74), lines: [Line(id: "l", sku: "X", quantity: 2, noSplit: true)])
        ],
        nodes: [
            Node(id: "A", location: Location(latitude: 40, longitude: -74)),
            Node(id: "B", location: Location(latitude: 40.1, longitude: -74), costPerShipment: 3),
            Node(id: "off", location: Location(latitude: 40, longitude: -74), enabled: false),
            Node(id: "banned", location: Location(latitude: 40, longitude: -74)),
            Node(id: "pickup-only", location: Location(latitude: 40, longitude: -74), canShip: false),
            Node(id: "far", location: Location(latitude: 34, longitude: -118)),
            Node(id: "empty", location: Location(latitude: 40, longitude: -74)),
            Node(id: "full", location: Location(latitude: 40, longitude: -74), capacityUnits: 0),
            Node(id: "thin", location: Location(latitude: 40, longitude: -74)),
        ],
        inventory: ["A", "B", "off", "banned", "pickup-only", "far", "full"].map { Stock(node: $0, sku: "X", available: 5) }
            + [Stock(node: "thin", sku: "X", available: 1)],
        rules: Rules(maxDistanceKilometers: 1000, exclude: [Exclusion(kind: .store), Exclusion(node: "banned")]))

    @Test func everyUnusedNodeHasItsReason() throws {
        let response = try Optimizer.solve(Self.request, options: .init(explain: true))
        #expect(response.plans[0].shipments.map(\.node) == ["A"])
        let reasons = Dictionary(uniqueKeysWithValues: response.explanations![0].nodes.map { ($0.node, $0.reasons) })
        #expect(reasons["A"] == nil, "A is used")
        #expect(reasons["off"] == [.ineligible(line: nil, .disabled)])
        #expect(reasons["banned"] == [.ineligible(line: nil, .excluded(rule: 1))])
        #expect(reasons["pickup-only"] == [.ineligible(line: nil, .cannotShip)])
        #expect(reasons["empty"] == [.ineligible(line: nil, .noUsableStock)])
        #expect(reasons["full"] == [.ineligible(line: nil, .noCapacity)])
        #expect(reasons["thin"] == [.ineligible(line: nil, .tooLittleForNoSplit(usable: 1))])
        guard case .ineligible(nil, .tooFar(let distance, 1000)) = reasons["far"]?.first else {
            Issue.record("far: \(String(describing: reasons["far"]))")
            return
        }
        #expect(distance > 3000)
        // B ships the same units 11 km further for 3 more per shipment.
        guard case .moreExpensive(let extra) = reasons["B"]?.first else {
            Issue.record("B: \(String(describing: reasons["B"]))")
            return
        }
        let kilometres = PlanChecker.haversine(Self.request.orders[0].shipTo, Self.request.nodes[1].location)
        #expect(PlanChecker.close(extra, 3 + 2 * 0.0005 * kilometres))
        let json = String(decoding: response.json(), as: UTF8.self)
        #expect(json.contains("\"explain\"") && json.contains("\"reason\":\"too_far\"") && json.contains("\"extra_cost\""))
    }

    @Test func withoutExplainTheResponseHasNoExplanations() throws {
        let response = try Optimizer.solve(Self.request)
        #expect(response.explanations == nil)
        #expect(!String(decoding: response.json(), as: UTF8.self).contains("explain"))
    }
}
