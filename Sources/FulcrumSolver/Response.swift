import Foundation
import FulcrumCore

/// An optimize response: one plan per order, in request order, with the
/// cost breakdown and solve statistics.
public struct OptimizeResponse: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// Proven minimal.
        case optimal
        /// A limit stopped the search (or a greedy strategy answered); `stats.gap` says how far.
        case feasible
    }

    public struct LineQuantity: Sendable, Hashable {
        public var line: String
        public var quantity: Int
    }

    public struct Shipment: Sendable, Hashable {
        public var node: String
        public var distanceKilometers: Double
        public var cost: Double
        public var lines: [LineQuantity]
    }

    public struct Plan: Sendable, Hashable {
        public var order: String
        public var shipments: [Shipment]
        public var backorders: [LineQuantity]
        public var cost: Double
    }

    public struct Statistics: Sendable, Hashable {
        public var solveMilliseconds: Double
        public var candidates: Int
        public var variables: Int
        public var constraints: Int
        /// Relative distance of the objective from the best bound: 0 when optimal.
        public var gap: Double
    }

    public var status: Status
    public var objective: Double
    public var plans: [Plan]
    public var statistics: Statistics
    /// With `explain`: why each order does not use each other node.
    public var explanations: [OrderExplanation]?
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
            var byNode: [Int: [OptimizeResponse.LineQuantity]] = [:]
            var backorders: [OptimizeResponse.LineQuantity] = []
            var cost = 0.0
            var unitCosts: [Int: Double] = [:]
            for lineIndex in linesOfOrder[orderIndex] {
                var filled = 0
                for candidateIndex in candidatesOfLine[lineIndex] where allocation.units[candidateIndex] > 0 {
                    let candidate = candidates[candidateIndex]
                    let units = allocation.units[candidateIndex]
                    filled += units
                    byNode[candidate.node, default: []].append(.init(line: order.lines[lines[lineIndex].indexInOrder].id, quantity: units))
                    unitCosts[candidate.node, default: 0] += Double(units) * candidate.unitCost
                }
                let short = lines[lineIndex].quantity - filled
                precondition(short >= 0, "an allocation overfills line \(lineIndex)")
                if short > 0 {
                    backorders.append(.init(line: order.lines[lines[lineIndex].indexInOrder].id, quantity: short))
                    cost += Double(short) * lines[lineIndex].backorderCost
                }
            }
            let shipments = byNode.keys.sorted().map { node in
                let shipmentCost = shipmentCost(order: orderIndex, node: node) + unitCosts[node]!
                cost += shipmentCost
                return OptimizeResponse.Shipment(
                    node: request.nodes[node].id, distanceKilometers: distances[orderIndex][node], cost: shipmentCost,
                    lines: byNode[node]!)
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
            var nodes = Set<Int>()
            for lineIndex in range {
                var filled = 0
                for candidateIndex in candidatesOfLine[lineIndex] where allocation.units[candidateIndex] > 0 {
                    let candidate = candidates[candidateIndex]
                    filled += allocation.units[candidateIndex]
                    total += Double(allocation.units[candidateIndex]) * candidate.unitCost
                    nodes.insert(candidate.node)
                }
                total += Double(lines[lineIndex].quantity - filled) * lines[lineIndex].backorderCost
            }
            total += nodes.reduce(0) { $0 + shipmentCost(order: orderIndex, node: $1) }
        }
        return total
    }
}

extension OptimizeResponse: Encodable {
    private enum Keys: String, CodingKey { case status, objective, plans, stats, explain }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(status.rawValue, forKey: .status)
        try c.encode(objective, forKey: .objective)
        try c.encode(plans, forKey: .plans)
        try c.encode(statistics, forKey: .stats)
        try c.encodeIfPresent(explanations, forKey: .explain)
    }

    /// The response as the spec's JSON, keys sorted for stable output.
    public func json() -> Data { sortedJSON(self) }
}

extension OptimizeResponse.Plan: Codable {
    private enum Keys: String, CodingKey { case order, shipments, backorders, cost }
    /// A plan of a response's JSON (a client of the server reads it back).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        order = try c.decode(String.self, forKey: .order)
        shipments = try c.decode([OptimizeResponse.Shipment].self, forKey: .shipments)
        backorders = try c.decode([OptimizeResponse.LineQuantity].self, forKey: .backorders)
        cost = try c.decode(Double.self, forKey: .cost)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(order, forKey: .order)
        try c.encode(shipments, forKey: .shipments)
        try c.encode(backorders, forKey: .backorders)
        try c.encode(cost, forKey: .cost)
    }
}

extension OptimizeResponse.Shipment: Codable {
    private enum Keys: String, CodingKey { case node, distanceKm = "distance_km", cost, lines }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        node = try c.decode(String.self, forKey: .node)
        distanceKilometers = try c.decode(Double.self, forKey: .distanceKm)
        cost = try c.decode(Double.self, forKey: .cost)
        lines = try c.decode([OptimizeResponse.LineQuantity].self, forKey: .lines)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(node, forKey: .node)
        try c.encode(distanceKilometers, forKey: .distanceKm)
        try c.encode(cost, forKey: .cost)
        try c.encode(lines, forKey: .lines)
    }
}

extension OptimizeResponse.LineQuantity: Codable {
    private enum Keys: String, CodingKey { case line, quantity }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        line = try c.decode(String.self, forKey: .line)
        quantity = try c.decode(Int.self, forKey: .quantity)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(line, forKey: .line)
        try c.encode(quantity, forKey: .quantity)
    }
}

extension OptimizeResponse.Statistics: Encodable {
    private enum Keys: String, CodingKey { case solveMs = "solve_ms", candidates, variables, constraints, gap }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(solveMilliseconds, forKey: .solveMs)
        try c.encode(candidates, forKey: .candidates)
        try c.encode(variables, forKey: .variables)
        try c.encode(constraints, forKey: .constraints)
        try c.encode(gap, forKey: .gap)
    }
}

extension OrderExplanation: Encodable {
    private enum Keys: String, CodingKey { case order, nodes }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(order, forKey: .order)
        try c.encode(nodes, forKey: .nodes)
    }
}

extension NodeExplanation: Encodable {
    private enum Keys: String, CodingKey {
        case node, reasons, line, reason, extraCost = "extra_cost", rule, distanceKm = "distance_km"
        case limitKm = "limit_km", usable
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(node, forKey: .node)
        var list = c.nestedUnkeyedContainer(forKey: .reasons)
        for reason in reasons {
            var item = list.nestedContainer(keyedBy: Keys.self)
            switch reason {
            case .moreExpensive(let extra):
                try item.encode("more_expensive", forKey: .reason)
                try item.encode(extra, forKey: .extraCost)
            case .ineligible(let line, let why):
                try item.encodeIfPresent(line, forKey: .line)
                try item.encode(why.code, forKey: .reason)
                switch why {
                case .excluded(let rule): try item.encode(rule, forKey: .rule)
                case .tooFar(let distance, let limit):
                    try item.encode(distance, forKey: .distanceKm)
                    try item.encode(limit, forKey: .limitKm)
                case .tooLittleForNoSplit(let usable): try item.encode(usable, forKey: .usable)
                default: break
                }
            case .returnIneligible(let why):
                switch why {
                case .disabled: try item.encode("disabled", forKey: .reason)
                case .doesNotAcceptReturns: try item.encode("does_not_accept_returns", forKey: .reason)
                case .excluded(let rule):
                    try item.encode("excluded", forKey: .reason)
                    try item.encode(rule, forKey: .rule)
                case .tooFar(let distance, let limit):
                    try item.encode("too_far", forKey: .reason)
                    try item.encode(distance, forKey: .distanceKm)
                    try item.encode(limit, forKey: .limitKm)
                }
            }
        }
    }
}

extension Ineligibility {
    /// The stable code of the reason, as `--explain` prints it.
    public var code: String {
        switch self {
        case .disabled: "disabled"
        case .excluded: "excluded"
        case .cannotShip: "cannot_ship"
        case .tooFar: "too_far"
        case .notThePickupNode: "not_the_pickup_node"
        case .noUsableStock: "no_stock"
        case .noCapacity: "no_capacity"
        case .tooLittleForNoSplit: "too_little_for_no_split"
        }
    }
}
