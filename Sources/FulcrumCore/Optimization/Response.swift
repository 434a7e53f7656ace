import Foundation

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

        package init(line: String, quantity: Int) {
            self.line = line
            self.quantity = quantity
        }
    }

    public struct Shipment: Sendable, Hashable {
        public var node: String
        public var distanceKilometers: Double
        public var cost: Double
        public var lines: [LineQuantity]

        package init(node: String, distanceKilometers: Double, cost: Double, lines: [LineQuantity]) {
            self.node = node
            self.distanceKilometers = distanceKilometers
            self.cost = cost
            self.lines = lines
        }
    }

    public struct Plan: Sendable, Hashable {
        public var order: String
        public var shipments: [Shipment]
        public var backorders: [LineQuantity]
        public var cost: Double
        /// How the server placed the order's ship-to address when the
        /// request gave no coordinates; nil when it did.
        public var shipToPrecision: PlacementPrecision?

        package init(order: String, shipments: [Shipment], backorders: [LineQuantity], cost: Double) {
            self.order = order
            self.shipments = shipments
            self.backorders = backorders
            self.cost = cost
        }
    }

    public struct Statistics: Sendable, Hashable {
        public var solveMilliseconds: Double
        public var candidates: Int
        public var variables: Int
        public var constraints: Int
        /// Relative distance of the objective from the best bound: 0 when optimal.
        public var gap: Double

        package init(solveMilliseconds: Double, candidates: Int, variables: Int, constraints: Int, gap: Double) {
            self.solveMilliseconds = solveMilliseconds
            self.candidates = candidates
            self.variables = variables
            self.constraints = constraints
            self.gap = gap
        }
    }

    public var status: Status
    public var objective: Double
    public var plans: [Plan]
    public var statistics: Statistics
    /// With `explain`: why each order does not use each other node.
    public var explanations: [OrderExplanation]?
    /// The time limit ran out while explaining: some nodes are `unpriced`.
    public var explanationsIncomplete = false

    package init(
        status: Status, objective: Double, plans: [Plan], statistics: Statistics, explanations: [OrderExplanation]? = nil
    ) {
        self.status = status
        self.objective = objective
        self.plans = plans
        self.statistics = statistics
        self.explanations = explanations
    }
}

extension OptimizeResponse: Encodable {
    private enum Keys: String, CodingKey { case status, objective, plans, stats, explain, explanationsIncomplete = "explanations_incomplete" }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(status.rawValue, forKey: .status)
        try c.encode(objective, forKey: .objective)
        try c.encode(plans, forKey: .plans)
        try c.encode(statistics, forKey: .stats)
        try c.encodeIfPresent(explanations, forKey: .explain)
        if explanationsIncomplete { try c.encode(true, forKey: .explanationsIncomplete) }
    }

    /// The response as the spec's JSON, keys sorted for stable output.
    public func json() -> Data { sortedJSON(self) }
}

extension OptimizeResponse.Plan: Encodable {
    private enum Keys: String, CodingKey { case order, shipments, backorders, cost, shipToPrecision = "ship_to_precision" }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(order, forKey: .order)
        try c.encode(shipments, forKey: .shipments)
        try c.encode(backorders, forKey: .backorders)
        try c.encode(cost, forKey: .cost)
        try c.encodeIfPresent(shipToPrecision?.rawValue, forKey: .shipToPrecision)
    }
}

extension OptimizeResponse.Shipment: Encodable {
    private enum Keys: String, CodingKey { case node, distanceKm = "distance_km", cost, lines }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(node, forKey: .node)
        try c.encode(distanceKilometers, forKey: .distanceKm)
        try c.encode(cost, forKey: .cost)
        try c.encode(lines, forKey: .lines)
    }
}

extension OptimizeResponse.LineQuantity: Encodable {
    private enum Keys: String, CodingKey { case line, quantity }
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
                try item.encode(extra < 0 ? "cheaper" : "more_expensive", forKey: .reason)
                try item.encode(extra, forKey: .extraCost)
            case .shipCompleteUnmet: try item.encode("ship_complete_unmet", forKey: .reason)
            case .unpriced: try item.encode("unpriced", forKey: .reason)
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
