import Foundation
import FulcrumCore
import Synchronization

/// Solves optimize requests. Stateless and synchronous: a solve runs
/// entirely on the calling thread (GLPK's environment is per thread), so any
/// number of threads may solve at once.
public enum Optimizer {
    /// The options of a solve (in FulcrumCore, where every front end checks them).
    public typealias Options = OptimizeOptions

    /// Solves a validated request. Stock comes from `request.inventory`, or
    /// from `availability` when the request has none (the ledger's view).
    /// Throws `invalid_argument` when neither gives stock, and
    /// `solver_failure` if GLPK fails.
    public static func solve(_ request: OptimizeRequest, availability: [Stock]? = nil, options: Options = Options())
        throws(FulcrumError) -> OptimizeResponse
    {
        if let index = request.orders.firstIndex(where: { !$0.shipTo.isPlaced }) {
            throw FulcrumError(
                .invalidArgument, "the ship-to address has no coordinates: place it first (the service does, from its country, region, city or postal code)",
                path: "orders[\(index)].ship_to.latitude")
        }
        guard let stock = request.inventory ?? availability else {
            throw FulcrumError(
                .invalidArgument, "the request has no inventory and no ledger supplies availability", path: "inventory")
        }
        var response = try plan(request, stock: stock, options: options)
        if options.explain {
            try explain(&response, request: request, stock: stock, timeLimitMilliseconds: options.timeLimitMilliseconds)
        }
        return response
    }

    /// `searching: false` leaves single orders to the model (for tests
    /// comparing it with `NodeSetSearch`).
    private static func plan(_ request: OptimizeRequest, stock: [Stock], options: Options, searching: Bool = true)
        throws(FulcrumError) -> OptimizeResponse
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
                constraints: 0, gap: problem.gapToSimpleBound(of: allocation))
            return problem.response(for: allocation, status: .feasible, statistics: statistics)
        case .optimal where request.orders.count > 1:
            return try planBatch(request, stock: stock, options: options)
        case .optimal:
            let solution = try problem.solveSingleOrder(timeLimitMilliseconds: options.timeLimitMilliseconds, searching: searching)
            let statistics = OptimizeResponse.Statistics(
                solveMilliseconds: elapsedMilliseconds(), candidates: problem.candidates.count,
                variables: solution.variables, constraints: solution.constraints, gap: solution.gap)
            return problem.response(for: solution.allocation, status: solution.status, statistics: statistics)
        }
    }

    /// A batch: split into groups of orders that share no stock or capacity
    /// that could run short (`PreparedProblem.independentGroups`), each solved
    /// on its own, concurrently; a group of one order is a single-order solve.
    private static func planBatch(_ request: OptimizeRequest, stock: [Stock], options: Options) throws(FulcrumError)
        -> OptimizeResponse
    {
        let groups = PreparedProblem(request, availability: stock).independentGroups()
        guard groups.count > 1 else { return try planCoupled(request, stock: stock, options: options) }
        let started = DispatchTime.now().uptimeNanoseconds
        let deadline = started + UInt64(options.timeLimitMilliseconds) * 1_000_000
        let rowsOfSKU = Dictionary(grouping: stock, by: \.sku)
        let results = Mutex<[Int: Result<OptimizeResponse, FulcrumError>]>([:])
        DispatchQueue.concurrentPerform(iterations: groups.count) { index in
            let (part, rows) = Self.part(request, orders: groups[index], rowsOfSKU: rowsOfSKU)
            var partOptions = options
            // Each group gets what is left of the batch's time when it starts.
            let now = DispatchTime.now().uptimeNanoseconds
            partOptions.timeLimitMilliseconds = max(1, Int((deadline > now ? deadline - now : 0) / 1_000_000))
            let result = Result { () throws(FulcrumError) in
                part.orders.count > 1
                    ? try planCoupled(part, stock: rows, options: partOptions) : try plan(part, stock: rows, options: partOptions)
            }
            results.withLock { $0[index] = result }
        }
        var responses: [OptimizeResponse] = []
        for index in groups.indices { responses.append(try results.withLock { $0[index]! }.get()) }
        return merged(responses, groups: groups, orderCount: request.orders.count, started: started)
    }

    /// The request with only these orders, and the stock rows of their SKUs.
    static func part(_ request: OptimizeRequest, orders: [Int], rowsOfSKU: [String: [Stock]]) -> (OptimizeRequest, [Stock]) {
        var part = request
        part.orders = orders.map { request.orders[$0] }
        let rows = Set(part.orders.flatMap { $0.lines.map(\.sku) }).sorted().flatMap { rowsOfSKU[$0] ?? [] }
        part.inventory = request.inventory == nil ? nil : rows
        return (part, rows)
    }

    /// The groups' answers as one: plans in request order, optimal when every
    /// group is, and the gap of the summed objectives to the summed bounds.
    private static func merged(_ responses: [OptimizeResponse], groups: [[Int]], orderCount: Int, started: UInt64)
        -> OptimizeResponse
    {
        var plans: [OptimizeResponse.Plan?] = Array(repeating: nil, count: orderCount)
        var objective = 0.0
        var bound = 0.0
        var candidates = 0
        var variables = 0
        var constraints = 0
        for (group, response) in zip(groups, responses) {
            for (position, order) in group.enumerated() { plans[order] = response.plans[position] }
            objective += response.objective
            bound += response.objective * (1 - response.statistics.gap)
            candidates += response.statistics.candidates
            variables += response.statistics.variables
            constraints += response.statistics.constraints
        }
        let optimal = responses.allSatisfy { $0.status == .optimal }
        let statistics = OptimizeResponse.Statistics(
            solveMilliseconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6, candidates: candidates,
            variables: variables, constraints: constraints,
            gap: optimal ? 0 : max(0, (objective - bound) / max(objective, 1e-12)))
        return OptimizeResponse(
            status: optimal ? .optimal : .feasible, objective: objective, plans: plans.map { $0! }, statistics: statistics,
            explanations: nil)
    }

    /// Orders that share stock or capacity: first each order on its own,
    /// which bounds the batch from both sides (see `BatchBounds`); the joint
    /// model only when a gap remains.
    private static func planCoupled(_ request: OptimizeRequest, stock: [Stock], options: Options) throws(FulcrumError)
        -> OptimizeResponse
    {
        let started = DispatchTime.now().uptimeNanoseconds
        func remainingMilliseconds() -> Int {
            options.timeLimitMilliseconds - Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        }
        let everyCandidate = PreparedProblem(request, availability: stock, pruning: false)
        let bounds = try BatchBounds(request, stock: stock, problem: everyCandidate, deadline: remainingMilliseconds)
        var best = bounds.sequential ?? GreedyStrategy.nearest.allocate(everyCandidate)
        var bestObjective = everyCandidate.objective(of: best)
        var lowerBound = bounds.lowerBound
        func meetsBound() -> Bool { lowerBound.map { bestObjective - $0 <= 1e-9 * max(1, bestObjective) } ?? false }
        var proven = meetsBound()
        var variables = 0
        var constraints = 0
        if !proven && remainingMilliseconds() > 0 {
            // Column generation: a stronger bound, and a plan from the plans it priced.
            let generated = try ColumnGeneration(
                request, stock: stock, problem: everyCandidate, start: bounds.sequential, timeLimitMilliseconds: remainingMilliseconds())
            if let bound = generated.lowerBound { lowerBound = max(lowerBound ?? bound, bound) }
            if let found = generated.best, found.objective < bestObjective {
                best = found.allocation
                bestObjective = found.objective
            }
            proven = meetsBound()
        }
        if !proven && remainingMilliseconds() > 0 {
            let pruned = PreparedProblem(request, availability: stock)
            let model = MIPModel(pruned)
            variables = model.columns.count
            constraints = model.rows.count
            var program = try GLPKProblem(model)
            let seed = pruned.allocation(mapping: best, from: everyCandidate).map { model.columnValues(for: $0, pruned) }
            if let outcome = try program.solve(incumbent: seed, timeLimitMilliseconds: max(1, remainingMilliseconds())) {
                let found = everyCandidate.allocation(mapping: model.allocation(from: outcome.columnValues, pruned), from: pruned)!
                let objective = everyCandidate.objective(of: found)
                if outcome.status == .optimal || objective < bestObjective {
                    best = found
                    bestObjective = objective
                    proven = outcome.status == .optimal || meetsBound()
                }
            }
        }
        let gap = proven ? 0 : lowerBound.map { max(0, (bestObjective - $0) / max(bestObjective, 1e-12)) }
            ?? everyCandidate.gapToSimpleBound(of: best)
        let statistics = OptimizeResponse.Statistics(
            solveMilliseconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6,
            candidates: everyCandidate.candidates.count, variables: variables, constraints: constraints, gap: gap)
        return everyCandidate.response(for: best, status: proven ? .optimal : .feasible, statistics: statistics)
    }
}

extension Optimizer {
    /// For tests: a single order solved by the model, the node-set search left out.
    package static func solveByModel(_ request: OptimizeRequest) throws(FulcrumError) -> OptimizeResponse {
        try plan(request, stock: request.inventory ?? [], options: Options(), searching: false)
    }

    /// For tests: a single order's node-set search run alone from the usual
    /// start; nil when the order is not of its kind. The objective, and
    /// whether it finished (proved it optimal), with its evaluations.
    package static func searchNodeSets(_ request: OptimizeRequest) -> (objective: Double, finished: Bool, evaluations: Int)? {
        let problem = PreparedProblem(request, availability: request.inventory ?? [])
        let (start, objective) = problem.singleOrderStart()
        guard var search = NodeSetSearch(problem, incumbent: start, objective: objective) else { return nil }
        switch search.run() {
        case .optimal(let allocation, let evaluations): return (problem.objective(of: allocation), true, evaluations)
        case .unfinished(let allocation): return (problem.objective(of: allocation), false, Limits.nodeSetEvaluationsMax)
        }
    }

    /// For tests: a batch's column generation run alone (its stock from the
    /// request's inventory, the orders in turn as its start): the lower bound
    /// it proves, the orders' solo optima summed (the bound without duals),
    /// and the objective of the plan it finds.
    package static func columnGeneration(_ request: OptimizeRequest, timeLimitMilliseconds: Int) throws(FulcrumError)
        -> (lowerBound: Double?, soloBound: Double?, objective: Double?)
    {
        let stock = request.inventory ?? []
        let problem = PreparedProblem(request, availability: stock, pruning: false)
        let bounds = try BatchBounds(request, stock: stock, problem: problem, deadline: { timeLimitMilliseconds })
        let generated = try ColumnGeneration(
            request, stock: stock, problem: problem, start: bounds.sequential, timeLimitMilliseconds: timeLimitMilliseconds)
        return (generated.lowerBound, bounds.lowerBound, generated.best?.objective)
    }
}

/// Bounds on a batch from its orders solved one at a time, each to proven
/// optimality: the sum of each order's optimum with all the stock and
/// capacity to itself is a lower bound (the batch only adds sharing), and the
/// orders solved in request order, each against what the earlier ones left,
/// form a plan of the batch. When both agree, that plan is optimal.
struct BatchBounds {
    /// nil when some order could not be solved to optimality in time.
    private(set) var lowerBound: Double?
    /// The orders in turn, as an allocation of the batch; nil when out of time.
    private(set) var sequential: Allocation?

    init(_ request: OptimizeRequest, stock: [Stock], problem: PreparedProblem, deadline: () -> Int) throws(FulcrumError) {
        let rowsOfSKU = Dictionary(grouping: stock, by: \.sku)
        var taken: [String: Int] = [:]
        var capacityTaken: [String: Int] = [:]
        var lowerBound = 0.0
        var allocation = Allocation(candidateCount: problem.candidates.count)
        var complete = true
        for (index, order) in request.orders.enumerated() {
            let skus = Set(order.lines.map(\.sku))
            let rows = skus.flatMap { rowsOfSKU[$0] ?? [] }
            let alone = OptimizeRequest(
                orders: [order], nodes: request.nodes, skus: request.skus, inventory: rows, rates: request.rates,
                rules: request.rules)
            guard deadline() > 0, let best = try Self.solve(alone, deadline: deadline) else { return }
            lowerBound += best.objective
            var left = alone
            left.inventory = rows.map { Stock(node: $0.node, sku: $0.sku, available: max(0, $0.available - taken[$0.node + "\u{0}" + $0.sku, default: 0])) }
            left.nodes = request.nodes.map { node in
                var node = node
                node.capacityUnits = node.capacityUnits.map { max(0, $0 - capacityTaken[node.id, default: 0]) }
                return node
            }
            guard deadline() > 0, let turn = try Self.solve(left, deadline: deadline) else {
                complete = false
                break
            }
            for shipment in turn.plans[0].shipments {
                for item in shipment.lines {
                    let line = order.lines.firstIndex { $0.id == item.line }!
                    taken[shipment.node + "\u{0}" + order.lines[line].sku, default: 0] += item.quantity
                    capacityTaken[shipment.node, default: 0] += item.quantity
                    problem.add(units: item.quantity, order: index, lineInOrder: line, node: shipment.node, to: &allocation)
                }
            }
        }
        self.lowerBound = lowerBound
        sequential = complete ? allocation : nil
    }

    /// The order's optimum, or nil when it is not proven within the deadline.
    private static func solve(_ request: OptimizeRequest, deadline: () -> Int) throws(FulcrumError) -> OptimizeResponse? {
        let response = try Optimizer.solve(request, options: .init(timeLimitMilliseconds: max(1, deadline())))
        return response.status == .optimal ? response : nil
    }
}
