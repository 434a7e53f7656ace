extension OptimizeRequest {
    /// Checks every rule of the specification that decoding cannot: ranges,
    /// unique ids, references to nodes. Throws the first violation found.
    /// `validatedNodeIDs`: the ids of `nodes` when they were checked already
    /// (a server's network, checked once at start), so they are not again.
    public func validate(validatedNodeIDs: Set<String>? = nil) throws(FulcrumError) {
        guard !orders.isEmpty else { throw FulcrumError(.invalidArgument, "at least one order is needed", path: "orders") }
        guard orders.count <= Limits.optimizeOrdersMax else {
            throw FulcrumError(.invalidArgument, "\(orders.count) orders; the limit is \(Limits.optimizeOrdersMax)", path: "orders")
        }
        let nodeIDs: Set<String>
        if let validatedNodeIDs {
            assert(validatedNodeIDs.count == nodes.count, "validated ids belong to these nodes")
            nodeIDs = validatedNodeIDs
        } else {
            nodeIDs = try Self.validate(nodes: nodes, path: "nodes")
        }
        try Self.validate(skus: skus)
        _ = try uniqueIDs(orders.map(\.id), path: "orders")
        for (index, order) in orders.enumerated() {
            try order.validate(path: "orders[\(index)]", nodeIDs: nodeIDs)
        }
        try validateInventory(nodeIDs: nodeIDs)
        try rates.validate()
        try rules.validate(nodeIDs: nodeIDs)
        if let profile { try Names.validate(profile, path: "profile") }
        if let channel { try Names.validate(channel, path: "channel") }
    }

    /// Checks a list of nodes (count, unique ids, each node's fields) and
    /// returns their ids; `path` names the list, e.g. "nodes".
    public static func validate(nodes: [Node], path: String) throws(FulcrumError) -> Set<String> {
        guard nodes.count <= Limits.optimizeNodesMax else {
            throw FulcrumError(.invalidArgument, "\(nodes.count) nodes; the limit is \(Limits.optimizeNodesMax)", path: path)
        }
        let nodeIDs = try uniqueIDs(nodes.map(\.id), path: path)
        for (index, node) in nodes.enumerated() { try node.validate(path: "\(path)[\(index)]") }
        return nodeIDs
    }

    /// Checks the SKU list: unique ids, weights in bounds.
    public static func validate(skus: [SKU]) throws(FulcrumError) {
        _ = try uniqueIDs(skus.map(\.id), path: "skus")
        for (index, sku) in skus.enumerated() {
            try check(sku.weightKilograms, path: "skus[\(index)].weight_kg", in: Limits.weightKgMin...Limits.weightKgMax)
            guard sku.flags.count <= Limits.skuFlagsMax else {
                throw FulcrumError(.invalidArgument, "a SKU has at most \(Limits.skuFlagsMax) flags", path: "skus[\(index)].flags")
            }
            var seen = Set<String>()
            for (position, flag) in sku.flags.enumerated() {
                try Names.validate(flag, path: "skus[\(index)].flags[\(position)]")
                guard seen.insert(flag).inserted else {
                    throw FulcrumError(.duplicateID, "the flag \(flag) twice", path: "skus[\(index)].flags[\(position)]")
                }
            }
        }
    }

    private func validateInventory(nodeIDs: Set<String>) throws(FulcrumError) {
        var seen = Set<[String]>()
        for (index, row) in (inventory ?? []).enumerated() {
            let path = "inventory[\(index)]"
            guard nodeIDs.contains(row.node) else {
                throw FulcrumError(.unknownReference, "no node \(row.node) in the request", path: path + ".node")
            }
            try Names.validate(row.sku, path: path + ".sku")
            guard row.available >= 0 else {
                throw FulcrumError(.invalidArgument, "available must be >= 0", path: path + ".available")
            }
            guard seen.insert([row.node, row.sku]).inserted else {
                throw FulcrumError(.duplicateID, "a second row for \(row.node)/\(row.sku)", path: path)
            }
        }
    }
}

/// Checks ids and returns them as a set; the path of a duplicate is its position.
func uniqueIDs(_ ids: [String], path: String) throws(FulcrumError) -> Set<String> {
    var seen = Set<String>()
    for (index, id) in ids.enumerated() {
        try Names.validate(id, path: "\(path)[\(index)].id")
        guard seen.insert(id).inserted else {
            throw FulcrumError(.duplicateID, "id \(id) appears twice", path: "\(path)[\(index)].id")
        }
    }
    return seen
}

/// A number within `range` (a money amount by default: costs, rates, penalties).
func check(_ value: Double, path: String, in range: ClosedRange<Double> = 0...Limits.moneyMax) throws(FulcrumError) {
    guard range.contains(value) else {
        throw FulcrumError(.invalidArgument, "\(value) is not within \(range.lowerBound)...\(range.upperBound)", path: path)
    }
}

private func check(_ value: Int, path: String, minimum: Int) throws(FulcrumError) {
    guard value >= minimum, value <= Limits.quantityMax else {
        throw FulcrumError(.invalidArgument, "\(value) is outside \(minimum)...\(Limits.quantityMax)", path: path)
    }
}

extension Location {
    /// With `placeable`, an address without coordinates but with a country
    /// passes: the server places it before solving.
    func validate(path: String, placeable: Bool = false) throws(FulcrumError) {
        if !isPlaced {
            guard placeable, country != nil else {
                throw FulcrumError(.invalidArgument, "a required field is missing", path: path + ".latitude")
            }
            return
        }
        guard latitude.isFinite, (-90...90).contains(latitude) else {
            throw FulcrumError(.invalidArgument, "latitude \(latitude) is not within -90...90", path: path + ".latitude")
        }
        guard longitude.isFinite, (-180...180).contains(longitude) else {
            throw FulcrumError(.invalidArgument, "longitude \(longitude) is not within -180...180", path: path + ".longitude")
        }
    }
}

extension Node {
    func validate(path: String) throws(FulcrumError) {
        try location.validate(path: path)
        try check(costPerShipment, path: path + ".cost_per_shipment")
        try check(costPerUnit, path: path + ".cost_per_unit")
        if let capacityUnits { try check(capacityUnits, path: path + ".capacity_units", minimum: 0) }
    }
}

extension Order {
    func validate(path: String, nodeIDs: Set<String>) throws(FulcrumError) {
        try check(priority, path: path + ".priority", in: Limits.priorityMin...Limits.priorityMax)
        try shipTo.validate(path: path + ".ship_to", placeable: true)
        if let maxShipments { try check(maxShipments, path: path + ".max_shipments", minimum: 1) }
        if let pickupNode, !nodeIDs.contains(pickupNode) {
            throw FulcrumError(.unknownReference, "no node \(pickupNode) in the request", path: path + ".pickup_node")
        }
        guard !lines.isEmpty, lines.count <= Limits.orderLinesMax else {
            throw FulcrumError(.invalidArgument, "an order needs 1 to \(Limits.orderLinesMax) lines", path: path + ".lines")
        }
        _ = try uniqueIDs(lines.map(\.id), path: path + ".lines")
        for (index, line) in lines.enumerated() {
            try Names.validate(line.sku, path: "\(path).lines[\(index)].sku")
            try check(line.quantity, path: "\(path).lines[\(index)].quantity", minimum: 1)
        }
    }
}

extension Rates {
    func validate() throws(FulcrumError) {
        try check(perShipment, path: "rates.per_shipment")
        try check(perKilometer, path: "rates.per_km")
        try check(perKilogramKilometer, path: "rates.per_kg_km")
    }
}

extension Rules {
    func validate(nodeIDs: Set<String>) throws(FulcrumError) {
        if let maxShipmentsPerOrder { try check(maxShipmentsPerOrder, path: "rules.max_shipments_per_order", minimum: 1) }
        if let maxDistanceKilometers {
            try check(maxDistanceKilometers, path: "rules.max_distance_km", in: 0...Limits.distanceKmMax)
        }
        try check(backorderPenalty, path: "rules.backorder_penalty")
        try check(minAvailable, path: "rules.min_available", minimum: 0)
        try check(safetyStock, path: "rules.safety_stock", minimum: 0)
        for (index, exclusion) in exclude.enumerated() {
            if let node = exclusion.node, !nodeIDs.contains(node) {
                throw FulcrumError(.unknownReference, "no node \(node) in the request", path: "rules.exclude[\(index)].node")
            }
        }
    }
}
