import FulcrumCore

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
                quantity: try c.decode(Int64.self, forKey: .quantity))
        }
    }
    public var id: String
    /// The provider it came from (`shopify`, `bigcommerce`, `file`, ...).
    public var source: String
    public var shipTo: Address
    public var shippingMethod: String?
    public var lines: [Line]
    public var attributes: [String: String]

    public init(
        id: String, source: String, shipTo: Address, shippingMethod: String? = nil, lines: [Line],
        attributes: [String: String] = [:]
    ) {
        self.id = id
        self.source = source
        self.shipTo = shipTo
        self.shippingMethod = shippingMethod
        self.lines = lines
        self.attributes = attributes
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, source, shipTo, shippingMethod, lines, attributes }

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
    }

    /// Checks ids, quantities and bounds; errors name the field.
    public func validate() throws(FulcrumError) {
        try Names.validate(id, path: "order.id")
        try Names.validate(source, path: "order.source")
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
        /// Units per node once reserved.
        public var allocations: [String: Int64] = [:]
    }

    public struct FulfillmentOrder: Codable, Sendable, Hashable {
        public struct Line: Codable, Sendable, Hashable {
            public var line: String
            public var sku: String
            public var quantity: Int64
        }
        public var id: String
        public var node: String
        public var lines: [Line]
        public var state: String
        public var tracking: String?
    }

    public struct Return: Codable, Sendable, Hashable {
        public struct Line: Codable, Sendable, Hashable {
            public var sku: String
            public var quantity: Int64
            public init(sku: String, quantity: Int64) {
                self.sku = sku
                self.quantity = quantity
            }

            enum CodingKeys: String, CodingKey, CaseIterable { case sku, quantity }

            public init(from decoder: any Decoder) throws {
                try decoder.refuseUnknownFields(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                self.init(sku: try c.decode(String.self, forKey: .sku), quantity: try c.decode(Int64.self, forKey: .quantity))
            }
        }
        public var id: String
        public var lines: [Line]
        public var state: String
        /// The node chosen to receive it.
        public var node: String?
    }

    /// Why the journey stopped, and where reprocessing resumes.
    public struct Failure: Codable, Sendable, Hashable {
        public var step: String
        public var code: String
        public var message: String
        public var resumeStep: String?
        public var atMs: Int64
    }

    /// A provider step waiting for its messages to be acknowledged.
    public struct Waiting: Codable, Sendable, Hashable {
        public var step: String
        public var messages: [String]
        /// Fields of the event that ran the step, passed on to its output events.
        public var fields: [String: String]
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
    public var shipComplete: Bool?
    public var maxShipments: Int?
    public var priority: Double?
    public var fulfillmentOrders: [FulfillmentOrder] = []
    public var returns: [Return] = []
    public var failure: Failure?
    /// Provider steps waiting for acknowledgements (several may wait at once).
    public var waiting: [Waiting] = []
    public var createdMs: Int64
    public var updatedMs: Int64

    init(_ intake: OrderIntake, at now: Timestamp) {
        id = intake.id
        source = intake.source
        state = OrderStates.created
        shipTo = intake.shipTo
        shippingMethod = intake.shippingMethod
        lines = intake.lines.map { LineRecord(id: $0.id, sku: $0.sku, quantity: $0.quantity, state: LineStates.open) }
        attributes = intake.attributes
        createdMs = now.millisecondsSinceEpoch
        updatedMs = now.millisecondsSinceEpoch
    }

    public var totalQuantity: Int64 { lines.reduce(0) { $0 + $1.quantity } }
}

/// The fields a condition may read of an order (and of the event at hand).
public enum OrderFields {
    static let fixed: Set<String> = [
        "id", "source", "state", "shipping_method", "ship_to.region", "ship_to.country", "ship_to.postal_code",
        "ship_to.city", "ship_to.latitude", "ship_to.longitude", "total_quantity", "line_count", "max_line_quantity",
        "skus", "source_node", "source_kind", "ship_complete", "max_shipments", "priority", "event",
        "fulfillment_order_count",
    ]
    /// Prefixes of open-ended fields: `attributes.NAME`, `event.NAME`.
    static let prefixes = ["attributes.", "event."]

    /// The fields an execution policy may set.
    public static let settable: Set<String> = ["source_node", "source_kind", "ship_complete", "max_shipments", "priority"]

    public static func isKnown(_ name: String) -> Bool {
        fixed.contains(name) || prefixes.contains { name.hasPrefix($0) && name.count > $0.count }
    }

    public static func isSettable(_ name: String) -> Bool {
        settable.contains(name) || (name.hasPrefix("attributes.") && name.count > "attributes.".count)
    }

    /// The value of `name` for `order`, with the event's name and fields.
    static func value(_ name: String, of order: OrderRecord, event: String, fields: [String: String]) -> ConditionValue {
        func text(_ value: String?) -> ConditionValue { value.map(ConditionValue.string) ?? .null }
        func number(_ value: Double?) -> ConditionValue { value.map(ConditionValue.number) ?? .null }
        switch name {
        case "id": return .string(order.id)
        case "source": return .string(order.source)
        case "state": return .string(order.state)
        case "shipping_method": return text(order.shippingMethod)
        case "ship_to.region": return text(order.shipTo.region)
        case "ship_to.country": return text(order.shipTo.country)
        case "ship_to.postal_code": return text(order.shipTo.postalCode)
        case "ship_to.city": return text(order.shipTo.city)
        case "ship_to.latitude": return number(order.shipTo.latitude)
        case "ship_to.longitude": return number(order.shipTo.longitude)
        case "total_quantity": return .number(Double(order.totalQuantity))
        case "line_count": return .number(Double(order.lines.count))
        case "max_line_quantity": return .number(Double(order.lines.map(\.quantity).max() ?? 0))
        case "skus": return .list(order.lines.map { .string($0.sku) })
        case "source_node": return text(order.sourceNode)
        case "source_kind": return text(order.sourceKind)
        case "ship_complete": return order.shipComplete.map(ConditionValue.bool) ?? .null
        case "max_shipments": return number(order.maxShipments.map(Double.init))
        case "priority": return number(order.priority)
        case "event": return .string(event)
        case "fulfillment_order_count": return .number(Double(order.fulfillmentOrders.count))
        default:
            if name.hasPrefix("attributes.") { return text(order.attributes[String(name.dropFirst("attributes.".count))]) }
            if name.hasPrefix("event.") { return text(fields[String(name.dropFirst("event.".count))]) }
            return .null
        }
    }
}
