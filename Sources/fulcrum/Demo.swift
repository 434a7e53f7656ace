import ArgumentParser
import Foundation
import FulcrumCore
import FulcrumService

/// `fulcrum demo --data DIR`: a tour of the ledger on a small retail network.
/// Loads demo stock into an empty ledger, then shows ATP, a reservation race
/// that cannot oversell, the reservation life cycle, expiry, and a verify.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load demo stock and show the ledger at work.")

    @OptionGroup var data: DataOptions

    func run() async throws {
        do {
            let ledger = try Service.open(directory: data.data, network: DemoData.network)
            try await tour(ledger)
        } catch {
            throw fail(error, json: false)
        }
    }

    private func tour(_ ledger: Service) async throws(FulcrumError) {
        if try ledger.counts().entries == 0 {
            try await DemoData.load(into: ledger)
            print("Loaded demo stock: \(DemoData.network.nodes.count) nodes × \(DemoData.skus.count) SKUs, one purchase order per node.")
        }
        print("== Available to promise now, and by tomorrow (with scheduled receipts)")
        let tomorrow = SystemClock().now().adding(seconds: 86_400)
        for sku in DemoData.skus.prefix(3) {
            let now = try ledger.availableToPromise(AvailabilityQuery(sku: sku)).nodes
            let later = try ledger.availableToPromise(AvailabilityQuery(sku: sku, on: tomorrow)).nodes
            let cells = zip(now, later).map { "\($0.node) \($0.available)→\($1.available)" }
            print("  \(sku.padding(toLength: 14, withPad: " ", startingAt: 0)) " + cells.joined(separator: "  "))
        }
        try await race(ledger)
        try await lifeCycle(ledger)
        try sourceAnOrder(ledger)
        let report = try ledger.verify()
        print("== Verify: refold of \(report.entries) entries → \(report.isConsistent ? "consistent" : "MISMATCHES")")
        for mismatch in report.mismatches { print("  \(mismatch)") }
        let statistics = ledger.writer
        let groups = statistics.groups
        let commands = statistics.commands
        print("== Writer: \(commands) commands in \(groups) group commits (one fsync each)")
        print("Data directory: \(data.data)  (inspect with: fulcrum verify --data \(data.data))")
    }

    /// Sources a Boston order from the ledger's availability, optimally and
    /// nearest-first, to show what optimality buys.
    private func sourceAnOrder(_ ledger: Service) throws(FulcrumError) {
        let lines = [
            Line(id: "1", sku: "HOODIE-GRY-M", quantity: 30), Line(id: "2", sku: "JEANS-32", quantity: 20),
            Line(id: "3", sku: "CAP-RED", quantity: 10),
        ]
        var stock: [Stock] = []
        for line in lines {
            for (node, available) in try ledger.availableToPromise(AvailabilityQuery(sku: line.sku)).nodes.map({ ($0.node, $0.available) }) {
                stock.append(Stock(node: node, sku: line.sku, available: Int(available)))
            }
        }
        let request = OptimizeRequest(
            orders: [Order(id: "BOS-1", shipTo: Location(latitude: 42.36, longitude: -71.06), lines: lines)],
            nodes: DemoData.network.nodes, rules: Rules(maxShipmentsPerOrder: 2))
        print("== Sourcing order BOS-1 (30 hoodies, 20 jeans, 10 caps to Boston; at most 2 shipments) from the ledger's ATP")
        for strategy in [Strategy.optimal, .greedyNearest] {
            let response = try Service.solve(request, availability: stock, options: .init(strategy: strategy))
            let plan = response.plans[0]
            let shipments = plan.shipments.map { shipment in
                "\(shipment.node) " + shipment.lines.map { "#\($0.line)×\($0.quantity)" }.joined(separator: " ")
            }
            let waiting = plan.backorders.reduce(0) { $0 + $1.quantity }
            print(
                "  \(strategy.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) cost \(String(format: "%8.2f", plan.cost))"
                    + "  \(shipments.joined(separator: " | "))\(waiting > 0 ? "  (\(waiting) units backordered)" : "")")
        }
    }

    /// 200 shoppers race for 50 units: exactly 50 reservations succeed.
    private func race(_ ledger: Service) async throws(FulcrumError) {
        let run = SystemClock().now().millisecondsSinceEpoch
        let sku = "DROP-\(run)"
        _ = try await ledger.adjust(.init(node: "DC-EAST", sku: sku, change: .set(50), reason: "limited drop"))
        let won = await withTaskGroup(of: Bool.self) { group in
            for shopper in 0..<200 {
                group.addTask {
                    let line = ReservationLine(node: "DC-EAST", sku: sku, quantity: 1)
                    let reserved = try? await ledger.reserve(.init(order: "drop-\(run)-\(shopper)", lines: [line]))
                    return reserved != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        let left = try ledger.availableToPromise(AvailabilityQuery(sku: sku, node: "DC-EAST")).available
        print("== Race: 200 concurrent reservations for 50 units → \(won) reserved, \(200 - won) refused, ATP now \(left)")
    }

    private func lifeCycle(_ ledger: Service) async throws(FulcrumError) {
        let order = "web-\(SystemClock().now().millisecondsSinceEpoch)"
        let lines = [
            ReservationLine(node: "DC-WEST", sku: "JEANS-32", quantity: 1),
            ReservationLine(node: "DC-WEST", sku: "CAP-RED", quantity: 2),
        ]
        let before = try ledger.position(node: "DC-WEST", sku: "CAP-RED")
        _ = try await ledger.reserve(.init(order: order, lines: lines), idempotencyKey: "checkout-\(order)")
        _ = try await ledger.reserve(.init(order: order, lines: lines), idempotencyKey: "checkout-\(order)")
        let reserved = try ledger.position(node: "DC-WEST", sku: "CAP-RED")
        _ = try await ledger.confirm(order: order)
        let committed = try ledger.position(node: "DC-WEST", sku: "CAP-RED")
        _ = try await ledger.ship(order: order)
        let shipped = try ledger.position(node: "DC-WEST", sku: "CAP-RED")
        print("== Life cycle of \(order) (CAP-RED at DC-WEST: on hand / reserved / committed)")
        for (step, position) in [("before", before), ("reserved (sent twice, one key)", reserved),
                                 ("confirmed", committed), ("shipped", shipped)] {
            print("  \(step.padding(toLength: 32, withPad: " ", startingAt: 0)) \(position.onHand) / \(position.reserved) / \(position.committed)")
        }
        do {
            _ = try await ledger.ship(order: order)
        } catch {
            print("  shipping twice → \(error.code): \(error.message)")
        }
        let short = "cart-\(order)"
        _ = try await ledger.reserve(.init(order: short, lines: [lines[0]], ttlSeconds: 1))
        try? await Task.sleep(for: .milliseconds(2_200))
        let state = try ledger.reservation(order: short)?.state.description ?? "missing"
        print("  a 1-second cart hold, 2 s later → \(state)")
    }
}
