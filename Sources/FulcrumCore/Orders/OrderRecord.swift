/// Where an order ships to: coordinates for the solver, address parts for policies.
public struct Address: Codable, Sendable, Hashable {
    public var latitude: Double?
    public var longitude: Double?
    public var region: String?
    public var country: String?
    public var postalCode: String?
    public var city: String?
    public init(
        latitude: Double? = nil, longitude: Double? = nil, region: String? = nil, country: String? = nil,
        postalCode: String? = nil, city: String? = nil
    ) {
        self.latitude = latitude
        self.longitude = longitude
        self.region = region
        self.country = country
        self.postalCode = postalCode
        self.city = city
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case latitude, longitude, region, country, postalCode, city }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            latitude: try c.decodeIfPresent(Double.self, forKey: .latitude),
            longitude: try c.decodeIfPresent(Double.self, forKey: .longitude),
            region: try c.decodeIfPresent(String.self, forKey: .region),
            country: try c.decodeIfPresent(String.self, forKey: .country),
            postalCode: try c.decodeIfPresent(String.self, forKey: .postalCode),
            city: try c.decodeIfPresent(String.self, forKey: .city))
    }
}

/// An order as it arrives (from a provider shim or a client), in Fulcrum's
/// ids: the payload of an `order.created` event.
public struct OrderIntake: Codable, Sendable, Hashable {
    public struct Line: Codable, Sendable, Hashable {
        public var id: String
        public var sku: String
        public var quantity: Int64
        public init(id: String, sku: String, quantity: Int64) {
            self.id = id
            self.sku = sku
            self.quantity = quantity
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case id, sku, quantity }

        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                id: try c.decode(String.self, forKey: .id), sku: try c.decode(String.self, forKey: .sku),
                quantity: try c.decodeInteger(forKey: .quantity))
        }
    }
    public var id: String
    /// The provider it came from (`shopify`, `bigcommerce`, `file`, ...).
    public var source: String
    public var shipTo: Address
    public var shippingMethod: String?
    public var lines: [Line]
    public var attributes: [String: String]
    /// Buy online, pick up in store: the node the customer collects from
    /// (the order is reserved there only and ships nowhere).
    public var pickupNode: String?
    /// A pickup brought out to the customer's car at `pickup_node`.
    public var curbside = false
    /// The sales channel it was sold in (`web`, `marketplace`, `stores`):
    /// its reservation takes that channel's allocations first.
    public var channel: String?

    public init(
        id: String, source: String, shipTo: Address, shippingMethod: String? = nil, lines: [Line],
        attributes: [String: String] = [:], pickupNode: String? = nil, curbside: Bool = false, channel: String? = nil
    ) {
        self.channel = channel
        self.id = id
        self.source = source
        self.shipTo = shipTo
        self.shippingMethod = shippingMethod
        self.lines = lines
        self.attributes = attributes
        self.pickupNode = pickupNode
        self.curbside = curbside
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, source, shipTo, shippingMethod, lines, attributes, pickupNode, curbside, channel
    }

    /// `source` (default `api`) and `attributes` may be left out.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        source = try container.decodeIfPresent(String.self, forKey: .source) ?? "api"
        shipTo = try container.decodeIfPresent(Address.self, forKey: .shipTo) ?? Address()
        shippingMethod = try container.decodeIfPresent(String.self, forKey: .shippingMethod)
        lines = try container.decode([Line].self, forKey: .lines)
        attributes = try container.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
        pickupNode = try container.decodeIfPresent(String.self, forKey: .pickupNode)
        curbside = try container.decodeIfPresent(Bool.self, forKey: .curbside) ?? false
        channel = try container.decodeIfPresent(String.self, forKey: .channel)
    }

    /// Checks ids, quantities and bounds; errors name the field.
    public func validate() throws(FulcrumError) {
        try Names.validate(id, path: "order.id")
        try Names.validate(source, path: "order.source")
        if let pickupNode { try Names.validate(pickupNode, path: "order.pickup_node") }
        if let channel { try Names.validate(channel, path: "order.channel") }
        if curbside && pickupNode == nil {
            throw FulcrumError(.invalidArgument, "a curbside order is a pickup: give its pickup_node", path: "order.curbside")
        }
        guard !lines.isEmpty, lines.count <= Limits.reservationLinesMax else {
            throw FulcrumError(.invalidArgument, "an order has 1 to \(Limits.reservationLinesMax) lines", path: "order.lines")
        }
        var ids = Set<String>()
        for (index, line) in lines.enumerated() {
            try Names.validate(line.id, path: "order.lines[\(index)].id")
            try Names.validate(line.sku, path: "order.lines[\(index)].sku")
            try Names.validateQuantity(line.quantity, path: "order.lines[\(index)].quantity")
            guard ids.insert(line.id).inserted else {
                throw FulcrumError(.duplicateID, "line id \(line.id) is given twice", path: "order.lines[\(index)].id")
            }
        }
        if let latitude = shipTo.latitude, !(-90...90).contains(latitude) {
            throw FulcrumError(.invalidArgument, "latitude \(latitude) is outside [-90, 90]", path: "order.ship_to.latitude")
        }
        if let longitude = shipTo.longitude, !(-180...180).contains(longitude) {
            throw FulcrumError(
                .invalidArgument, "longitude \(longitude) is outside [-180, 180]", path: "order.ship_to.longitude")
        }
        guard attributes.count <= Limits.orderAttributesMax else {
            throw FulcrumError(
                .invalidArgument, "an order has at most \(Limits.orderAttributesMax) attributes", path: "order.attributes")
        }
        for (key, value) in attributes {
            try Names.validate(key, path: "order.attributes")
            try Names.validateText(value, path: "order.attributes.\(key)", bytesMax: Limits.nameBytesMax, allowEmpty: true)
        }
    }
}

/// The orchestrator's stored view of one order and the entities under it
/// (order lines, fulfillment orders, returns), with its journey's status.
public struct OrderRecord: Codable, Sendable, Hashable {
    public struct LineRecord: Codable, Sendable, Hashable {
        public var id: String
        public var sku: String
        public var quantity: Int64
        public var state: String
        /// Units per node once reserved (every shipment group's).
        public var allocations: [String: Int64] = [:]

        /// Units no reservation of the order holds yet (those a shipment
        /// group of `on_shortage: ship_available` left waiting).
        public var unreserved: Int64 { quantity - allocations.values.reduce(0, +) }

        package init(id: String, sku: String, quantity: Int64, state: String, allocations: [String: Int64] = [:]) {
            self.id = id
            self.sku = sku
            self.quantity = quantity
            self.state = state
            self.allocations = allocations
        }
    }

    public struct FulfillmentOrder: Codable, Sendable, Hashable {
        public struct Line: Codable, Sendable, Hashable {
            public var line: String
            public var sku: String
            public var quantity: Int64

            package init(line: String, sku: String, quantity: Int64) {
                self.line = line
                self.sku = sku
                self.quantity = quantity
            }
        }
        public var id: String
        public var node: String
        public var lines: [Line]
        public var state: String
        public var tracking: String?

        package init(id: String, node: String, lines: [Line], state: String, tracking: String? = nil) {
            self.id = id
            self.node = node
            self.lines = lines
            self.state = state
            self.tracking = tracking
        }
    }

    public struct Return: Codable, Sendable, Hashable {
        public struct Line: Codable, Sendable, Hashable {
            public var sku: String
            public var quantity: Int64
            /// Once received: `restock`, `refurbish` or `dispose` (`Disposition`).
            public var disposition: String?
            public init(sku: String, quantity: Int64, disposition: String? = nil) {
                self.sku = sku
                self.quantity = quantity
                self.disposition = disposition
            }

            enum CodingKeys: String, CodingKey, CaseIterable { case sku, quantity, disposition }

            public init(from decoder: any Decoder) throws {
                try decoder.refuseUnknownFields(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                self.init(
                    sku: try c.decode(String.self, forKey: .sku), quantity: try c.decodeInteger(forKey: .quantity),
                    disposition: try c.decodeIfPresent(String.self, forKey: .disposition))
            }
        }
        public var id: String
        /// As requested.
        public var lines: [Line]
        public var state: String
        /// The node chosen to receive it, or where it was received.
        public var node: String?
        /// As received and inspected, each with its disposition.
        public var received: [Line]

        package init(id: String, lines: [Line], state: String, node: String? = nil, received: [Line] = []) {
            self.id = id
            self.lines = lines
            self.state = state
            self.node = node
            self.received = received
        }

        enum CodingKeys: String, CodingKey { case id, lines, state, node, received }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                id: try c.decode(String.self, forKey: .id), lines: try c.decode([Line].self, forKey: .lines),
                state: try c.decode(String.self, forKey: .state), node: try c.decodeIfPresent(String.self, forKey: .node),
                received: try c.decodeIfPresent([Line].self, forKey: .received) ?? [])
        }
    }

    /// Why the journey stopped, and where reprocessing resumes.
    public struct Failure: Codable, Sendable, Hashable {
        public var step: String
        public var code: String
        public var message: String
        public var resumeStep: String?
        public var atMs: Int64

        package init(step: String, code: String, message: String, resumeStep: String? = nil, atMs: Int64) {
            self.step = step
            self.code = code
            self.message = message
            self.resumeStep = resumeStep
            self.atMs = atMs
        }
    }

    /// A provider step waiting for its messages to be acknowledged.
    public struct Waiting: Codable, Sendable, Hashable {
        public var step: String
        public var messages: [String]
        /// Fields of the event that ran the step, passed on to its output events.
        public var fields: [String: String]

        package init(step: String, messages: [String], fields: [String: String]) {
            self.step = step
            self.messages = messages
            self.fields = fields
        }
    }

    public var id: String
    public var source: String
    public var state: String
    public var shipTo: Address
    public var shippingMethod: String?
    public var lines: [LineRecord]
    public var attributes: [String: String]
    /// Set by execution policies: the node every line ships from.
    public var sourceNode: String?
    /// Set by execution policies: only nodes of this kind may ship.
    public var sourceKind: String?
    /// Set by execution policies: the fulfillment profile the order is
    /// sourced under (over the sourcing step's).
    public var profile: String?
    /// Buy online, pick up in store: the node the customer collects from.
    public var pickupNode: String?
    /// True for a curbside pickup (brought out to the car); nil otherwise.
    public var curbside: Bool?
    /// The sales channel it was sold in (from intake, or set by a policy).
    public var channel: String?
    public var shipComplete: Bool?
    public var maxShipments: Int?
    public var priority: Double?
    /// Shipped in groups as stock arrives (`on_shortage: ship_available`):
    /// the group now or last reserved, 1 first; nil for an order reserved whole.
    public var fill: Int?
    public var fulfillmentOrders: [FulfillmentOrder] = []
    public var returns: [Return] = []
    public var failure: Failure?
    /// Provider steps waiting for acknowledgements (several may wait at once).
    public var waiting: [Waiting] = []
    public var createdMs: Int64
    public var updatedMs: Int64

    package init(_ intake: OrderIntake, at now: Timestamp) {
        id = intake.id
        source = intake.source
        state = OrderStates.created
        shipTo = intake.shipTo
        shippingMethod = intake.shippingMethod
        lines = intake.lines.map { LineRecord(id: $0.id, sku: $0.sku, quantity: $0.quantity, state: LineStates.open) }
        attributes = intake.attributes
        pickupNode = intake.pickupNode
        curbside = intake.curbside ? true : nil
        channel = intake.channel
        createdMs = now.millisecondsSinceEpoch
        updatedMs = now.millisecondsSinceEpoch
    }

    public var totalQuantity: Int64 { lines.reduce(0) { $0 + $1.quantity } }

    /// The ledger reservation that holds the order's stock: its own id, or
    /// for a shipment group after the first `ID/fill-N` (one open at a time).
    public var reservation: String { Self.reservation(order: id, fill: fill) }

    public static func reservation(order: String, fill: Int?) -> String {
        guard let fill, fill > 1 else { return order }
        return "\(order)/fill-\(fill)"
    }
}
