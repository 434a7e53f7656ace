import Foundation
import FulcrumCore
import FulcrumSolver

/// Re-checks a response against its request from the spec alone, sharing no
/// code with the solver: every constraint, every cost, the objective.
/// Returns the problems found (empty: the plan is feasible and its costs right).
enum PlanChecker {
    static func check(_ response: OptimizeResponse, for request: OptimizeRequest) -> [String] {
        var problems: [String] = []
        guard response.plans.map(\.order) == request.orders.map(\.id) else { return ["plans are not one per order, in order"] }
        let nodes = Dictionary(uniqueKeysWithValues: request.nodes.map { ($0.id, $0) })
        let skus = Dictionary(uniqueKeysWithValues: request.skus.map { ($0.id, $0) })
        var stock: [String: Int] = [:]
        for row in request.inventory ?? [] { stock["\(row.node)/\(row.sku)"] = row.available }
        var takenStock: [String: Int] = [:]
        var takenAtNode: [String: Int] = [:]
        var objective = 0.0
        for (order, plan) in zip(request.orders, response.plans) {
            var orderCost = 0.0
            var filled: [String: Int] = [:]
            var shipmentsOfLine: [String: Int] = [:]
            for shipment in plan.shipments {
                guard let node = nodes[shipment.node] else {
                    problems.append("\(order.id): unknown node \(shipment.node)")
                    continue
                }
                let distance = haversine(order.shipTo, node.location)
                var cost = node.costPerShipment + (order.pickupNode == nil ? request.rates.perShipment + request.rates.perKilometer * distance : 0)
                for item in shipment.lines {
                    guard let line = order.lines.first(where: { $0.id == item.line }), item.quantity > 0 else {
                        problems.append("\(order.id): bad line \(item.line) x\(item.quantity)")
                        continue
                    }
                    filled[line.id, default: 0] += item.quantity
                    shipmentsOfLine[line.id, default: 0] += 1
                    takenStock["\(node.id)/\(line.sku)", default: 0] += item.quantity
                    takenAtNode[node.id, default: 0] += item.quantity
                    let weight = skus[line.sku]?.weightKilograms ?? 1
                    cost += Double(item.quantity) * (node.costPerUnit + (order.pickupNode == nil ? request.rates.perKilogramKilometer * weight * distance : 0))
                    problems += eligibilityProblems(order: order, line: line, node: node, distance: distance, request: request, skus: skus)
                    if line.noSplit && item.quantity != line.quantity { problems.append("\(order.id)/\(line.id): no-split line split") }
                }
                if !close(cost, shipment.cost) { problems.append("\(order.id)@\(node.id): cost \(shipment.cost), expected \(cost)") }
                orderCost += cost
            }
            if let limit = order.maxShipments ?? request.rules.maxShipmentsPerOrder, plan.shipments.count > limit {
                problems.append("\(order.id): \(plan.shipments.count) shipments over the limit \(limit)")
            }
            // A node ships once per order, but a ship-alone line in a shipment of its own.
            let alone = Set(order.lines.filter { skus[$0.sku]?.flags.contains("ship_alone") ?? false }.map(\.id))
            for shipment in plan.shipments where shipment.lines.contains(where: { alone.contains($0.line) }) && shipment.lines.count > 1 {
                problems.append("\(order.id)@\(shipment.node): a ship-alone line shares its shipment")
            }
            let together = plan.shipments.filter { !$0.lines.contains { alone.contains($0.line) } }
            if Set(together.map(\.node)).count != together.count { problems.append("\(order.id): a node ships twice") }
            var waiting = 0
            for line in order.lines {
                let backordered = plan.backorders.filter { $0.line == line.id }.reduce(0) { $0 + $1.quantity }
                if filled[line.id, default: 0] + backordered != line.quantity { problems.append("\(order.id)/\(line.id): quantities do not add up") }
                if line.noSplit && shipmentsOfLine[line.id, default: 0] > 1 { problems.append("\(order.id)/\(line.id): no-split line from two nodes") }
                if backordered == line.quantity { waiting += 1 }
                orderCost += Double(backordered) * request.rules.backorderPenalty * order.priority
            }
            if order.shipComplete && waiting != 0 && waiting != order.lines.count { problems.append("\(order.id): ship-complete order partly filled") }
            if !close(orderCost, plan.cost) { problems.append("\(order.id): cost \(plan.cost), expected \(orderCost)") }
            objective += orderCost
        }
        for (key, taken) in takenStock {
            let available = stock[key] ?? 0
            let usable = available < request.rules.minAvailable ? 0 : max(0, available - request.rules.safetyStock)
            if taken > usable { problems.append("\(key): \(taken) taken, \(usable) usable") }
        }
        for (node, taken) in takenAtNode {
            if let capacity = nodes[node]?.capacityUnits, taken > capacity { problems.append("\(node): \(taken) over capacity \(capacity)") }
        }
        if !close(objective, response.objective) { problems.append("objective \(response.objective), expected \(objective)") }
        return problems
    }

    private static func eligibilityProblems(
        order: Order, line: Line, node: Node, distance: Double, request: OptimizeRequest, skus: [String: SKU]
    ) -> [String] {
        let label = "\(order.id)/\(line.id)@\(node.id)"
        if !node.enabled { return ["\(label): disabled node"] }
        for exclusion in request.rules.exclude {
            let matches = (exclusion.node.map { $0 == node.id } ?? true) && (exclusion.kind.map { $0 == node.kind } ?? true)
                && (exclusion.region.map { $0 == node.location.region } ?? true)
                && (exclusion.skuCategory.map { $0 == skus[line.sku]?.category } ?? true)
                && (exclusion.skuFlag.map { skus[line.sku]?.flags.contains($0) ?? false } ?? true)
            if matches { return ["\(label): excluded"] }
        }
        if let pickup = order.pickupNode { return pickup == node.id ? [] : ["\(label): not the pickup node"] }
        if !node.canShip { return ["\(label): node cannot ship"] }
        if let limit = request.rules.maxDistanceKilometers, distance > limit { return ["\(label): too far"] }
        return []
    }

    static func haversine(_ a: Location, _ b: Location) -> Double {
        let toRadians = Double.pi / 180
        let h = pow(sin((b.latitude - a.latitude) * toRadians / 2), 2)
            + cos(a.latitude * toRadians) * cos(b.latitude * toRadians) * pow(sin((b.longitude - a.longitude) * toRadians / 2), 2)
        return 2 * 6371.0 * asin(min(1, sqrt(h)))
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-6 * max(1, abs(a), abs(b)) }
}
