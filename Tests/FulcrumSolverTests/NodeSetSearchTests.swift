import FulcrumCore
import FulcrumSolver
import Testing

/// The single-order node-set search against the MIP and glpsol: where it
/// answers, it proves the same optimum.
@Suite struct NodeSetSearchTests {
    /// Each order of the oracle's seeded requests alone (every rule: no-split,
    /// ship-complete, split limits, pickup, capacity, exclusions, ship-alone),
    /// and synthetic orders of 5 lines over 40 nodes under split limits of
    /// 1, 2, 3 and none. Where the search finishes, its objective equals the
    /// model's and glpsol's, and the solve's plan passes the checker; some
    /// orders are not of its kind and go to the model.
    @Test(arguments: 0..<3)
    func searchMatchesTheModelAndGLPSol(batch: Int) throws {
        var requests: [OptimizeRequest] = []
        for seed in (batch * 80)..<((batch + 1) * 80) {
            var generator = InstanceGenerator(seed: UInt64(seed))
            let request = try OptimizeRequest.decode(json: InstanceGenerator.json(generator.request()))
            for order in request.orders {
                var alone = request
                alone.orders = [order]
                requests.append(alone)
            }
        }
        var workload = SyntheticWorkload(seed: UInt64(100 + batch), nodeCount: 40, skuCount: 30)
        for index in 0..<40 {
            var request = workload.request(orderCount: 1, linesPerOrder: 5, firstOrder: index)
            request.rules.maxShipmentsPerOrder = [1, 2, 3, nil][index % 4]
            request.rules.backorderPenalty = [100, 15, 40, 1000][index / 10]
            requests.append(request)
        }
        var searched = 0
        var branched = 0
        var modelled = 0
        for (index, request) in requests.enumerated() {
            let context = "request \(index) of batch \(batch): \(String(decoding: request.json(), as: UTF8.self))"
            guard let search = Optimizer.searchNodeSets(request) else {
                modelled += 1
                continue
            }
            let model = try Optimizer.solveByModel(request)
            #expect(model.status == .optimal, "\(context)")
            if search.finished {
                searched += 1
                if search.evaluations > 20 { branched += 1 }
                #expect(PlanChecker.close(search.objective, model.objective), "search \(search.objective), model \(model.objective); \(context)")
            } else {
                #expect(search.objective >= model.objective - 1e-6 * max(1, model.objective), "\(context)")
            }
            // glpsol on a sample (a process each).
            if index % 4 == 0 {
                let oracle = try GLPSol.objective(request)
                #expect(PlanChecker.close(search.objective, oracle) || !search.finished, "search \(search.objective), glpsol \(oracle); \(context)")
            }
            let solved = try Optimizer.solve(request)
            #expect(solved.status == .optimal && PlanChecker.close(solved.objective, model.objective), "\(context)")
            #expect(PlanChecker.check(solved, for: request).isEmpty, "\(context)")
        }
        #expect(searched > 100, "the search answered \(searched)")
        #expect(branched > 10, "the search branched on \(branched)")
        #expect(modelled > 10, "\(modelled) orders went to the model")
    }
}
