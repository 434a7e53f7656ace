import FulcrumCore

/// Writes a request as a GNU MathProg data section for `models/dom.mod`, so
/// `glpsol` can solve it independently. Only the request's raw fields go
/// out, numbered 1...n in request order: distances, eligibility, usable stock
/// and costs are computed by the model itself.
public enum MathProgData {
    public static func render(_ request: OptimizeRequest, availability: [Stock]? = nil) -> String {
        var skus: [String] = []
        var skuNumbers: [String: Int] = [:]
        func skuNumber(of sku: String) -> Int {
            if let known = skuNumbers[sku] { return known }
            skus.append(sku)
            skuNumbers[sku] = skus.count
            return skus.count
        }
        request.skus.forEach { _ = skuNumber(of: $0.id) }
        let stock = request.inventory ?? availability ?? []
        let nodeNumber = Dictionary(uniqueKeysWithValues: request.nodes.enumerated().map { ($1.id, $0 + 1) })
        var lines: [(order: Int, line: Line)] = []
        for (index, order) in request.orders.enumerated() {
            lines += order.lines.map { (index + 1, $0) }
        }
        lines.forEach { _ = skuNumber(of: $0.line.sku) }
        stock.forEach { _ = skuNumber(of: $0.sku) }

        var out = "data;\n"
        func set(_ name: String, _ count: Int) { out += "set \(name) := \((0..<count).map { String($0 + 1) }.joined(separator: " "));\n" }
        func param(_ name: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            out += "param \(name) :=\n" + values.enumerated().map { "  \($0 + 1) \($1)" }.joined(separator: "\n") + ";\n"
        }
        set("ORDERS", request.orders.count)
        set("NODES", request.nodes.count)
        set("SKUS", skus.count)
        set("LINES", lines.count)
        set("EXCLUDES", request.rules.exclude.count)
        let orders = request.orders
        param("priority", orders.map { decimal($0.priority) })
        param("ship_lat", orders.map { decimal($0.shipTo.latitude) })
        param("ship_lon", orders.map { decimal($0.shipTo.longitude) })
        param("ship_complete", orders.map { $0.shipComplete ? "1" : "0" })
        param("order_max_shipments", orders.map { String($0.maxShipments ?? 0) })
        param("pickup", orders.map { String($0.pickupNode.flatMap { nodeNumber[$0] } ?? 0) })
        param("order_of", lines.map { String($0.order) })
        param("sku_of", lines.map { String(skuNumber(of: $0.line.sku)) })
        param("quantity", lines.map { String($0.line.quantity) })
        param("no_split", lines.map { $0.line.noSplit ? "1" : "0" })
        let nodes = request.nodes
        param("kind", nodes.map { symbol($0.kind.rawValue) })
        param("region", nodes.map { symbol($0.location.region ?? "") })
        param("node_lat", nodes.map { decimal($0.location.latitude) })
        param("node_lon", nodes.map { decimal($0.location.longitude) })
        param("enabled", nodes.map { $0.enabled ? "1" : "0" })
        param("can_ship", nodes.map { $0.canShip ? "1" : "0" })
        param("cost_per_shipment", nodes.map { decimal($0.costPerShipment) })
        param("cost_per_unit", nodes.map { decimal($0.costPerUnit) })
        param("capacity", nodes.map { String($0.capacityUnits ?? -1) })
        let described = Dictionary(uniqueKeysWithValues: request.skus.map { ($0.id, $0) })
        param("weight", skus.map { decimal(described[$0]?.weightKilograms ?? 1) })
        param("category", skus.map { symbol(described[$0]?.category ?? "") })
        let flagged = skus.enumerated().flatMap { index, sku in
            (described[sku]?.flags ?? []).map { "(\(index + 1),\(symbol($0)))" }
        }
        out += "set SKU_FLAGS :=" + flagged.map { " " + $0 }.joined() + ";\n"
        let rows = stock.compactMap { row in nodeNumber[row.node].map { "\($0) \(skuNumber(of: row.sku)) \(row.available)" } }
        if !rows.isEmpty { out += "param available :=\n  " + rows.joined(separator: "\n  ") + ";\n" }
        let rates = request.rates
        let rules = request.rules
        out += "param per_shipment := \(decimal(rates.perShipment));\n"
        out += "param per_km := \(decimal(rates.perKilometer));\n"
        out += "param per_kg_km := \(decimal(rates.perKilogramKilometer));\n"
        out += "param rule_max_shipments := \(rules.maxShipmentsPerOrder ?? 0);\n"
        out += "param max_distance_km := \(decimal(rules.maxDistanceKilometers ?? -1));\n"
        out += "param backorder_penalty := \(decimal(rules.backorderPenalty));\n"
        out += "param min_available := \(rules.minAvailable);\n"
        out += "param safety_stock := \(rules.safetyStock);\n"
        param("ex_node", rules.exclude.map { String($0.node.flatMap { nodeNumber[$0] } ?? 0) })
        param("ex_kind", rules.exclude.map { symbol($0.kind?.rawValue ?? "*") })
        param("ex_region", rules.exclude.map { symbol($0.region ?? "*") })
        param("ex_category", rules.exclude.map { symbol($0.skuCategory ?? "*") })
        param("ex_flag", rules.exclude.map { symbol($0.skuFlag ?? "*") })
        return out + "end;\n"
    }

    /// A number MathProg reads back exactly (shortest round-trip form).
    private static func decimal(_ value: Double) -> String { "\(value)" }

    /// A quoted MathProg symbol; a quote inside is doubled.
    private static func symbol(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
