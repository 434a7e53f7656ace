import Dispatch
import FulcrumCore

extension Optimizer {
    /// For each order, why each node its plan does not use was not chosen:
    /// the rule that makes it ineligible for each line, or, for a node that
    /// could ship, what the best plan shipping at least one unit from it
    /// costs beyond the answer's (a solve with that row added; negative when
    /// a greedy answer left money on the table), or why no such plan exists.
    /// When the time limit runs out, the nodes left are `unpriced` and the
    /// response says `explanations_incomplete`.
    static func explain(
        _ response: inout OptimizeResponse, request: OptimizeRequest, stock: [Stock], timeLimitMilliseconds: Int,
        soloPricing: Bool = true
    ) throws(FulcrumError) {
        let started = DispatchTime.now().uptimeNanoseconds
        func remainingMilliseconds() -> Int {
            timeLimitMilliseconds - Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        }
        // An optimal batch splits into independent groups (no row between them
        // can bind): forcing a node on one order changes only its group's
        // plan, so each pair is priced on its group's model alone.
        let whole = PreparedProblem(request, availability: stock, pruning: false)
        let groups = response.status == .optimal && request.orders.count > 1
            ? whole.independentGroups() : [Array(request.orders.indices)]
        let rowsOfSKU = Dictionary(grouping: stock, by: \.sku)
        var explanations = [OrderExplanation?](repeating: nil, count: request.orders.count)
        for group in groups {
            let problem: PreparedProblem
            let baseline: Double
            if groups.count == 1 {
                problem = whole
                baseline = response.objective
            } else {
                let (part, rows) = Self.part(request, orders: group, rowsOfSKU: rowsOfSKU)
                problem = PreparedProblem(part, availability: rows, pruning: false)
                baseline = group.reduce(0) { $0 + response.plans[$1].cost }
            }
            let model = MIPModel(problem)
            let solo = soloPricing && group.count > 1
                ? try SoloPricing(group: group, request: request, response: response, problem: problem, rowsOfSKU: rowsOfSKU,
                    timeLimitMilliseconds: remainingMilliseconds())
                : nil
            for (local, orderIndex) in group.enumerated() {
                let order = request.orders[orderIndex]
                let used = Set(response.plans[orderIndex].shipments.map(\.node))
                var nodes: [NodeExplanation] = []
                for (nodeIndex, node) in request.nodes.enumerated() where !used.contains(node.id) {
                    guard model.ships(order: local, node: nodeIndex, problem) else {
                        nodes.append(.init(node: node.id, reasons: ineligibility(order: local, node: nodeIndex, problem)))
                        continue
                    }
                    let left = remainingMilliseconds()
                    guard left >= 1 else {
                        response.explanationsIncomplete = true
                        nodes.append(.init(node: node.id, reasons: [.unpriced]))
                        continue
                    }
                    if let solo, let reason = try solo.price(local, node: nodeIndex, timeLimitMilliseconds: left) {
                        nodes.append(.init(node: node.id, reasons: [reason]))
                        continue
                    }
                    var forced = try GLPKProblem(model.forcingUnits(order: local, node: nodeIndex, problem))
                    switch try forced.solveOrProveInfeasible(incumbent: nil, timeLimitMilliseconds: left) {
                    case .solved(let outcome):
                        nodes.append(.init(node: node.id, reasons: [.moreExpensive(extraCost: outcome.objective - baseline)]))
                    case .infeasible:
                        // Only the all-or-nothing rule can make one unit from an eligible node impossible:
                        // any other order can ship that unit and backorder the rest.
                        guard order.shipComplete else {
                            throw FulcrumError(.solverFailure, "no plan ships a unit of \(order.id) from \(node.id)", path: "explain")
                        }
                        nodes.append(.init(node: node.id, reasons: [.shipCompleteUnmet]))
                    case .timedOut:
                        response.explanationsIncomplete = true
                        nodes.append(.init(node: node.id, reasons: [.unpriced]))
                    }
                }
                explanations[orderIndex] = OrderExplanation(order: order.id, nodes: nodes)
            }
        }
        response.explanations = explanations.map { $0! }
    }

    /// For tests: `solve` with `explain`, every alternative priced by solving
    /// its group with the row added (no solo pricing), to compare with.
    package static func solveExplainingByGroupSolves(_ request: OptimizeRequest) throws(FulcrumError) -> OptimizeResponse {
        var response = try solve(request)
        try explain(
            &response, request: request, stock: request.inventory ?? [], timeLimitMilliseconds: Options().timeLimitMilliseconds,
            soloPricing: false)
        return response
    }

    /// The reason each line cannot come from the node, collapsed to one
    /// reason when every line shares it.
    private static func ineligibility(order: Int, node: Int, _ problem: PreparedProblem) -> [NodeExplanation.Reason] {
        let lines = problem.linesOfOrder[order].map { line -> (String, Ineligibility) in
            let id = problem.request.orders[order].lines[problem.lines[line].indexInOrder].id
            guard case .failure(let failure) = problem.eligibility(line: line, node: node) else {
                preconditionFailure("a node without a shipment column has no candidate")
            }
            return (id, failure.reason)
        }
        if Set(lines.map(\.1)).count == 1 { return [.ineligible(line: nil, lines[0].1)] }
        return lines.map { .ineligible(line: $0.0, $0.1) }
    }
}

/// Pricing an alternative node without re-solving the whole group, where a
/// bound settles it. Forcing order o to ship from node n costs at least
/// o's best forced plan alone (all the stock to itself) plus every other
/// order's solo optimum (dropping the shared rows only lowers a minimum).
/// When o's forced plan fits in the stock and capacity beside plans of the
/// other orders that are each their solo optimum — their plans in the
/// answer — that combination meets the bound: it is the forced optimum.
/// Likewise with the other orders' own optimum as a batch without o (a bound
/// too: o's forced plan alone plus the rest's optimum without o), solved
/// once per order. Otherwise (nil) the group is solved with the row added.
private struct SoloPricing {
    /// Units a plan takes per (node id + NUL + SKU) and per node id.
    struct Use {
        var stock: [String: Int] = [:]
        var nodes: [String: Int] = [:]

        init(_ plan: OptimizeResponse.Plan, order: Order) {
            let skuOfLine = Dictionary(uniqueKeysWithValues: order.lines.map { ($0.id, $0.sku) })
            for shipment in plan.shipments {
                for line in shipment.lines {
                    stock[shipment.node + "\u{0}" + skuOfLine[line.line]!, default: 0] += line.quantity
                    nodes[shipment.node, default: 0] += line.quantity
                }
            }
        }

        init() {}
    }

    /// Per order of the group (local index): the order alone with every unit of stock.
    private let alone: [PreparedProblem]
    /// Each order's solo optimum (nil: not proven).
    private let soloCosts: [Double?]
    /// Per order: the other orders' optimum as a batch without it, and their
    /// plans in it (nil: not proven); computed when first needed.
    private let rests: [RestCache]
    private let request: OptimizeRequest
    private let group: [Int]
    private let rowsOfSKU: [String: [Stock]]
    /// Each order's plan in the answer.
    private let costs: [Double]
    private let uses: [Use]
    private let problem: PreparedProblem
    private let skuIndex: [String: Int]

    init(
        group: [Int], request: OptimizeRequest, response: OptimizeResponse, problem: PreparedProblem,
        rowsOfSKU: [String: [Stock]], timeLimitMilliseconds: Int
    ) throws(FulcrumError) {
        self.problem = problem
        skuIndex = Dictionary(uniqueKeysWithValues: problem.skuIDs.enumerated().map { ($1, $0) })
        var alone: [PreparedProblem] = []
        var soloCosts: [Double?] = []
        for orderIndex in group {
            let order = request.orders[orderIndex]
            let rows = Set(order.lines.map(\.sku)).sorted().flatMap { rowsOfSKU[$0] ?? [] }
            var single = request
            single.orders = [order]
            single.inventory = rows
            alone.append(PreparedProblem(single, availability: rows, pruning: false))
            let best = try Optimizer.solve(single, options: .init(timeLimitMilliseconds: max(1, timeLimitMilliseconds)))
            soloCosts.append(best.status == .optimal ? best.objective : nil)
        }
        self.alone = alone
        self.soloCosts = soloCosts
        rests = group.map { _ in RestCache() }
        self.request = request
        self.group = group
        self.rowsOfSKU = rowsOfSKU
        costs = group.map { response.plans[$0].cost }
        uses = group.map { Use(response.plans[$0], order: request.orders[$0]) }
    }

    /// The reason for `node` not shipping order `local`, when the bound settles it.
    func price(_ local: Int, node: Int, timeLimitMilliseconds: Int) throws(FulcrumError) -> NodeExplanation.Reason? {
        let others = alone.indices.filter { $0 != local }
        let own = alone[local]
        let model = MIPModel(own)
        guard model.ships(order: 0, node: node, own) else { return nil }
        var forced = try GLPKProblem(model.forcingUnits(order: 0, node: node, own))
        switch try forced.solveOrProveInfeasible(incumbent: nil, timeLimitMilliseconds: timeLimitMilliseconds) {
        case .solved(let outcome) where outcome.status == .optimal:
            var forcedUse = Use()
            let allocation = model.allocation(from: outcome.columnValues, own)
            for (index, units) in allocation.units.enumerated() where units > 0 {
                let candidate = own.candidates[index]
                let nodeID = own.request.nodes[candidate.node].id
                forcedUse.stock[nodeID + "\u{0}" + own.skuIDs[own.lines[candidate.line].sku], default: 0] += units
                forcedUse.nodes[nodeID, default: 0] += units
            }
            let baseline = costs.reduce(0, +)
            let answerAtOptimum = others.allSatisfy { other in
                soloCosts[other].map { costs[other] <= $0 + 1e-9 * max(1, abs($0)) } ?? false
            }
            if answerAtOptimum, fits([forcedUse] + others.map { uses[$0] }) {
                let solo = others.reduce(0.0) { $0 + soloCosts[$1]! }
                return .moreExpensive(extraCost: outcome.objective + solo - baseline)
            }
            if let (cost, plans) = try rest(without: local, timeLimitMilliseconds: timeLimitMilliseconds), fits([forcedUse] + plans) {
                return .moreExpensive(extraCost: outcome.objective + cost - baseline)
            }
            return nil
        case .infeasible:
            // Not even alone with every unit: not in the group either.
            return own.request.orders[0].shipComplete ? .shipCompleteUnmet : nil
        default:
            return nil
        }
    }

    /// One order's rest, once solved.
    private final class RestCache {
        var value: (cost: Double, uses: [Use])??
    }

    /// The group's other orders solved as a batch without order `local`.
    private func rest(without local: Int, timeLimitMilliseconds: Int) throws(FulcrumError) -> (cost: Double, uses: [Use])? {
        if let known = rests[local].value { return known }
        var others = request
        others.orders = group.enumerated().filter { $0.offset != local }.map { request.orders[$0.element] }
        let rows = Set(others.orders.flatMap { $0.lines.map(\.sku) }).sorted().flatMap { rowsOfSKU[$0] ?? [] }
        others.inventory = rows
        let solved = try Optimizer.solve(others, options: .init(timeLimitMilliseconds: max(1, timeLimitMilliseconds)))
        let value = solved.status == .optimal ? (solved.objective, zip(solved.plans, others.orders).map { Use($0, order: $1) }) : nil
        rests[local].value = .some(value)
        return value
    }

    /// Whether plans taking these units together stay within the usable stock and the capacities.
    private func fits(_ plans: [Use]) -> Bool {
        var stock: [String: Int] = [:]
        var nodes: [String: Int] = [:]
        for plan in plans {
            stock.merge(plan.stock, uniquingKeysWith: +)
            nodes.merge(plan.nodes, uniquingKeysWith: +)
        }
        for (key, units) in stock {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            guard let node = problem.nodeIndex[parts[0]], let sku = skuIndex[parts[1]],
                units <= problem.usableUnits(node: node, sku: sku)
            else { return false }
        }
        for (id, units) in nodes {
            guard let node = problem.nodeIndex[id] else { return false }
            if let capacity = problem.request.nodes[node].capacityUnits, units > capacity { return false }
        }
        return true
    }
}
