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
