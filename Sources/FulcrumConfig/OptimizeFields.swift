import FulcrumCore

/// The optimize contract's `rates` and `rules` as configuration files write
/// them (scenarios, fulfillment profiles): the same names and ranges as the
/// JSON, and only the fields written are `given`.
extension FieldReader {
    public func rates(_ key: String) throws(FulcrumError) -> Rates? {
        guard let reader = try mapping(key) else { return nil }
        let rates = Rates(
            perShipment: try reader.double("per_shipment", in: 0...Limits.moneyMax),
            perKilometer: try reader.double("per_km", in: 0...Limits.moneyMax),
            perKilogramKilometer: try reader.double("per_kg_km", in: 0...Limits.moneyMax))
        try reader.finish()
        return rates
    }

    /// `nodeIDs`: the nodes an exclusion may name (the file's own, or the
    /// server's network; nil: any).
    public func rules(_ key: String, nodeIDs: Set<String>?, nodesOf: String) throws(FulcrumError) -> Rules? {
        guard let reader = try mapping(key) else { return nil }
        let exclusions = try reader.records("exclude") { (rule: FieldReader) throws(FulcrumError) in
            var node: String?
            if rule.has("node") {
                let id = try rule.requiredName("node")
                guard nodeIDs?.contains(id) ?? true else { throw rule.error("node", "'\(id)' is not defined in \(nodesOf)") }
                node = id
            }
            let exclusion = Exclusion(
                node: node, kind: try rule.choice("kind", NodeKind.self), region: try rule.string("region"),
                skuCategory: try rule.string("sku_category"), skuFlag: try rule.string("sku_flag"))
            guard !exclusion.isEmpty else { throw rule.error(at: rule.document.location, rule.path, Exclusion.emptyMessage) }
            return exclusion
        }
        let rules = Rules(
            maxShipmentsPerOrder: try reader.int("max_shipments_per_order", in: 1...Int(Limits.quantityMax)),
            maxDistanceKilometers: try reader.double("max_distance_km", in: 0...Limits.distanceKmMax),
            backorderPenalty: try reader.double("backorder_penalty", in: 0...Limits.moneyMax),
            minAvailable: try reader.int("min_available", in: 0...Int(Limits.quantityMax)),
            safetyStock: try reader.int("safety_stock", in: 0...Int(Limits.quantityMax)),
            exclude: reader.has("exclude") ? exclusions : nil)
        try reader.finish()
        return rules
    }
}
