import FulcrumCore

/// A single order's answer: its plan, whether it is proven optimal (else the
/// gap to a bound), and the model's size (none when no model was needed).
struct SingleOrderSolution {
    var allocation: Allocation
    var status: OptimizeResponse.Status
    var gap: Double
    var variables = 0
    var constraints = 0
}

/// Single orders by the cheapest means that proves the optimum: a plan whose
/// cost meets a lower bound needs nothing more; else the node-set search;
/// else branch and bound on the MIP, from the best plan known.
extension PreparedProblem {
    /// Solves a single-order problem (`searching: false` leaves it to the model).
    func solveSingleOrder(timeLimitMilliseconds: Int, searching: Bool = true) throws(FulcrumError) -> SingleOrderSolution {
        let (start, startObjective) = singleOrderStart()
        let bound = singleOrderLowerBound()
        if startObjective <= bound + 1e-9 * max(1, bound) {
            return SingleOrderSolution(allocation: start, status: .optimal, gap: 0)
        }
        var incumbent = start
        if searching, var search = NodeSetSearch(self, incumbent: start, objective: startObjective) {
            switch search.run() {
            case .optimal(let allocation, _): return SingleOrderSolution(allocation: allocation, status: .optimal, gap: 0)
            case .unfinished(let allocation): incumbent = allocation
            }
        }
        let model = MIPModel(self)
        var program = try GLPKProblem(model)
        let outcome = try program.solve(
            incumbent: model.columnValues(for: incumbent, self), timeLimitMilliseconds: timeLimitMilliseconds)
        // Out of time before any integer solution: the best plan known, with its gap to a simple bound.
        return SingleOrderSolution(
            allocation: outcome.map { model.allocation(from: $0.columnValues, self) } ?? incumbent,
            status: outcome?.status ?? .feasible, gap: outcome?.gap ?? gapToSimpleBound(of: incumbent),
            variables: model.columns.count, constraints: model.rows.count)
    }

    /// No plan of a single-order problem costs less: either everything waits,
    /// or at least the cheapest shipment is paid and every unit costs at least
    /// the cheaper of its cheapest candidate and waiting.
    func singleOrderLowerBound() -> Double {
        precondition(request.orders.count == 1, "a bound for one order")
        var waiting = 0.0
        var cheapestUnits = 0.0
        for (line, flat) in lines.enumerated() {
            waiting += Double(flat.quantity) * flat.backorderCost
            let cheapest = candidatesOfLine[line].map { candidates[$0].unitCost }.min() ?? .infinity
            cheapestUnits += Double(flat.quantity) * min(cheapest, flat.backorderCost)
        }
        let cheapestShipment = Set(candidates.map(\.node)).map { shipmentCost(order: 0, node: $0) }.min()
        return cheapestShipment.map { min(waiting, $0 + cheapestUnits) } ?? waiting
    }

    /// A single order's first plan: the cheapest of nearest-first and the
    /// plans shipping the order whole from one node or letting it all wait,
    /// with its objective.
    func singleOrderStart() -> (Allocation, Double) {
        let greedy = GreedyStrategy.nearest.allocate(self)
        return ([greedy] + wholeOrderPlans()).map { ($0, objective(of: $0)) }.min { $0.1 < $1.1 }!
    }

    /// The plans that ship the whole order from one node, for every node
    /// with the stock and capacity to do so; and the plan where all waits.
    func wholeOrderPlans() -> [Allocation] {
        var plans = [Allocation(candidateCount: candidates.count)]
        let demand = lines.reduce(0) { $0 + $1.quantity }
        var demandOfSKU = Array(repeating: 0, count: skuIDs.count)
        for line in lines { demandOfSKU[line.sku] += line.quantity }
        // Per node, the lines it can fill whole: a candidate, and stock for all of the SKU's demand.
        var filled = Array(repeating: 0, count: request.nodes.count)
        for (line, flat) in lines.enumerated() {
            for candidate in candidatesOfLine[line] {
                let node = candidates[candidate].node
                if usableUnits(node: node, sku: flat.sku) >= demandOfSKU[flat.sku] { filled[node] += 1 }
            }
        }
        for node in request.nodes.indices
        where filled[node] == lines.count && (request.nodes[node].capacityUnits ?? Int.max) >= demand {
            var plan = Allocation(candidateCount: candidates.count)
            for line in lines.indices {
                let candidate = candidatesOfLine[line].first { candidates[$0].node == node }!
                plan.units[candidate] = lines[line].quantity
            }
            plans.append(plan)
        }
        return plans
    }

}
