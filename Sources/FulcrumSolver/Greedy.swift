import FulcrumCore

/// The baselines most open-source shops use, with every hard rule of the
/// spec respected (eligibility, stock, capacity, split limits, ship-complete,
/// no-split), so that replays compare like with like.
enum GreedyStrategy: Sendable {
    /// Nodes in a fixed priority order: the request's node order (Magento MSI's source priority).
    case priority
    /// Nearest node with stock first, splitting as needed.
    case nearest

    /// Fills orders one by one, in request order, taking from nodes in this
    /// strategy's order.
    func allocate(_ problem: PreparedProblem) -> Allocation {
        var allocation = Allocation(candidateCount: problem.candidates.count)
        var stockLeft = problem.usable
        var capacityLeft = problem.request.nodes.map { $0.capacityUnits ?? Int.max }
        for order in problem.request.orders.indices {
            let complete = fill(
                order: order, problem, &allocation, stockLeft: &stockLeft, capacityLeft: &capacityLeft)
            if problem.request.orders[order].shipComplete && !complete {
                // The whole order waits: give back what it took.
                for line in problem.linesOfOrder[order] {
                    let sku = problem.lines[line].sku
                    for candidate in problem.candidatesOfLine[line] where allocation.units[candidate] > 0 {
                        let node = problem.candidates[candidate].node
                        stockLeft[PreparedProblem.stockKey(node: node, sku: sku, skuCount: problem.skuIDs.count)] +=
                            allocation.units[candidate]
                        capacityLeft[node] += allocation.units[candidate]
                        allocation.units[candidate] = 0
                    }
                }
            }
        }
        return allocation
    }

    /// Fills one order's lines; returns whether every line was filled.
    private func fill(
        order: Int, _ problem: PreparedProblem, _ allocation: inout Allocation, stockLeft: inout [Int],
        capacityLeft: inout [Int]
    ) -> Bool {
        var used = Set<ShipmentKey>()
        let limit = problem.maxShipments(order: order) ?? Int.max
        var complete = true
        for line in problem.linesOfOrder[order] {
            let flat = problem.lines[line]
            var need = flat.quantity
            for candidate in ordered(problem.candidatesOfLine[line], problem, order: order) where need > 0 {
                let node = problem.candidates[candidate].node
                let shipment = ShipmentKey(node: node, parcel: problem.parcelOfLine[line])
                if !used.contains(shipment) && used.count >= limit { continue }
                let key = PreparedProblem.stockKey(node: node, sku: flat.sku, skuCount: problem.skuIDs.count)
                let free = min(stockLeft[key], capacityLeft[node])
                let take = flat.noSplit ? (free >= flat.quantity ? flat.quantity : 0) : min(need, free)
                guard take > 0 else { continue }
                allocation.units[candidate] += take
                stockLeft[key] -= take
                capacityLeft[node] -= take
                used.insert(shipment)
                need -= take
            }
            if need > 0 { complete = false }
        }
        return complete
    }

    private func ordered(_ candidates: [Int], _ problem: PreparedProblem, order: Int) -> [Int] {
        switch self {
        case .priority:
            return candidates  // already in node order
        case .nearest:
            let distances = problem.distances[order]
            return candidates.sorted { a, b in
                let (nodeA, nodeB) = (problem.candidates[a].node, problem.candidates[b].node)
                return (distances[nodeA], nodeA) < (distances[nodeB], nodeB)
            }
        }
    }
}
