// The optimize request read by `JSONReader`: the same fields, defaults and
// rules as the `Decodable` conformances in RequestDecoding.swift (which stay
// the reference and report every error), at the speed of a byte scan.

extension OptimizeRequest {
    /// The request in `json` as the fast reader reads it, or nil where it
    /// declines: malformed JSON, a wrong type, an unknown or missing field.
    /// Not validated (`decode` does both and reports the errors).
    public static func read(json: UnsafeRawBufferPointer, defaultNodes: [Node]? = nil) -> OptimizeRequest? {
        var reader = JSONReader(json)
        do {
            let request = try RequestReading.request(&reader, defaultNodes: defaultNodes)
            try reader.end()
            return request
        } catch {
            return nil
        }
    }
}

private enum RequestReading {
    typealias Failure = JSONReader.Failure

    static let requestKeys = JSONKeyTable<RequestKeys>()
    static let orderKeys = JSONKeyTable<OrderKeys>()
    static let shipToKeys = JSONKeyTable<ShipToKeys>()
    static let lineKeys = JSONKeyTable<LineKeys>()
    static let nodeKeys = JSONKeyTable<NodeKeys>()
    static let skuKeys = JSONKeyTable<SKUKeys>()
    static let stockKeys = JSONKeyTable<StockKeys>()
    static let ratesKeys = JSONKeyTable<RatesKeys>()
    static let rulesKeys = JSONKeyTable<RulesKeys>()
    static let exclusionKeys = JSONKeyTable<ExclusionKeys>()

    // Depths below: the arrays and objects around each object, counting the
    // request's own (Foundation's nesting limit counts them all).

    static func request(_ r: inout JSONReader, defaultNodes: [Node]?) throws(Failure) -> OptimizeRequest {
        var orders: [Order]?
        var nodes: [Node]?
        var request = OptimizeRequest(orders: [], nodes: [])
        try r.readObject(requestKeys, depth: 0) { (r, key) throws(Failure) in
            switch key {
            case .orders: orders = try r.readArray { (r) throws(Failure) in try order(&r) }
            case .nodes: nodes = try r.readArray { (r) throws(Failure) in try node(&r) }
            case .skus: if !r.readNull() { request.skus = try r.readArray { (r) throws(Failure) in try sku(&r) } }
            case .inventory:
                if !r.readNull() { request.inventory = try r.readArray { (r) throws(Failure) in try stock(&r) } }
            case .rates: if !r.readNull() { request.rates = try rates(&r) }
            case .rules: if !r.readNull() { request.rules = try rules(&r) }
            case .profile: request.profile = try optionalString(&r)
            case .channel: request.channel = try optionalString(&r)
            }
        }
        guard let orders, let nodes = nodes ?? defaultNodes else { throw Failure() }
        request.orders = orders
        request.nodes = nodes
        return request
    }

    static func order(_ r: inout JSONReader) throws(Failure) -> Order {
        var id: String?
        var shipTo: Location?
        var lines: [Line]?
        var priority: Double?
        var shipComplete: Bool?
        var maxShipments: Int?
        var pickupNode: String?
        try r.readObject(orderKeys, depth: 2) { (r, key) throws(Failure) in
            switch key {
            case .id: id = try r.readString()
            case .priority: priority = r.readNull() ? nil : try r.readDouble()
            case .shipTo: shipTo = try location(&r)
            case .shipComplete: shipComplete = r.readNull() ? nil : try r.readBool()
            case .maxShipments: maxShipments = r.readNull() ? nil : try wholeNumber(&r)
            case .pickupNode: pickupNode = try optionalString(&r)
            case .lines: lines = try r.readArray { (r) throws(Failure) in try line(&r) }
            }
        }
        guard let id, let shipTo, let lines else { throw Failure() }
        var order = Order(id: id, shipTo: shipTo, maxShipments: maxShipments, pickupNode: pickupNode, lines: lines)
        if let priority { order.priority = priority }
        if let shipComplete { order.shipComplete = shipComplete }
        return order
    }

    static func location(_ r: inout JSONReader) throws(Failure) -> Location {
        var latitude: Double?
        var longitude: Double?
        var location = Location(latitude: 0, longitude: 0)
        try r.readObject(shipToKeys, depth: 3) { (r, key) throws(Failure) in
            switch key {
            case .latitude: latitude = try r.readDouble()
            case .longitude: longitude = try r.readDouble()
            case .region: location.region = try optionalString(&r)
            case .country: location.country = try optionalString(&r)
            case .postalCode: location.postalCode = try optionalString(&r)
            case .city: location.city = try optionalString(&r)
            }
        }
        if latitude == nil, longitude == nil, let country = location.country {
            return .unplaced(region: location.region, country: country, postalCode: location.postalCode, city: location.city)
        }
        guard let latitude, let longitude else { throw Failure() }
        location.latitude = latitude
        location.longitude = longitude
        return location
    }

    static func line(_ r: inout JSONReader) throws(Failure) -> Line {
        var id: String?
        var sku: String?
        var quantity: Int?
        var noSplit: Bool?
        try r.readObject(lineKeys, depth: 4) { (r, key) throws(Failure) in
            switch key {
            case .id: id = try r.readString()
            case .sku: sku = try r.readString()
            case .quantity: quantity = try wholeNumber(&r)
            case .noSplit: noSplit = r.readNull() ? nil : try r.readBool()
            }
        }
        guard let id, let sku, let quantity else { throw Failure() }
        var line = Line(id: id, sku: sku, quantity: quantity)
        if let noSplit { line.noSplit = noSplit }
        return line
    }

    static func node(_ r: inout JSONReader) throws(Failure) -> Node {
        var id: String?
        var latitude: Double?
        var longitude: Double?
        var region: String?
        var node = Node(id: "", location: Location(latitude: 0, longitude: 0))
        try r.readObject(nodeKeys, depth: 2) { (r, key) throws(Failure) in
            switch key {
            case .id: id = try r.readString()
            case .kind: if !r.readNull() { node.kind = try kind(&r) }
            case .latitude: latitude = try r.readDouble()
            case .longitude: longitude = try r.readDouble()
            case .region: region = try optionalString(&r)
            case .enabled: if !r.readNull() { node.enabled = try r.readBool() }
            case .canShip: if !r.readNull() { node.canShip = try r.readBool() }
            case .costPerShipment: if !r.readNull() { node.costPerShipment = try r.readDouble() }
            case .costPerUnit: if !r.readNull() { node.costPerUnit = try r.readDouble() }
            case .capacityUnits: node.capacityUnits = r.readNull() ? nil : try wholeNumber(&r)
            }
        }
        guard let id, let latitude, let longitude else { throw Failure() }
        node.id = id
        node.location = Location(latitude: latitude, longitude: longitude, region: region)
        return node
    }

    static func sku(_ r: inout JSONReader) throws(Failure) -> SKU {
        var id: String?
        var sku = SKU(id: "")
        try r.readObject(skuKeys, depth: 2) { (r, key) throws(Failure) in
            switch key {
            case .id: id = try r.readString()
            case .weightKg: if !r.readNull() { sku.weightKilograms = try r.readDouble() }
            case .category: sku.category = try optionalString(&r)
            case .flags: if !r.readNull() { sku.flags = try r.readArray { (r) throws(Failure) in try r.readString() } }
            }
        }
        guard let id else { throw Failure() }
        sku.id = id
        return sku
    }

    static func stock(_ r: inout JSONReader) throws(Failure) -> Stock {
        var node: String?
        var sku: String?
        var available: Int?
        try r.readObject(stockKeys, depth: 2) { (r, key) throws(Failure) in
            switch key {
            case .node: node = try r.readString()
            case .sku: sku = try r.readString()
            case .available: available = try wholeNumber(&r)
            }
        }
        guard let node, let sku, let available else { throw Failure() }
        return Stock(node: node, sku: sku, available: available)
    }

    static func rates(_ r: inout JSONReader) throws(Failure) -> Rates {
        var rates = Rates()
        try r.readObject(ratesKeys, depth: 1) { (r, key) throws(Failure) in
            guard !r.readNull() else { return }
            switch key {
            case .perShipment: rates.perShipment = try r.readDouble()
            case .perKm: rates.perKilometer = try r.readDouble()
            case .perKgKm: rates.perKilogramKilometer = try r.readDouble()
            }
        }
        return rates
    }

    static func rules(_ r: inout JSONReader) throws(Failure) -> Rules {
        var rules = Rules()
        try r.readObject(rulesKeys, depth: 1) { (r, key) throws(Failure) in
            guard !r.readNull() else { return }
            switch key {
            case .maxShipmentsPerOrder: rules.maxShipmentsPerOrder = try wholeNumber(&r)
            case .maxDistanceKm: rules.maxDistanceKilometers = try r.readDouble()
            case .backorderPenalty: rules.backorderPenalty = try r.readDouble()
            case .minAvailable: rules.minAvailable = try wholeNumber(&r)
            case .safetyStock: rules.safetyStock = try wholeNumber(&r)
            case .exclude: rules.exclude = try r.readArray { (r) throws(Failure) in try exclusion(&r) }
            }
        }
        return rules
    }

    static func exclusion(_ r: inout JSONReader) throws(Failure) -> Exclusion {
        var exclusion = Exclusion()
        try r.readObject(exclusionKeys, depth: 3) { (r, key) throws(Failure) in
            guard !r.readNull() else { return }
            switch key {
            case .node: exclusion.node = try r.readString()
            case .kind: exclusion.kind = try kind(&r)
            case .region: exclusion.region = try r.readString()
            case .skuCategory: exclusion.skuCategory = try r.readString()
            case .skuFlag: exclusion.skuFlag = try r.readString()
            }
        }
        // One with no field would exclude everything: the reference decoder says so.
        guard !exclusion.isEmpty else { throw Failure() }
        return exclusion
    }

    static func kind(_ r: inout JSONReader) throws(Failure) -> NodeKind {
        guard let kind = NodeKind(rawValue: try r.readString()) else { throw Failure() }
        return kind
    }

    static func optionalString(_ r: inout JSONReader) throws(Failure) -> String? {
        r.readNull() ? nil : try r.readString()
    }

    /// `decodeWholeNumber`'s rule: a number with no fraction, within 2^53.
    static func wholeNumber(_ r: inout JSONReader) throws(Failure) -> Int {
        let value = try r.readDouble()
        guard value.rounded() == value, value.magnitude <= 9_007_199_254_740_992 else { throw Failure() }
        return Int(value)
    }
}
