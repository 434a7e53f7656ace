import FulcrumCore

extension Optimizer {
    /// For each order, why each node its plan does not use was not chosen:
    /// the rule that makes it ineligible for each line, or, for a node that
    /// could have shipped, how much more the best plan through it costs
    /// (a solve with that shipment forced).
    static func explain(
        _ response: OptimizeResponse, request: OptimizeRequest, stock: [Stock], timeLimitMilliseconds: Int
    ) throws(FulcrumError) -> [OrderExplanation] {
        let problem = PreparedProblem(request, availability: stock, pruning: false)
        let model = MIPModel(problem)
        var explanations: [OrderExplanation] = []
        for (orderIndex, order) in request.orders.enumerated() {
            let used = Set(response.plans[orderIndex].shipments.map(\.node))
            var nodes: [NodeExplanation] = []
            for (nodeIndex, node) in request.nodes.enumerated() where !used.contains(node.id) {
                if let column = model.shipmentColumn(order: orderIndex, node: nodeIndex, nodeCount: request.nodes.count) {
                    // The best plan that ships this order from this node (the
                    // shipment is paid even if it carries nothing).
                    var forced = try GLPKProblem(model.forcing(column: column))
                    guard let outcome = try forced.solve(incumbent: nil, timeLimitMilliseconds: timeLimitMilliseconds) else {
                        throw FulcrumError(
                            .solverFailure, "explaining \(node.id) for \(order.id) ran out of time", path: "time_limit_ms")
                    }
                    let extra = max(0, outcome.objective - response.objective)
                    nodes.append(.init(node: node.id, reasons: [.moreExpensive(extraCost: extra)]))
                } else {
                    nodes.append(.init(node: node.id, reasons: ineligibility(order: orderIndex, node: nodeIndex, problem)))
                }
            }
            explanations.append(OrderExplanation(order: order.id, nodes: nodes))
        }
        return explanations
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
