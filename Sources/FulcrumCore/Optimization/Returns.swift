import Foundation

/// A customer return: which location should receive it. Shape documented in
/// `models/returns.md`. The whole return travels as one parcel to one node.
public struct ReturnRequest: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        public var id: String
        public var kind: NodeKind = .warehouse
        public var location: Location
        public var enabled = true
        public var acceptsReturns = true
        /// Handling cost per returned parcel at this node.
        public var returnCostPerShipment: Double = 0
        /// Handling cost per returned unit (inspection, restocking).
        public var returnCostPerUnit: Double = 0

        public init(
            id: String, kind: NodeKind = .warehouse, location: Location, enabled: Bool = true,
            acceptsReturns: Bool = true, returnCostPerShipment: Double = 0, returnCostPerUnit: Double = 0
        ) {
            self.id = id
            self.kind = kind
            self.location = location
            self.enabled = enabled
            self.acceptsReturns = acceptsReturns
            self.returnCostPerShipment = returnCostPerShipment
            self.returnCostPerUnit = returnCostPerUnit
        }
    }

    /// The return's id.
    public var id: String
    /// The original order, for the record.
    public var order: String?
    /// Where the customer sends it from.
    public var from: Location
    public var lines: [Line]
    public var nodes: [Node]
    public var skus: [SKU]
    public var rates: Rates
    /// Only `max_distance_km` and `exclude` apply to returns.
    public var rules: Rules

    public init(
        id: String, order: String? = nil, from: Location, lines: [Line], nodes: [Node], skus: [SKU] = [],
        rates: Rates = Rates(), rules: Rules = Rules()
    ) {
        self.id = id
        self.order = order
        self.from = from
        self.lines = lines
        self.nodes = nodes
        self.skus = skus
        self.rates = rates
        self.rules = rules
    }
}

/// The chosen location and the cost breakdown, or none when no node may take
/// the return (the explanations say why).
public struct ReturnResponse: Sendable, Hashable {
    public struct Choice: Sendable, Hashable {
        public var node: String
        public var distanceKilometers: Double
        /// Carrier cost: per parcel, per kilometre, per kg·km.
        public var shippingCost: Double
        /// The node's handling cost.
        public var handlingCost: Double
        public var cost: Double { shippingCost + handlingCost }

        package init(node: String, distanceKilometers: Double, shippingCost: Double, handlingCost: Double) {
            self.node = node
            self.distanceKilometers = distanceKilometers
            self.shippingCost = shippingCost
            self.handlingCost = handlingCost
        }
    }

    public var returnID: String
    public var choice: Choice?
    public var explanations: [NodeExplanation]?

    package init(returnID: String, choice: Choice?, explanations: [NodeExplanation]?) {
        self.returnID = returnID
        self.choice = choice
        self.explanations = explanations
    }
}

/// Why a node may not receive a return.
public enum ReturnIneligibility: Sendable, Hashable {
    case disabled
    case doesNotAcceptReturns
    case excluded(rule: Int)
    case tooFar(distanceKilometers: Double, limitKilometers: Double)
}

extension ReturnRequest {
    /// Decodes and validates a return request; errors as for optimize requests.
    public static func decode(json: Data) throws(FulcrumError) -> ReturnRequest {
        let request = try decodeJSON(ReturnRequest.self, from: json)
        try request.validate()
        return request
    }

    public func validate() throws(FulcrumError) {
        try Names.validate(id, path: "return.id")
        try from.validate(path: "return.from")
        guard !lines.isEmpty else { throw FulcrumError(.invalidArgument, "a return needs at least one line", path: "return.lines") }
        _ = try uniqueIDs(lines.map(\.id), path: "return.lines")
        for (index, line) in lines.enumerated() {
            try Names.validate(line.sku, path: "return.lines[\(index)].sku")
            guard line.quantity >= 1, line.quantity <= Limits.quantityMax else {
                throw FulcrumError(.invalidArgument, "quantity must be 1...\(Limits.quantityMax)", path: "return.lines[\(index)].quantity")
            }
        }
        let nodeIDs = try uniqueIDs(nodes.map(\.id), path: "nodes")
        for (index, node) in nodes.enumerated() {
            try node.location.validate(path: "nodes[\(index)]")
            try check(node.returnCostPerShipment, path: "nodes[\(index)].return_cost_per_shipment")
            try check(node.returnCostPerUnit, path: "nodes[\(index)].return_cost_per_unit")
        }
        try OptimizeRequest.validate(skus: skus)
        try rates.validate()
        try rules.validate(nodeIDs: nodeIDs)
    }
}

extension ReturnResponse: Encodable {
    private enum Keys: String, CodingKey {
        case `return`, node, distanceKm = "distance_km", shippingCost = "shipping_cost"
        case handlingCost = "handling_cost", cost, explain
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(returnID, forKey: .return)
        if let choice {
            try c.encode(choice.node, forKey: .node)
            try c.encode(choice.distanceKilometers, forKey: .distanceKm)
            try c.encode(choice.shippingCost, forKey: .shippingCost)
            try c.encode(choice.handlingCost, forKey: .handlingCost)
            try c.encode(choice.cost, forKey: .cost)
        } else {
            try c.encodeNil(forKey: .node)
        }
        try c.encodeIfPresent(explanations, forKey: .explain)
    }

    /// The response as JSON, keys sorted.
    public func json() -> Data { sortedJSON(self) }
}
