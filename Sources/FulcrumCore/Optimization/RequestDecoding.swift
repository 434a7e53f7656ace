import Foundation

extension OptimizeRequest {
    /// Decodes and validates a request. Malformed JSON and wrong types are
    /// `invalid_json`; values out of range `invalid_argument`; repeated ids
    /// `duplicate_id`; names of undefined nodes `unknown_reference`; each with
    /// the field path (`orders[0].lines[1].quantity`); a field the contract
    /// does not have is `unknown_field`, naming the field meant.
    ///
    /// `defaultNodes`: the nodes of a request that has no `nodes` field (a
    /// server that knows its network spares clients sending it, and itself
    /// decoding it, on every request).
    ///
    /// Good input is read by the fast reader (`read(json:)`); where it
    /// declines, Foundation's decoder reads the same bytes and reports why.
    public static func decode(json: Data, defaultNodes: [Node]? = nil) throws(FulcrumError) -> OptimizeRequest {
        let request: OptimizeRequest
        if let fast = json.withUnsafeBytes({ read(json: $0, defaultNodes: defaultNodes) }) {
            request = fast
        } else {
            request = try decodeWithFoundation(json: json, defaultNodes: defaultNodes)
        }
        try request.validate()
        return request
    }

    /// `decode` over bytes in place (a line of a larger input): copied only
    /// when the input is bad and Foundation's decoder must say why.
    public static func decode(json: UnsafeRawBufferPointer, defaultNodes: [Node]? = nil) throws(FulcrumError)
        -> OptimizeRequest
    {
        let request = try decodeUnvalidated(json: json, defaultNodes: defaultNodes)
        try request.validate()
        return request
    }

    /// Reads a request without validating it, with the same typed errors for
    /// malformed JSON: a client that passes the request on to a server, which
    /// validates it, uses this.
    public static func decodeUnvalidated(json: UnsafeRawBufferPointer, defaultNodes: [Node]? = nil)
        throws(FulcrumError) -> OptimizeRequest
    {
        if let request = read(json: json, defaultNodes: defaultNodes) { return request }
        return try decodeWithFoundation(json: Data(json), defaultNodes: defaultNodes)
    }

    /// The reference reading (Foundation's `JSONDecoder` and the `Decodable`
    /// conformances below), not validated: the errors every reader reports,
    /// and what the fast reader is tested and measured against.
    public static func decodeWithFoundation(json: Data, defaultNodes: [Node]? = nil) throws(FulcrumError)
        -> OptimizeRequest
    {
        var userInfo: [CodingUserInfoKey: any Sendable] = [:]
        if let defaultNodes { userInfo[Self.defaultNodesKey] = defaultNodes }
        return try decodeJSON(OptimizeRequest.self, from: json, userInfo: userInfo)
    }

    static let defaultNodesKey = CodingUserInfoKey(rawValue: "fulcrum.defaultNodes")!
}

extension KeyedDecodingContainer {
    /// An integer field. Decoded as a number and checked, so that `1.5` is
    /// reported at its own path (Foundation's Int decoding loses the path).
    func decodeWholeNumber(forKey key: Key) throws -> Int {
        let value = try decode(Double.self, forKey: key)
        guard value.rounded() == value, value.magnitude <= 9_007_199_254_740_992 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a whole number")
        }
        return Int(value)
    }

    func decodeWholeNumberIfPresent(forKey key: Key) throws -> Int? {
        try contains(key) && !decodeNil(forKey: key) ? decodeWholeNumber(forKey: key) : nil
    }
}

// The fields of each object of the contract: decoding refuses any other key,
// encoding writes these names.
enum RequestKeys: String, CodingKey, CaseIterable { case orders, nodes, skus, inventory, rates, rules, profile, channel }
enum OrderKeys: String, CodingKey, CaseIterable {
    case id, priority, shipTo = "ship_to", shipComplete = "ship_complete", maxShipments = "max_shipments"
    case pickupNode = "pickup_node", lines
}
enum ShipToKeys: String, CodingKey, CaseIterable {
    case latitude, longitude, region, country, postalCode = "postal_code", city
}
enum LineKeys: String, CodingKey, CaseIterable { case id, sku, quantity, noSplit = "no_split" }
enum NodeKeys: String, CodingKey, CaseIterable {
    case id, kind, latitude, longitude, region, enabled, canShip = "can_ship", costPerShipment = "cost_per_shipment"
    case costPerUnit = "cost_per_unit", capacityUnits = "capacity_units"
}
enum SKUKeys: String, CodingKey, CaseIterable { case id, weightKg = "weight_kg", category, flags }
enum StockKeys: String, CodingKey, CaseIterable { case node, sku, available }
enum RatesKeys: String, CodingKey, CaseIterable { case perShipment = "per_shipment", perKm = "per_km", perKgKm = "per_kg_km" }
enum RulesKeys: String, CodingKey, CaseIterable {
    case maxShipmentsPerOrder = "max_shipments_per_order", maxDistanceKm = "max_distance_km"
    case backorderPenalty = "backorder_penalty", minAvailable = "min_available", safetyStock = "safety_stock", exclude
}
enum ExclusionKeys: String, CodingKey, CaseIterable {
    case node, kind, region, skuCategory = "sku_category", skuFlag = "sku_flag"
}
private enum ReturnRequestKeys: String, CodingKey, CaseIterable { case `return`, nodes, skus, rates, rules }
private enum ParcelKeys: String, CodingKey, CaseIterable { case id, order, from, lines }
private enum ReturnNodeKeys: String, CodingKey, CaseIterable {
    case id, kind, latitude, longitude, region, enabled, acceptsReturns = "accepts_returns"
    case returnCostPerShipment = "return_cost_per_shipment", returnCostPerUnit = "return_cost_per_unit"
}

extension OptimizeRequest: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(RequestKeys.self)
        let c = try decoder.container(keyedBy: RequestKeys.self)
        orders = try c.decode([Order].self, forKey: .orders)
        if !c.contains(.nodes), let defaults = decoder.userInfo[Self.defaultNodesKey] as? [Node] {
            nodes = defaults
        } else {
            nodes = try c.decode([Node].self, forKey: .nodes)
        }
        skus = try c.decodeIfPresent([SKU].self, forKey: .skus) ?? []
        inventory = try c.decodeIfPresent([Stock].self, forKey: .inventory)
        rates = try c.decodeIfPresent(Rates.self, forKey: .rates) ?? Rates()
        rules = try c.decodeIfPresent(Rules.self, forKey: .rules) ?? Rules()
        profile = try c.decodeIfPresent(String.self, forKey: .profile)
        channel = try c.decodeIfPresent(String.self, forKey: .channel)
    }
}

extension Location: Decodable {
    /// A customer's address (`ship_to`, a return's `from`). Without both
    /// coordinates and with a country it is `unplaced` (validation decides
    /// where that is allowed).
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(ShipToKeys.self)
        let c = try decoder.container(keyedBy: ShipToKeys.self)
        if !c.contains(.latitude), !c.contains(.longitude), let country = try c.decodeIfPresent(String.self, forKey: .country) {
            self = .unplaced(
                region: try c.decodeIfPresent(String.self, forKey: .region), country: country,
                postalCode: try c.decodeIfPresent(String.self, forKey: .postalCode),
                city: try c.decodeIfPresent(String.self, forKey: .city))
            return
        }
        self.init(
            latitude: try c.decode(Double.self, forKey: .latitude), longitude: try c.decode(Double.self, forKey: .longitude),
            region: try c.decodeIfPresent(String.self, forKey: .region),
            country: try c.decodeIfPresent(String.self, forKey: .country),
            postalCode: try c.decodeIfPresent(String.self, forKey: .postalCode),
            city: try c.decodeIfPresent(String.self, forKey: .city))
    }

    /// A node's place: its own object's coordinates and region.
    init<Keys: CodingKey>(node c: KeyedDecodingContainer<Keys>, latitude: Keys, longitude: Keys, region: Keys) throws {
        self.init(
            latitude: try c.decode(Double.self, forKey: latitude), longitude: try c.decode(Double.self, forKey: longitude),
            region: try c.decodeIfPresent(String.self, forKey: region))
    }
}

extension Order: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(OrderKeys.self)
        let c = try decoder.container(keyedBy: OrderKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            priority: try c.decodeIfPresent(Double.self, forKey: .priority) ?? 1,
            shipTo: try c.decode(Location.self, forKey: .shipTo),
            shipComplete: try c.decodeIfPresent(Bool.self, forKey: .shipComplete) ?? false,
            maxShipments: try c.decodeWholeNumberIfPresent(forKey: .maxShipments),
            pickupNode: try c.decodeIfPresent(String.self, forKey: .pickupNode),
            lines: try c.decode([Line].self, forKey: .lines))
    }
}

extension Line: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(LineKeys.self)
        let c = try decoder.container(keyedBy: LineKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), sku: try c.decode(String.self, forKey: .sku),
            quantity: try c.decodeWholeNumber(forKey: .quantity),
            noSplit: try c.decodeIfPresent(Bool.self, forKey: .noSplit) ?? false)
    }
}

extension NodeKind: Decodable {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let kind = NodeKind(rawValue: raw) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "kind must be warehouse, store, 3pl or vendor"))
        }
        self = kind
    }
}

extension Node: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(NodeKeys.self)
        try self.init(fieldsOf: decoder)
    }

    /// The node's fields in `decoder`; other keys are the caller's to check.
    init(fieldsOf decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: NodeKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            kind: try c.decodeIfPresent(NodeKind.self, forKey: .kind) ?? .warehouse,
            location: try Location(node: c, latitude: .latitude, longitude: .longitude, region: .region),
            enabled: try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true,
            canShip: try c.decodeIfPresent(Bool.self, forKey: .canShip) ?? true,
            costPerShipment: try c.decodeIfPresent(Double.self, forKey: .costPerShipment) ?? 0,
            costPerUnit: try c.decodeIfPresent(Double.self, forKey: .costPerUnit) ?? 0,
            capacityUnits: try c.decodeWholeNumberIfPresent(forKey: .capacityUnits))
    }
}

/// A network file (`fulcrumd serve --network`): `{"nodes": [...]}`.
public struct NetworkFile: Decodable, Sendable {
    public var nodes: [NetworkFileNode]
    private enum Keys: String, CodingKey, CaseIterable { case nodes }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Keys.self)
        nodes = try decoder.container(keyedBy: Keys.self).decode([NetworkFileNode].self, forKey: .nodes)
    }
}

/// A node of a network file (`fulcrumd serve --network`): an optimize node
/// whose capacity is per local day (`capacity_per_day`), with the time zone
/// whose midnight starts that day (`timezone`, UTC when absent).
public struct NetworkFileNode: Decodable, Sendable {
    public var node: Node
    public var settings: NodeSettings

    private enum Keys: String, CodingKey { case timezone, capacityPerDay = "capacity_per_day" }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(
            known: NodeKeys.allCases.filter { $0 != .capacityUnits }.map(\.stringValue) + ["timezone", "capacity_per_day"])
        node = try Node(fieldsOf: decoder)
        let c = try decoder.container(keyedBy: Keys.self)
        settings = NodeSettings(enabled: node.enabled, canShip: node.canShip)
        if let timezone = try c.decodeIfPresent(String.self, forKey: .timezone) {
            try NodeSettings.validate(timezone: timezone, path: FulcrumError.fieldPath(c.codingPath + [Keys.timezone]))
            settings.timezone = timezone
        }
        if let units = try c.decodeWholeNumberIfPresent(forKey: .capacityPerDay) {
            try NodeSettings.validate(
                capacityPerDay: Int64(units), path: FulcrumError.fieldPath(c.codingPath + [Keys.capacityPerDay]))
            settings.capacityPerDay = Int64(units)
        }
    }
}

extension SKU: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(SKUKeys.self)
        let c = try decoder.container(keyedBy: SKUKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            weightKilograms: try c.decodeIfPresent(Double.self, forKey: .weightKg) ?? 1,
            category: try c.decodeIfPresent(String.self, forKey: .category),
            flags: try c.decodeIfPresent([String].self, forKey: .flags) ?? [])
    }
}

extension Stock: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(StockKeys.self)
        let c = try decoder.container(keyedBy: StockKeys.self)
        self.init(
            node: try c.decode(String.self, forKey: .node), sku: try c.decode(String.self, forKey: .sku),
            available: try c.decodeWholeNumber(forKey: .available))
    }
}

extension Rates: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(RatesKeys.self)
        let c = try decoder.container(keyedBy: RatesKeys.self)
        self.init(
            perShipment: try c.decodeIfPresent(Double.self, forKey: .perShipment),
            perKilometer: try c.decodeIfPresent(Double.self, forKey: .perKm),
            perKilogramKilometer: try c.decodeIfPresent(Double.self, forKey: .perKgKm))
    }
}

extension Exclusion: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(ExclusionKeys.self)
        let c = try decoder.container(keyedBy: ExclusionKeys.self)
        self.init(
            node: try c.decodeIfPresent(String.self, forKey: .node),
            kind: try c.decodeIfPresent(NodeKind.self, forKey: .kind),
            region: try c.decodeIfPresent(String.self, forKey: .region),
            skuCategory: try c.decodeIfPresent(String.self, forKey: .skuCategory),
            skuFlag: try c.decodeIfPresent(String.self, forKey: .skuFlag))
        guard !isEmpty else {
            throw FulcrumError(.invalidArgument, Self.emptyMessage, path: FulcrumError.fieldPath(decoder.codingPath))
        }
    }
}

extension Rules: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(RulesKeys.self)
        let c = try decoder.container(keyedBy: RulesKeys.self)
        self.init(
            maxShipmentsPerOrder: try c.decodeWholeNumberIfPresent(forKey: .maxShipmentsPerOrder),
            maxDistanceKilometers: try c.decodeIfPresent(Double.self, forKey: .maxDistanceKm),
            backorderPenalty: try c.decodeIfPresent(Double.self, forKey: .backorderPenalty),
            minAvailable: try c.decodeWholeNumberIfPresent(forKey: .minAvailable),
            safetyStock: try c.decodeWholeNumberIfPresent(forKey: .safetyStock),
            exclude: try c.decodeIfPresent([Exclusion].self, forKey: .exclude))
    }
}

extension ReturnRequest: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(ReturnRequestKeys.self)
        let c = try decoder.container(keyedBy: ReturnRequestKeys.self)
        try c.superDecoder(forKey: .return).refuseUnknownFields(ParcelKeys.self)
        let parcel = try c.nestedContainer(keyedBy: ParcelKeys.self, forKey: .return)
        id = try parcel.decode(String.self, forKey: .id)
        order = try parcel.decodeIfPresent(String.self, forKey: .order)
        from = try parcel.decode(Location.self, forKey: .from)
        lines = try parcel.decode([Line].self, forKey: .lines)
        nodes = try c.decode([Node].self, forKey: .nodes)
        skus = try c.decodeIfPresent([SKU].self, forKey: .skus) ?? []
        rates = try c.decodeIfPresent(Rates.self, forKey: .rates) ?? Rates()
        rules = try c.decodeIfPresent(Rules.self, forKey: .rules) ?? Rules()
    }
}

extension ReturnRequest.Node: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(ReturnNodeKeys.self)
        let c = try decoder.container(keyedBy: ReturnNodeKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decodeIfPresent(NodeKind.self, forKey: .kind) ?? .warehouse
        location = try Location(node: c, latitude: .latitude, longitude: .longitude, region: .region)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        acceptsReturns = try c.decodeIfPresent(Bool.self, forKey: .acceptsReturns) ?? true
        returnCostPerShipment = try c.decodeIfPresent(Double.self, forKey: .returnCostPerShipment) ?? 0
        returnCostPerUnit = try c.decodeIfPresent(Double.self, forKey: .returnCostPerUnit) ?? 0
    }
}
