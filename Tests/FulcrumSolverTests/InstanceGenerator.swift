import Foundation
import FulcrumCore
import FulcrumSolver

/// Seeded random optimize requests, as JSON text, that exercise every rule
/// of the spec: batches, pickup, ship-complete, no-split, split limits,
/// capacity, exclusions, safety stock, minimum available, disabled and
/// non-shipping nodes, and omitted fields (defaults).
struct InstanceGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func double(_ range: ClosedRange<Double>) -> Double {
        (Double.random(in: range, using: &random) * 1000).rounded() / 1000
    }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }

    mutating func request() -> [String: Any] {
        let nodeIDs = (0..<int(2...6)).map { "N\($0)" }
        let skuIDs = (0..<int(1...4)).map { "S\($0)" }
        var request: [String: Any] = [
            "orders": (0..<int(1...4)).map { order(id: "O\($0)", nodes: nodeIDs, skus: skuIDs) },
            "nodes": nodeIDs.map { node($0) },
        ]
        let described = skuIDs.filter { _ in chance(70) }
        if !described.isEmpty {
            request["skus"] = described.map { id -> [String: Any] in
                var sku: [String: Any] = ["id": id, "weight_kg": double(0.1...8)]
                if chance(60) { sku["category"] = pick(["apparel", "fragile", "bulky"]) }
                if chance(30) { sku["flags"] = pick([["hazmat"], ["hazmat", "oversize"], ["ship_alone"], ["ship_alone", "hazmat"]]) }
                return sku
            }
        }
        var inventory: [[String: Any]] = []
        // Some networks are rich in stock, so that dominated nodes get pruned.
        let most = chance(35) ? 40 : 9
        for node in nodeIDs {
            for sku in skuIDs where chance(75) {
                inventory.append(["node": node, "sku": sku, "available": int(0...most)])
            }
        }
        request["inventory"] = inventory
        if chance(50) {
            request["rates"] = ["per_shipment": double(0...10), "per_km": double(0...0.01), "per_kg_km": double(0...0.002)]
        }
        request["rules"] = rules(nodes: nodeIDs)
        return request
    }

    private mutating func order(id: String, nodes: [String], skus: [String]) -> [String: Any] {
        var order: [String: Any] = [
            "id": id, "ship_to": ["latitude": double(25...48), "longitude": double(-123...(-70))],
            "lines": (0..<int(1...3)).map { index -> [String: Any] in
                var line: [String: Any] = ["id": "L\(index)", "sku": pick(skus), "quantity": int(1...6)]
                if chance(15) { line["no_split"] = true }
                return line
            },
        ]
        if chance(40) { order["priority"] = double(0.5...3) }
        if chance(20) { order["ship_complete"] = true }
        if chance(20) { order["max_shipments"] = int(1...2) }
        if chance(10) { order["pickup_node"] = pick(nodes) }
        return order
    }

    private mutating func node(_ id: String) -> [String: Any] {
        var node: [String: Any] = ["id": id, "latitude": double(25...48), "longitude": double(-123...(-70))]
        if chance(60) { node["kind"] = pick(["warehouse", "store", "3pl", "vendor"]) }
        if chance(60) { node["region"] = pick(["east", "west"]) }
        if chance(10) { node["enabled"] = false }
        if chance(15) { node["can_ship"] = false }
        if chance(60) { node["cost_per_shipment"] = double(0...8) }
        if chance(60) { node["cost_per_unit"] = double(0...3) }
        if chance(25) { node["capacity_units"] = int(0...8) }
        return node
    }

    private mutating func rules(nodes: [String]) -> [String: Any] {
        var rules: [String: Any] = [:]
        if chance(20) { rules["max_shipments_per_order"] = int(1...2) }
        if chance(20) { rules["max_distance_km"] = double(500...3000) }
        if chance(60) { rules["backorder_penalty"] = double(2...60) }
        if chance(15) { rules["min_available"] = int(1...3) }
        if chance(15) { rules["safety_stock"] = int(1...2) }
        if chance(25) {
            rules["exclude"] = (0..<int(1...2)).map { _ -> [String: Any] in
                var exclusion: [String: Any] = [:]
                if chance(40) { exclusion["node"] = pick(nodes) }
                if chance(40) { exclusion["kind"] = pick(["warehouse", "store", "3pl", "vendor"]) }
                if chance(40) { exclusion["region"] = pick(["east", "west"]) }
                if chance(40) { exclusion["sku_category"] = pick(["apparel", "fragile", "bulky"]) }
                if chance(30) { exclusion["sku_flag"] = pick(["hazmat", "oversize"]) }
                // An entry must name a field (an empty one is refused: it would exclude everything).
                if exclusion.isEmpty { exclusion["region"] = pick(["east", "west"]) }
                return exclusion
            }
        }
        return rules
    }

    static func json(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
