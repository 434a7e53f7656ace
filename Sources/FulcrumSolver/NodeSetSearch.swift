import FulcrumCore

/// An exact search for a single order whose lines compete for nothing but
/// the split limit: one parcel, no SKU on two lines (so no shared stock row),
/// no node whose candidates' bounds together exceed its capacity, and no
/// negative shipment cost. Once the set of shipping nodes is fixed, each
/// line then fills on its own from the cheapest of them (or waits where that
/// is cheaper), so the order's optimum is the best set of at most the split
/// limit's nodes: the model's optimum, found without it.
///
/// Branch and bound over the nodes, each shipped from or left out. A subtree
/// is dropped when, with every undecided node shipping for free, the order
/// still cannot beat the best plan known: more nodes never make a line
/// dearer and shipment costs are not negative, so that is a lower bound of
/// every set in the subtree. Finished, the best plan is proven optimal; past
/// `Limits.nodeSetEvaluationsMax` evaluations the search stops and the model
/// decides, starting from the best plan found.
struct NodeSetSearch {
    enum Outcome {
        /// No set of nodes does better: the allocation is optimal.
        case optimal(Allocation, evaluations: Int)
        /// Out of evaluations: the best allocation found, for the model's start.
        case unfinished(Allocation)
    }

    /// One way to fill a line: a candidate, by its node's place in the search.
    private struct Option {
        var slot: Int
        var candidate: Int
        var upperBound: Int
        var unitCost: Double
    }

    /// A node's state in the search, as a bit for `allowed` masks.
    private static let undecided: UInt8 = 1 << 0
    private static let shipping: UInt8 = 1 << 1
    private static let leftOut: UInt8 = 1 << 2

    private let candidateCount: Int
    private let quantities: [Int]
    private let backorderCosts: [Double]
    private let noSplit: [Bool]
    /// Ship-complete: every line filled whole, or the order waits (the
    /// all-waits plan is the caller's to offer).
    private let complete: Bool
    private let splitLimit: Int
    /// Per line, its options cheapest first (ties by slot).
    private let options: [[Option]]
    /// The shipment cost of each slot's node.
    private let shipmentCosts: [Double]
    private let incumbent: Allocation
    private var states: [UInt8]
    private var best: Double
    private var bestShipping: [Bool]?
    private var evaluations = 0

    /// nil when the order is not of the kind this search solves exactly.
    /// `incumbent` is a feasible allocation and `objective` its cost.
    init?(_ problem: PreparedProblem, incumbent: Allocation, objective: Double) {
        guard problem.request.orders.count == 1, problem.parcelsOfOrder[0].count == 1 else { return nil }
        let lines = problem.lines
        for (index, line) in lines.enumerated() where lines[..<index].contains(where: { $0.sku == line.sku }) {
            return nil
        }
        var unitsAtNode = Array(repeating: 0, count: problem.request.nodes.count)
        for candidate in problem.candidates { unitsAtNode[candidate.node] += candidate.upperBound }
        var slotOfNode = Array(repeating: -1, count: problem.request.nodes.count)
        var nodes: [Int] = []
        for (node, units) in unitsAtNode.enumerated() where units > 0 {
            if let capacity = problem.request.nodes[node].capacityUnits, units > capacity { return nil }
            guard problem.shipmentCost(order: 0, node: node) >= 0 else { return nil }
            slotOfNode[node] = nodes.count
            nodes.append(node)
        }
        candidateCount = problem.candidates.count
        quantities = lines.map(\.quantity)
        backorderCosts = lines.map(\.backorderCost)
        noSplit = lines.map(\.noSplit)
        complete = problem.request.orders[0].shipComplete
        splitLimit = problem.maxShipments(order: 0) ?? Int.max
        shipmentCosts = nodes.map { problem.shipmentCost(order: 0, node: $0) }
        states = Array(repeating: Self.undecided, count: nodes.count)
        best = objective
        options = problem.candidatesOfLine.map { ofLine in
            ofLine.map { index in
                let candidate = problem.candidates[index]
                return Option(
                    slot: slotOfNode[candidate.node], candidate: index, upperBound: candidate.upperBound,
                    unitCost: candidate.unitCost)
            }.sorted { ($0.unitCost, $0.slot) < ($1.unitCost, $1.slot) }
        }
        self.incumbent = incumbent
        // Eligibility keeps only the nodes that can fill a no-split line whole.
        assert(zip(options, lines).allSatisfy { ofLine, line in !line.noSplit || ofLine.allSatisfy { $0.upperBound >= line.quantity } })
    }

    /// Searches the node sets, strongest nodes first.
    mutating func run() -> Outcome {
        // The order of the search: each node by what the order costs from it alone.
        let alone = shipmentCosts.indices.map { slot in
            states = Array(repeating: Self.leftOut, count: states.count)
            states[slot] = Self.shipping
            return shipmentCosts[slot] + cost(allowed: Self.shipping)
        }
        let order = shipmentCosts.indices.sorted { (alone[$0], $0) < (alone[$1], $1) }
        states = Array(repeating: Self.undecided, count: states.count)
        let finished = search(order, from: 0, chosen: 0, shipping: 0)
        let found = bestShipping.map { plan(shippingFrom: $0) } ?? incumbent
        return finished ? .optimal(found, evaluations: evaluations) : .unfinished(found)
    }

    /// Decides the nodes of `order` from `position` on, `chosen` of them
    /// shipping already at `shipping` cost. False when out of evaluations.
    private mutating func search(_ order: [Int], from position: Int, chosen: Int, shipping: Double) -> Bool {
        guard evaluations < Limits.nodeSetEvaluationsMax else { return false }
        if chosen == splitLimit || position == order.count { return true }
        // Every undecided node shipping for free: no set below costs less.
        let bound = shipping + cost(allowed: Self.shipping | Self.undecided)
        guard bound < best - 1e-9 * max(1, abs(best)) else { return true }
        let slot = order[position]
        states[slot] = Self.shipping
        let withNode = shipping + shipmentCosts[slot]
        let exact = withNode + cost(allowed: Self.shipping)
        if exact < best - 1e-9 * max(1, abs(best)) {
            best = exact
            bestShipping = states.map { $0 == Self.shipping }
        }
        guard search(order, from: position + 1, chosen: chosen + 1, shipping: withNode) else { return false }
        states[slot] = Self.leftOut
        guard search(order, from: position + 1, chosen: chosen, shipping: shipping) else { return false }
        states[slot] = Self.undecided
        return true
    }

    /// The units and backorders the lines cost, each filled from the nodes in
    /// an `allowed` state, cheapest first; infinity when a ship-complete
    /// order cannot be filled whole.
    private mutating func cost(allowed: UInt8) -> Double {
        evaluations += 1
        var total = 0.0
        for line in options.indices {
            total += fill(line, allowed: allowed) { _, _ in }
        }
        return total
    }

    /// Fills one line (see `cost`), telling `take` each (option, units) used.
    private func fill(_ line: Int, allowed: UInt8, take: (Option, Int) -> Void) -> Double {
        let quantity = quantities[line]
        var left = quantity
        var total = 0.0
        for option in options[line] where states[option.slot] & allowed != 0 {
            // Waiting is no dearer: it never pays to ship (unless the order ships complete).
            if !complete && option.unitCost >= backorderCosts[line] { break }
            let units = noSplit[line] ? quantity : min(left, option.upperBound)
            take(option, units)
            total += Double(units) * option.unitCost
            left -= units
            if left == 0 { return total }
        }
        return complete ? .infinity : total + Double(left) * backorderCosts[line]
    }

    private mutating func plan(shippingFrom shipping: [Bool]) -> Allocation {
        states = shipping.map { $0 ? Self.shipping : Self.leftOut }
        var allocation = Allocation(candidateCount: candidateCount)
        for line in options.indices {
            _ = fill(line, allowed: Self.shipping) { option, units in allocation.units[option.candidate] += units }
        }
        return allocation
    }
}
