import Foundation
import FulcrumCore
import FulcrumSolver
import Testing

@testable import FulcrumReplay

@Suite struct ReplayTests {
    /// Every KPI of a five-order scenario, priced by hand (see `Scenarios.tiny`).
    @Test func kpisOfATinyScenarioMatchTheHandArithmetic() async throws {
        let yaml = Scenarios.tiny(
            stock: "    - {node: A, sku: X, on_hand: 4}\n    - {node: B, sku: X, on_hand: 10}",
            orders: [
                // A: 5 + 1 + 2 × 0.5 = 7 (A's capacity: 2 of 3 used).
                Scenarios.order("O1", day: 0, time: "08:00", quantity: 2),
                // A has 1 unit of capacity left: A1+B1 = 6.5 + 8 = 14.5 > B2 = 5 + 2 + 2 = 9.
                Scenarios.order("O2", day: 0, time: "09:00", quantity: 2),
                // A: 6.5; never paid, expires at 10:30 and gives its unit back.
                Scenarios.order("O3", day: 0, time: "10:00", quantity: 1, abandoned: true),
                // Day 1, capacity reset, A holds 2 again only because O3 expired: A2 = 7 (else B2 = 9).
                Scenarios.order("O4", day: 1, time: "08:00", quantity: 2),
                // A is empty, B has 8: B8 = 5 + 2 + 8 = 15, 12 backordered.
                Scenarios.order("O5", day: 1, time: "09:00", quantity: 20),
            ].joined(separator: "\n"))
        let result = try await Scenarios.replay(yaml)
        let day0 = result.days[0].kpis
        #expect(day0.orders == 3 && day0.ordersShipped == 2 && day0.ordersAbandoned == 1)
        #expect(day0.unitsOrdered == 5 && day0.unitsPromised == 5 && day0.unitsBackordered == 0)
        #expect(abs(day0.cost - 16) < 1e-9 && day0.shipments == 2 && day0.unitsShipped == 4)
        #expect(abs(day0.unitKilometers - 2 * Scenarios.kilometersAB) < 1e-6)
        let day1 = result.days[1].kpis
        #expect(day1.orders == 2 && day1.ordersShipped == 2 && day1.unitsOrdered == 22 && day1.unitsPromised == 10)
        #expect(day1.unitsBackordered == 12 && abs(day1.cost - 22) < 1e-9)
        #expect(abs(day1.unitKilometers - 8 * Scenarios.kilometersAB) < 1e-6)
        let totals = result.totals
        #expect(totals.orders == 5 && totals.ordersShipped == 4 && totals.ordersNotShippable == 0 && totals.ordersSplit == 0)
        #expect(abs(totals.cost - 38) < 1e-9 && abs(totals.costPerOrder - 9.5) < 1e-9)
        #expect(abs(totals.shipmentsPerOrder - 1) < 1e-12)
        #expect(abs(totals.fillRate - 15.0 / 27.0) < 1e-12)
        #expect(abs(totals.distancePerUnitKilometers - 10 * Scenarios.kilometersAB / 14) < 1e-6)
        #expect(result.nodes[0].unitsPerDay == [3, 2] && result.nodes[1].unitsPerDay == [2, 8])
        #expect(result.nodes[0].utilizationPerDay == [1, 2.0 / 3.0] && result.nodes[1].utilizationPerDay == nil)
        #expect(result.stockouts == [SKUStockout(sku: "X", unitsBackordered: 12, linesBackordered: 1, firstDay: 1)])
        #expect(result.ledgerVerified == true)
    }

    /// A receipt, a transfer in transit, and a node offline then online, each
    /// seen by the orders around it.
    @Test func supplyEventsChangeWhatTheOrdersCanUse() async throws {
        let yaml = Scenarios.tiny(
            nodes: """
                    - {id: A, latitude: 0, longitude: 0, cost_per_shipment: 1, cost_per_unit: 0.5}
                    - {id: B, latitude: 0, longitude: 1, cost_per_shipment: 2, cost_per_unit: 1}
                """,
            stock: "    - {node: A, sku: X, on_hand: 0}",
            supply: """

                  - {type: receipt, day: 0, time: "12:00", node: A, sku: X, quantity: 5}
                  - {type: transfer, day: 0, time: "14:00", from: A, to: B, sku: X, quantity: 3, transit_hours: 1}
                  - {type: offline, day: 0, time: "17:00", node: B}
                  - {type: online, day: 0, time: "19:00", node: B}
                """,
            orders: [
                Scenarios.order("O1", day: 0, time: "10:00", quantity: 1),  // before the receipt: backordered
                Scenarios.order("O2", day: 0, time: "13:00", quantity: 1),  // A (4 left)
                // The transfer moved 3 of A's 4 at 14:00; they reach B at 15:00.
                Scenarios.order("O3", day: 0, time: "14:30", at: "B", quantity: 2),  // A's last 1, 1 backordered
                Scenarios.order("O4", day: 0, time: "16:00", at: "B", quantity: 2),  // B (3 arrived)
                Scenarios.order("O5", day: 0, time: "18:00", at: "B", quantity: 1),  // B offline, A empty: backordered
                Scenarios.order("O6", day: 0, time: "20:00", at: "B", quantity: 1),  // B online again
            ].joined(separator: "\n"))
        let result = try await Scenarios.replay(yaml)
        #expect(result.supply == SupplyKPIs(
            receipts: 2, unitsReceived: 8, transfers: 1, unitsTransferAsked: 3, unitsTransferred: 3, nodeStatusChanges: 2))
        #expect(result.nodes.map(\.units) == [2, 3])
        #expect(result.totals.unitsBackordered == 3 && result.totals.ordersNotShippable == 2)
        #expect(result.totals.ordersShipped == 4)
    }

    @Test func aTransferMovesOnlyWhatIsAvailable() async throws {
        let yaml = Scenarios.tiny(
            stock: "    - {node: A, sku: X, on_hand: 2}",
            supply: "\n  - {type: transfer, day: 0, time: \"01:00\", from: A, to: B, sku: X, quantity: 5, transit_hours: 2}",
            orders: Scenarios.order("O1", day: 0, time: "04:00", at: "B", quantity: 3))
        let result = try await Scenarios.replay(yaml)
        #expect(result.supply.unitsTransferAsked == 5 && result.supply.unitsTransferred == 2)
        #expect(result.nodes.map(\.units) == [0, 2] && result.totals.unitsBackordered == 1)
    }

    /// Orders in one batch window are solved together: one optimize call per window.
    @Test func batchWindowsSolveTheirOrdersTogether() async throws {
        let orders = (0..<6).map { Scenarios.order("O\($0)", day: 0, time: "08:\(10 + $0 * 5)", quantity: 1) }
        let yaml = Scenarios.tiny(
            stock: "    - {node: A, sku: X, on_hand: 10}\n    - {node: B, sku: X, on_hand: 10}",
            orders: orders.joined(separator: "\n"), replay: ", batch_minutes: 30")
        let result = try await Scenarios.replay(yaml)
        // 08:10–08:25 flush at 08:30; 08:30–08:35 flush at 09:00.
        #expect(result.timing.optimizeCalls == 2)
        #expect(result.totals.ordersShipped == 6)
        // A's capacity (3 a day) is shared by the batch: 3 from A, 3 from B.
        #expect(result.nodes.map(\.units) == [3, 3])
    }

    /// The same scenario and seed give the same report, timings aside; another seed does not.
    @Test func aReplayIsDeterministic() async throws {
        let scenario = try Scenario.load(path: Self.scenariosDirectory + "/demo")
        let first = try await Replayer.embedded(ExpandedScenario(scenario), strategies: [.optimal, .greedyNearest])
        let second = try await Replayer.embedded(ExpandedScenario(scenario), strategies: [.optimal, .greedyNearest])
        #expect(first.withoutTiming.json() == second.withoutTiming.json())
        #expect(first.strategies[0].totals.orders > 2000)
        var reseeded = scenario
        reseeded.seed += 1
        let third = try await Replayer.embedded(ExpandedScenario(reseeded), strategies: [.optimal, .greedyNearest])
        #expect(third.withoutTiming.json() != first.withoutTiming.json())
        // The comparison names the baseline's saving over the other strategy.
        #expect(first.comparisons.count == 1 && first.comparisons[0].summary.hasPrefix("optimal saves"))
        #expect(first.strategies[0].totals.cost < first.strategies[1].totals.cost)
        // The unmodified demo week (with its planned Black Friday peak) raises no anomaly.
        let anomalies = first.strategies.flatMap(\.anomalies)
        #expect(anomalies.isEmpty, "\(anomalies.map(\.explanation))")
    }

    /// The demo week with a demand spike on one SKU and a shrinkage at one
    /// node: the replay finds both in the hour they happen (and the intake
    /// spike the extra orders make), as fulcrumd's live detector would after that hour.
    @Test func anInjectedSpikeAndShrinkageAreFoundInTheirHours() async throws {
        let scenario = try Scenario.load(path: Self.scenariosDirectory + "/demo/anomaly-drill.yaml")
        let report = try await Replayer.embedded(ExpandedScenario(scenario), strategies: [.greedyNearest])
        let found = report.strategies[0].anomalies.map { anomaly in
            "\(CivilDate.string(daysSinceEpoch: anomaly.hourStartMs / 86_400_000)) \(anomaly.hourStartMs % 86_400_000 / 3_600_000)h "
                + "\(anomaly.stream.rawValue) \(anomaly.subject)"
        }
        #expect(found == ["2026-11-28 15h order_intake ", "2026-11-28 15h sku_demand SKU-12", "2026-11-29 10h shrinkage DC-WEST"])
        #expect(report.strategies[0].supply.unitsShrunk == 60)
        #expect(report.markdown().contains("| 2026-11-29 10:00 | shrinkage | DC-WEST | 60 |"))
    }

    static let scenariosDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios").path
}
