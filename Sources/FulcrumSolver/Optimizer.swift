import Foundation
import FulcrumCore

/// How to choose the nodes that fill each order.
public enum Strategy: String, Sendable, CaseIterable {
    /// The MIP of optimize-v1, solved to proven optimality (or to the time limit).
    case optimal
    /// Fixed node priority: the request's node order, like Magento MSI.
    case greedyPriority = "greedy-priority"
    /// Nearest node with stock first, splitting as needed.
    case greedyNearest = "greedy-nearest"
}

/// Solves optimize-v1 requests. Stateless and synchronous: a solve runs
/// entirely on the calling thread (GLPK's environment is per thread), so any
/// number of threads may solve at once.
public enum Optimizer {
    public struct Options: Sendable {
        public var strategy: Strategy = .optimal
        public var timeLimitMilliseconds = Limits.solveTimeLimitMilliseconds
        /// Add, per order, why each unused node was not chosen.
        public var explain = false
        public init(
            strategy: Strategy = .optimal, timeLimitMilliseconds: Int = Limits.solveTimeLimitMilliseconds,
            explain: Bool = false
        ) {
            self.strategy = strategy
            self.timeLimitMilliseconds = timeLimitMilliseconds
            self.explain = explain
        }
    }

    /// Solves a validated request. Stock comes from `request.inventory`, or
    /// from `availability` when the request has none (the ledger's view).
    /// Throws `invalid_argument` when neither gives stock, and
    /// `solver_failure` if GLPK fails.
    public static func solve(_ request: OptimizeRequest, availability: [Stock]? = nil, options: Options = Options())
        throws(FulcrumError) -> OptimizeResponse
    {
        guard let stock = request.inventory ?? availability else {
            throw FulcrumError(
                .invalidArgument, "the request has no inventory and no ledger supplies availability", path: "inventory")
        }
        var response = try plan(request, stock: stock, options: options)
        if options.explain {
            response.explanations = try explain(
                response, request: request, stock: stock, timeLimitMilliseconds: options.timeLimitMilliseconds)
        }
        return response
    }

    private static func plan(_ request: OptimizeRequest, stock: [Stock], options: Options) throws(FulcrumError)
        -> OptimizeResponse
    {
        let started = DispatchTime.now().uptimeNanoseconds
        // The greedy baselines see every eligible node, as a greedy shop does.
        let problem = PreparedProblem(request, availability: stock, pruning: options.strategy == .optimal)
        func elapsedMilliseconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6 }
        switch options.strategy {
        case .greedyPriority, .greedyNearest:
            let allocation = (options.strategy == .greedyPriority ? GreedyStrategy.priority : .nearest).allocate(problem)
            let statistics = OptimizeResponse.Statistics(
                solveMilliseconds: elapsedMilliseconds(), candidates: problem.candidates.count, variables: 0,
                constraints: 0, gap: 0)
            return problem.response(for: allocation, status: .feasible, statistics: statistics)
        case .optimal:
            let model = MIPModel(problem)
            let greedy = GreedyStrategy.nearest.allocate(problem)
            var program = try GLPKProblem(model)
            let outcome = try program.solve(
                incumbent: model.columnValues(for: greedy, problem), timeLimitMilliseconds: options.timeLimitMilliseconds)
            // Out of time before any integer solution: the greedy plan, with its gap to a simple bound.
            let allocation = outcome.map { model.allocation(from: $0.columnValues, problem) } ?? greedy
            let gap = outcome?.gap ?? problem.gapToSimpleBound(of: greedy)
            let statistics = OptimizeResponse.Statistics(
                solveMilliseconds: elapsedMilliseconds(), candidates: problem.candidates.count,
                variables: model.columns.count, constraints: model.rows.count, gap: gap)
            return problem.response(for: allocation, status: outcome?.status ?? .feasible, statistics: statistics)
        }
    }
}
