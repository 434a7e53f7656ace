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

    /// Costs without distance terms, so every alternative is priced by hand:
    /// a shipment costs 5 plus the node's `cost_per_shipment`, a unit its `cost_per_unit`.
    static func priced(_ orders: [Order], nodes: [Node], inventory: [Stock]) -> OptimizeRequest {
        OptimizeRequest(orders: orders, nodes: nodes, inventory: inventory, rates: Rates(perShipment: 5, perKilometer: 0, perKilogramKilometer: 0))
    }
    static let here = Location(latitude: 40, longitude: -74)
    static let nearA = Node(id: "A", location: here, costPerUnit: 1)
    static let dearC = Node(id: "C", location: here, costPerShipment: 1, costPerUnit: 4)

    static func reason(_ response: OptimizeResponse, _ node: String) -> NodeExplanation.Reason? {
        response.explanations?[0].nodes.first { $0.node == node }?.reasons.first
    }

    /// The alternative is the best plan that really ships from the node:
    /// C shipping both units costs 5 + 1 + 2 × 4 = 14 against A's 5 + 2 × 1 = 7,
    /// so +7 (an empty shipment from C beside A's would be +6, and is not a way to use C).
    @Test func anAlternativeIsPricedByReallyShippingFromIt() throws {
        let request = Self.priced(
            [Order(id: "o", shipTo: Self.here, lines: [Line(id: "l", sku: "X", quantity: 2)])], nodes: [Self.nearA, Self.dearC],
            inventory: [Stock(node: "A", sku: "X", available: 5), Stock(node: "C", sku: "X", available: 5)])
        let response = try Optimizer.solve(request, options: .init(explain: true))
        #expect(response.objective == 7)
        #expect(Self.reason(response, "C") == .moreExpensive(extraCost: 7))
        #expect(String(decoding: response.json(), as: UTF8.self).contains(#""reason":"more_expensive""#))
    }

    /// A greedy answer can be beaten: the difference is reported as it is (negative), never clamped to 0.
    @Test func aGreedyAnswerCanBeCheaperElsewhereAndSaysSo() throws {
        let request = Self.priced(
            [Order(id: "o", shipTo: Self.here, lines: [Line(id: "l", sku: "X", quantity: 2)])], nodes: [Self.dearC, Self.nearA],
            inventory: [Stock(node: "A", sku: "X", available: 5), Stock(node: "C", sku: "X", available: 5)])
        let response = try Optimizer.solve(request, options: .init(strategy: .greedyPriority, explain: true))
        #expect(response.plans[0].shipments.map(\.node) == ["C"] && response.objective == 14)
        #expect(Self.reason(response, "A") == .moreExpensive(extraCost: -7))
        #expect(String(decoding: response.json(), as: UTF8.self).contains(#""reason":"cheaper""#))
        let nearest = try Optimizer.solve(request, options: .init(strategy: .greedyNearest, explain: true))
        if nearest.plans[0].shipments.map(\.node) == ["C"] { #expect(Self.reason(nearest, "A") == .moreExpensive(extraCost: -7)) }
        else { #expect(Self.reason(nearest, "C") == .moreExpensive(extraCost: 7)) }
    }

    /// A batch is explained group by group: in a batch of orders that share
    /// nothing that can run short, each order's reasons and prices are
    /// those of the order explained alone; where the orders compete for
    /// scarce stock, the price is the batch's (2 units at A for orders of 2
    /// and 1: o1 at A 7, o2 at C 10; o1 at C means o2 at A, 14 + 6 = 20, +3;
    /// o2 at A means o1 at C, the same 20, +3).
    @Test func aBatchIsExplainedOneIndependentGroupAtATime() throws {
        var workload = SyntheticWorkload(seed: 4, nodeCount: 12, skuCount: 40)
        let batch = workload.request(orderCount: 4, linesPerOrder: 2)
        let explained = try Optimizer.solve(batch, options: .init(explain: true))
        #expect(explained.status == .optimal)
        for (index, order) in batch.orders.enumerated() {
            var alone = batch
            alone.orders = [order]
            let single = try Optimizer.solve(alone, options: .init(explain: true))
            let batchReasons = explained.explanations![index].nodes
            let aloneReasons = single.explanations![0].nodes
            #expect(batchReasons.map(\.node) == aloneReasons.map(\.node), "\(order.id)")
            for (a, b) in zip(batchReasons, aloneReasons) {
                if case .moreExpensive(let x) = a.reasons.first, case .moreExpensive(let y) = b.reasons.first {
                    #expect(abs(x - y) <= 1e-6 * max(1, abs(y)), "\(order.id)@\(a.node): \(x) vs \(y)")
                } else {
                    #expect(a.reasons == b.reasons, "\(order.id)@\(a.node)")
                }
            }
        }
        let scarce = Self.priced(
            [
                Order(id: "o1", shipTo: Self.here, lines: [Line(id: "l", sku: "X", quantity: 2)]),
                Order(id: "o2", shipTo: Self.here, lines: [Line(id: "l", sku: "X", quantity: 1)]),
            ], nodes: [Self.nearA, Self.dearC],
            inventory: [Stock(node: "A", sku: "X", available: 2), Stock(node: "C", sku: "X", available: 5)])
        let competing = try Optimizer.solve(scarce, options: .init(explain: true))
        #expect(competing.plans.map { $0.shipments.map(\.node) } == [["A"], ["C"]] && competing.objective == 17)
        #expect(competing.explanations![0].nodes.first { $0.node == "C" }?.reasons == [.moreExpensive(extraCost: 3)])
        #expect(competing.explanations![1].nodes.first { $0.node == "A" }?.reasons == [.moreExpensive(extraCost: 3)])
    }

    /// Alternatives priced by the bound argument (the order's forced plan
    /// alone, fitting beside the others' solo optima) equal those priced by
    /// solving the whole group with the row added, on every seeded batch.
    @Test func soloPricingAgreesWithGroupSolves() throws {
        var compared = 0
        for seed in 0..<80 {
            var generator = InstanceGenerator(seed: UInt64(seed))
            let request = try OptimizeRequest.decode(json: InstanceGenerator.json(generator.request()))
            guard request.orders.count > 1 else { continue }
            let fast = try Optimizer.solve(request, options: .init(explain: true))
            let reference = try Optimizer.solveExplainingByGroupSolves(request)
            guard fast.explanationsIncomplete != true, reference.explanationsIncomplete != true else { continue }
            for (a, b) in zip(fast.explanations!, reference.explanations!) {
                #expect(a.nodes.map(\.node) == b.nodes.map(\.node), "seed \(seed) \(a.order)")
                for (x, y) in zip(a.nodes, b.nodes) {
                    if case .moreExpensive(let p) = x.reasons.first, case .moreExpensive(let q) = y.reasons.first {
                        #expect(abs(p - q) <= 1e-6 * max(1, abs(q)), "seed \(seed) \(a.order)@\(x.node): \(p) vs \(q)")
                        compared += 1
                    } else {
                        #expect(x.reasons == y.reasons, "seed \(seed) \(a.order)@\(x.node)")
                    }
                }
            }
        }
        #expect(compared > 50, "\(compared) alternatives priced")
    }

    /// A no-split line moves whole: 5 + 3 × 2 = 11 from C against 5 + 3 × 1 = 8 from A.
    @Test func aNoSplitLineIsPricedWhole() throws {
        let request = Self.priced(
            [Order(id: "o", shipTo: Self.here, lines: [Line(id: "l", sku: "X", quantity: 3, noSplit: true)])],
            nodes: [Self.nearA, Node(id: "C", location: Self.here, costPerUnit: 2)],
            inventory: [Stock(node: "A", sku: "X", available: 5), Stock(node: "C", sku: "X", available: 3)])
        let response = try Optimizer.solve(request, options: .init(explain: true))
        #expect(response.objective == 8)
        #expect(Self.reason(response, "C") == .moreExpensive(extraCost: 3))
    }

    /// A ship-complete order that cannot be completed waits whole; no node can take part:
    /// `ship_complete_unmet`, not a price of shipping nothing.
    @Test func aShipCompleteShortfallIsNotAPrice() throws {
        let request = Self.priced(
            [Order(id: "o", shipTo: Self.here, shipComplete: true, lines: [Line(id: "1", sku: "X", quantity: 2), Line(id: "2", sku: "Y", quantity: 1)])],
            nodes: [Self.nearA, Self.dearC],
            inventory: [Stock(node: "A", sku: "X", available: 5), Stock(node: "C", sku: "X", available: 5)])
        let response = try Optimizer.solve(request, options: .init(explain: true))
        #expect(response.plans[0].shipments.isEmpty)
        #expect(Self.reason(response, "A") == .shipCompleteUnmet && Self.reason(response, "C") == .shipCompleteUnmet)
        #expect(String(decoding: response.json(), as: UTF8.self).contains(#""reason":"ship_complete_unmet""#))
    }

    /// Too little time to explain is not a failure: the plan comes back, the rest is marked.
    @Test func aTinyTimeLimitAnswersThePlanAndMarksWhatWasNotPriced() throws {
        let response = try Optimizer.solve(Self.request, options: .init(timeLimitMilliseconds: 1, explain: true))
        #expect(response.plans.count == 1)
        let reasons = response.explanations![0].nodes.flatMap(\.reasons)
        #expect(response.explanationsIncomplete == reasons.contains(.unpriced))
        if response.explanationsIncomplete {
            #expect(String(decoding: response.json(), as: UTF8.self).contains(#""explanations_incomplete":true"#))
        }
    }

    @Test func withoutExplainTheResponseHasNoExplanations() throws {
        let response = try Optimizer.solve(Self.request)
        #expect(response.explanations == nil)
        #expect(!String(decoding: response.json(), as: UTF8.self).contains("explain"))
    }
}
