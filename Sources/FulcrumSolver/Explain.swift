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
    static func explain(_ response: inout OptimizeResponse, request: OptimizeRequest, stock: [Stock], timeLimitMilliseconds: Int)
        throws(FulcrumError)
    {
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
