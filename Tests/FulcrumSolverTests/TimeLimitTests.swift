import FulcrumCore
import FulcrumSolver
import Testing

@Suite struct TimeLimitTests {
    /// A batch given 1 ms still answers: a feasible plan that passes the
    /// checker, with a gap in 0...1, never an error.
    @Test func aLimitGivesAFeasiblePlanAndItsGap() throws {
        var workload = SyntheticWorkload(seed: 11, nodeCount: 60, skuCount: 80)
        let request = workload.request(orderCount: 60, linesPerOrder: 4)
        let response = try Optimizer.solve(request, options: .init(timeLimitMilliseconds: 1))
        #expect(response.status == .feasible)
        #expect(response.statistics.gap > 0 && response.statistics.gap <= 1)
        #expect(PlanChecker.check(response, for: request).isEmpty)
    }

    /// The synthetic workload is seeded: the same seed, the same requests.
    @Test func syntheticWorkloadsAreDeterministic() {
        var first = SyntheticWorkload(seed: 5, nodeCount: 20, skuCount: 30)
        var second = SyntheticWorkload(seed: 5, nodeCount: 20, skuCount: 30)
        #expect(first.request(orderCount: 3, linesPerOrder: 2) == second.request(orderCount: 3, linesPerOrder: 2))
    }
}

@Suite struct FastPathTests {
    /// A node that is nearest, cheapest and stocks everything: the lower bound
    /// proves its plan optimal, with no model built; glpsol agrees.
    @Test func aPlanMeetingTheBoundNeedsNoBranchAndBound() throws {
        let request = OptimizeRequest(
            orders: [Order(id: "o", shipTo: Location(latitude: 40, longitude: -74), lines: [
                Line(id: "a", sku: "X", quantity: 2), Line(id: "b", sku: "Y", quantity: 1),
            ])],
            nodes: [
                Node(id: "near", location: Location(latitude: 40.1, longitude: -74)),
                Node(id: "far", location: Location(latitude: 34, longitude: -118), costPerShipment: 1),
            ],
            inventory: [
                Stock(node: "near", sku: "X", available: 5), Stock(node: "near", sku: "Y", available: 5),
                Stock(node: "far", sku: "X", available: 5), Stock(node: "far", sku: "Y", available: 5),
            ])
        let response = try Optimizer.solve(request)
        #expect(response.status == .optimal && response.statistics.variables == 0)
        #expect(response.plans[0].shipments.map(\.node) == ["near"])
        #expect(PlanChecker.check(response, for: request).isEmpty)
        #expect(PlanChecker.close(response.objective, try GLPSol.objective(request)))
    }

    /// When the bound is not met, the node-set search or the model decides
    /// (and may split): both the same optimum, glpsol's.
    @Test func otherwiseTheSearchOrTheModelDecides() throws {
        var workload = SyntheticWorkload(seed: 3, nodeCount: 40, skuCount: 50)
        var modelled = 0
        for index in 0..<20 {
            let request = workload.request(orderCount: 1, linesPerOrder: 5, firstOrder: index)
            let response = try Optimizer.solve(request)
            let model = try Optimizer.solveByModel(request)
            if model.statistics.variables > 0 { modelled += 1 }
            #expect(response.status == .optimal && model.status == .optimal)
            #expect(PlanChecker.close(response.objective, model.objective))
            #expect(PlanChecker.close(response.objective, try GLPSol.objective(request)))
        }
        #expect(modelled > 0)
    }
}
