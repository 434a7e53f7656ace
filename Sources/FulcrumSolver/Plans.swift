import FulcrumCore

/// One shipment of an order: a parcel from a node (ordered by node, then parcel).
struct ShipmentKey: Hashable, Comparable {
    var node: Int
    var parcel: Int
    static func < (a: ShipmentKey, b: ShipmentKey) -> Bool { (a.node, a.parcel) < (b.node, b.parcel) }
}

/// Units per candidate: a complete answer of any strategy.
struct Allocation: Sendable, Hashable {
    var units: [Int]

    init(candidateCount: Int) {
        units = Array(repeating: 0, count: candidateCount)
    }
}

extension PreparedProblem {
    /// Turns an allocation into plans with their costs. Costs come from the
    /// plan itself, never from a solver's objective value.
    func response(for allocation: Allocation, status: OptimizeResponse.Status, statistics: OptimizeResponse.Statistics)
        -> OptimizeResponse
    {
        var plans: [OptimizeResponse.Plan] = []
        for (orderIndex, order) in request.orders.enumerated() {
            // A shipment per (node, parcel) that carries units.
            var byShipment: [ShipmentKey: [OptimizeResponse.LineQuantity]] = [:]
            var backorders: [OptimizeResponse.LineQuantity] = []
            var cost = 0.0
            var unitCosts: [ShipmentKey: Double] = [:]
            for lineIndex in linesOfOrder[orderIndex] {
                var filled = 0
                for candidateIndex in candidatesOfLine[lineIndex] where allocation.units[candidateIndex] > 0 {
                    let candidate = candidates[candidateIndex]
                    let units = allocation.units[candidateIndex]
                    let key = ShipmentKey(node: candidate.node, parcel: parcelOfLine[lineIndex])
                    filled += units
                    byShipment[key, default: []].append(.init(line: order.lines[lines[lineIndex].indexInOrder].id, quantity: units))
                    unitCosts[key, default: 0] += Double(units) * candidate.unitCost
                }
                let short = lines[lineIndex].quantity - filled
                precondition(short >= 0, "an allocation overfills line \(lineIndex)")
                if short > 0 {
                    backorders.append(.init(line: order.lines[lines[lineIndex].indexInOrder].id, quantity: short))
                    cost += Double(short) * lines[lineIndex].backorderCost
                }
            }
            let shipments = byShipment.keys.sorted().map { key in
                let shipmentCost = shipmentCost(order: orderIndex, node: key.node) + unitCosts[key]!
                cost += shipmentCost
                return OptimizeResponse.Shipment(
                    node: request.nodes[key.node].id, distanceKilometers: distances[orderIndex][key.node], cost: shipmentCost,
                    lines: byShipment[key]!)
            }
            plans.append(.init(order: order.id, shipments: shipments, backorders: backorders, cost: cost))
        }
        return OptimizeResponse(
            status: status, objective: plans.reduce(0) { $0 + $1.cost }, plans: plans, statistics: statistics,
            explanations: nil)
    }

    /// The same units as `other` (an allocation of `otherProblem`, the same
    /// request prepared otherwise) in this problem's candidates; nil when a
    /// unit sits on a pair this problem does not consider.
    func allocation(mapping other: Allocation, from otherProblem: PreparedProblem) -> Allocation? {
        var allocation = Allocation(candidateCount: candidates.count)
        for (index, units) in other.units.enumerated() where units > 0 {
            let pair = otherProblem.candidates[index]
            guard let mine = candidatesOfLine[pair.line].first(where: { candidates[$0].node == pair.node }) else { return nil }
            allocation.units[mine] += units
        }
        return allocation
    }

    /// Adds units of an order's line from a node (by id) to an allocation.
    func add(units: Int, order: Int, lineInOrder: Int, node: String, to allocation: inout Allocation) {
        let line = linesOfOrder[order].lowerBound + lineInOrder
        let nodeIndex = nodeIndex[node]!
        guard let candidate = candidatesOfLine[line].first(where: { candidates[$0].node == nodeIndex }) else {
            preconditionFailure("a plan of the order alone uses a pair the batch does not consider")
        }
        allocation.units[candidate] += units
    }

    /// The relative gap of an allocation to a bound no plan can beat: every
    /// unit costs at least the cheaper of its cheapest candidate and backordering.
    func gapToSimpleBound(of allocation: Allocation) -> Double {
        var bound = 0.0
        for (line, flat) in lines.enumerated() {
            let cheapest = candidatesOfLine[line].map { candidates[$0].unitCost }.min() ?? .infinity
            bound += Double(flat.quantity) * min(cheapest, flat.backorderCost)
        }
        let objective = objective(of: allocation)
        return objective > 0 ? (objective - bound) / objective : 0
    }

    /// The objective of an allocation (what `response` would report).
    func objective(of allocation: Allocation) -> Double {
        var total = 0.0
        for (orderIndex, range) in linesOfOrder.enumerated() {
            var shipments = Set<ShipmentKey>()
            for lineIndex in range {
                var filled = 0
                for candidateIndex in candidatesOfLine[lineIndex] where allocation.units[candidateIndex] > 0 {
                    let candidate = candidates[candidateIndex]
                    filled += allocation.units[candidateIndex]
                    total += Double(allocation.units[candidateIndex]) * candidate.unitCost
                    shipments.insert(ShipmentKey(node: candidate.node, parcel: parcelOfLine[lineIndex]))
                }
                total += Double(lines[lineIndex].quantity - filled) * lines[lineIndex].backorderCost
            }
            total += shipments.reduce(0) { $0 + shipmentCost(order: orderIndex, node: $1.node) }
        }
        return total
    }
}
