import Foundation

/// Requests as the spec's JSON: for generated workloads (`fulcrum generate`)
/// and for clients. Optional fields are written only when set.
extension OptimizeRequest: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: RequestKeys.self)
        try c.encode(orders, forKey: .orders)
        // Without nodes, the field is left out: a server with a network fills it in.
        if !nodes.isEmpty { try c.encode(nodes, forKey: .nodes) }
        if !skus.isEmpty { try c.encode(skus, forKey: .skus) }
        try c.encodeIfPresent(inventory, forKey: .inventory)
        if !rates.given.isEmpty { try c.encode(rates, forKey: .rates) }
        if !rules.given.isEmpty { try c.encode(rules, forKey: .rules) }
        try c.encodeIfPresent(profile, forKey: .profile)
        try c.encodeIfPresent(channel, forKey: .channel)
    }

    /// One line of JSON, keys sorted.
    public func json() -> Data { sortedJSON(self) }
}

/// One line of JSON with sorted keys: stable, diffable output. Encoding these
/// value types cannot fail (no non-finite numbers reach them: requests are validated).
func sortedJSON(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try! encoder.encode(value)
}

extension Location: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ShipToKeys.self)
        if isPlaced {
            try c.encode(latitude, forKey: .latitude)
            try c.encode(longitude, forKey: .longitude)
        }
        try c.encodeIfPresent(region, forKey: .region)
        try c.encodeIfPresent(country, forKey: .country)
        try c.encodeIfPresent(postalCode, forKey: .postalCode)
        try c.encodeIfPresent(city, forKey: .city)
    }
}

extension Order: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: OrderKeys.self)
        try c.encode(id, forKey: .id)
        if priority != 1 { try c.encode(priority, forKey: .priority) }
        try c.encode(shipTo, forKey: .shipTo)
        if shipComplete { try c.encode(true, forKey: .shipComplete) }
        try c.encodeIfPresent(maxShipments, forKey: .maxShipments)
        try c.encodeIfPresent(pickupNode, forKey: .pickupNode)
        try c.encode(lines, forKey: .lines)
    }
}

extension Line: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: LineKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(sku, forKey: .sku)
        try c.encode(quantity, forKey: .quantity)
        if noSplit { try c.encode(true, forKey: .noSplit) }
    }
}

extension Node: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: NodeKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(location.latitude, forKey: .latitude)
        try c.encode(location.longitude, forKey: .longitude)
        try c.encodeIfPresent(location.region, forKey: .region)
        if !enabled { try c.encode(false, forKey: .enabled) }
        if !canShip { try c.encode(false, forKey: .canShip) }
        if costPerShipment != 0 { try c.encode(costPerShipment, forKey: .costPerShipment) }
        if costPerUnit != 0 { try c.encode(costPerUnit, forKey: .costPerUnit) }
        try c.encodeIfPresent(capacityUnits, forKey: .capacityUnits)
    }
}

extension SKU: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: SKUKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(weightKilograms, forKey: .weightKg)
        try c.encodeIfPresent(category, forKey: .category)
        if !flags.isEmpty { try c.encode(flags, forKey: .flags) }
    }
}

extension Stock: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: StockKeys.self)
        try c.encode(node, forKey: .node)
        try c.encode(sku, forKey: .sku)
        try c.encode(available, forKey: .available)
    }
}

extension Rates: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: RatesKeys.self)
        // Only the fields given: a profile on the server fills in the others.
        if given.contains(.perShipment) { try c.encode(perShipment, forKey: .perShipment) }
        if given.contains(.perKilometer) { try c.encode(perKilometer, forKey: .perKm) }
        if given.contains(.perKilogramKilometer) { try c.encode(perKilogramKilometer, forKey: .perKgKm) }
    }
}

extension Exclusion: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: ExclusionKeys.self)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encodeIfPresent(kind?.rawValue, forKey: .kind)
        try c.encodeIfPresent(region, forKey: .region)
        try c.encodeIfPresent(skuCategory, forKey: .skuCategory)
        try c.encodeIfPresent(skuFlag, forKey: .skuFlag)
    }
}

extension Rules: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: RulesKeys.self)
        // Only the fields given: a profile on the server fills in the others.
        try c.encodeIfPresent(maxShipmentsPerOrder, forKey: .maxShipmentsPerOrder)
        try c.encodeIfPresent(maxDistanceKilometers, forKey: .maxDistanceKm)
        if given.contains(.backorderPenalty) { try c.encode(backorderPenalty, forKey: .backorderPenalty) }
        if given.contains(.minAvailable) { try c.encode(minAvailable, forKey: .minAvailable) }
        if given.contains(.safetyStock) { try c.encode(safetyStock, forKey: .safetyStock) }
        if given.contains(.exclude) { try c.encode(exclude, forKey: .exclude) }
    }
}
