import FulcrumCore
/// Answers that need no branch and bound: for a single order, a plan whose
/// cost meets a lower bound is optimal.
extension PreparedProblem {
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

    /// The plans that ship the whole order from one node, for every node
    /// with the stock and capacity to do so; and the plan where all waits.
    func wholeOrderPlans() -> [Allocation] {
        var plans = [Allocation(candidateCount: candidates.count)]
        let demand = lines.reduce(0) { $0 + $1.quantity }
        var demandOfSKU: [Int: Int] = [:]
        for line in lines { demandOfSKU[line.sku, default: 0] += line.quantity }
        for node in request.nodes.indices where (request.nodes[node].capacityUnits ?? Int.max) >= demand {
            var plan = Allocation(candidateCount: candidates.count)
            let whole = lines.indices.allSatisfy { line in
                guard let candidate = candidatesOfLine[line].first(where: { candidates[$0].node == node }),
                    usableUnits(node: node, sku: lines[line].sku) >= demandOfSKU[lines[line].sku]!
                else { return false }
                plan.units[candidate] = lines[line].quantity
                return true
            }
            if whole { plans.append(plan) }
        }
        return plans
    }
}
