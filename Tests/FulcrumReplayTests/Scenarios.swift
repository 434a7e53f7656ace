import FulcrumCore
@testable import FulcrumReplay

/// Small scenarios whose every number can be checked by hand.
enum Scenarios {
    /// Two nodes on the equator, 1° apart (111.19 km); one SKU of 1 kg;
    /// prices without distance terms, so each plan's cost is plain arithmetic.
    static func tiny(nodes: String = defaultNodes, stock: String, supply: String = "[]", orders: String, replay: String = "")
        -> String
    {
        """
        version: 1
        name: tiny
        start: "2026-01-05"
        days: 2
        network:
          nodes:
        \(nodes)
        catalogue:
          skus: [{id: X, weight_kg: 1}]
        stock:
          positions:
        \(stock)
        supply: \(supply)
        rates: {per_shipment: 5, per_km: 0, per_kg_km: 0}
        demand:
          orders:
        \(orders)
        replay: {reservation_ttl_minutes: 30, ship_after_minutes: 60\(replay)}
        """
    }

    static let defaultNodes = """
            - {id: A, latitude: 0, longitude: 0, cost_per_shipment: 1, cost_per_unit: 0.5, capacity_per_day: 3}
            - {id: B, latitude: 0, longitude: 1, cost_per_shipment: 2, cost_per_unit: 1}
        """

    /// Distance between A and B.
    static let kilometersAB = 6371.0 * Double.pi / 180

    static func order(_ id: String, day: Int, time: String, at node: String = "A", quantity: Int, abandoned: Bool = false) -> String {
        let longitude = node == "A" ? 0 : 1
        return "    - {id: \(id), day: \(day), time: \"\(time)\", ship_to: {latitude: 0, longitude: \(longitude)}, lines: [{sku: X, quantity: \(quantity)}]"
            + (abandoned ? ", abandoned: true}" : "}")
    }

    static func replay(_ yaml: String, strategy: FulcrumSolverStrategy = .optimal) async throws -> StrategyResult {
        let scenario = try Scenario.parse(yaml: yaml, file: "tiny.yaml")
        return try await Replayer.embedded(ExpandedScenario(scenario), strategies: [strategy]).strategies[0]
    }
}

import FulcrumSolver
typealias FulcrumSolverStrategy = Strategy
