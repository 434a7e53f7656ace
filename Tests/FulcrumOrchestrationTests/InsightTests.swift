import Foundation
import FulcrumCore
import FulcrumOrchestration
import FulcrumService
import FulcrumTestSupport
import Testing

/// Live KPIs against figures priced by hand on a two-node network on the
/// equator, where the spec's cost is 5 per shipment plus 0.0005 per unit-km.
@Suite struct InsightTests {
    /// 10:00:30 UTC on a day boundary's 10th hour.
    static let startMs: Int64 = 1_796_256_000_000 + 36_030_000
    /// One degree of longitude on the equator, in km (the spec's haversine, radius 6371).
    static let degreeKilometers = 6371.0 * Double.pi / 180

    struct Setup {
        let harness: Harness
        let clock: ManualClock
    }

    /// Node A one degree east of the orders' ship-to, node B two: A holds 10 X;
    /// B holds 10 X and 10 Y. Orders: O1 (web) 1 X + 1 Y, O2 (web) 2 X,
    /// O4 (store) 15 X, O3 (web) 25 Y (backordered); O2 cancelled; O1 shipped 90 s after it was created.
    static func ordersPricedByHand() async throws -> Setup {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: startMs))
        var options = Orchestrator.Options()
        options.clock = clock
        options.backorderSweepIntervalMilliseconds = nil
        let journeys = JourneyBook.standardYAML.replacingOccurrences(
            of: "        profile: standard\n", with: "        profile: standard\n        on_shortage: backorder\n")
        let network = Network(nodes: [
            Node(id: "A", location: Location(latitude: 0, longitude: 1)), Node(id: "B", location: Location(latitude: 0, longitude: 2)),
        ])
        let harness = try await Harness.make(journeys: journeys, options: options, network: network, serviceClock: clock)
        for (node, sku) in [("A", "X"), ("B", "X"), ("B", "Y")] {
            _ = try await harness.service.adjust(.init(node: node, sku: sku, change: .set(10), reason: "count"))
        }
        let here = Address(latitude: 0, longitude: 0)
        try await harness.submit(Harness.intake("O1", [("X", 1), ("Y", 1)], channel: "web", shipTo: here))
        try await harness.submit(Harness.intake("O2", [("X", 2)], channel: "web", shipTo: here))
        try await harness.submit(Harness.intake("O4", [("X", 15)], channel: "store", shipTo: here))
        try await harness.submit(Harness.intake("O3", [("Y", 25)], channel: "web", shipTo: here))
        try await harness.submit(BusinessEvent(name: "order.cancel_requested", order: "O2", source: "test"))
        _ = try await harness.deliverAll()
        clock.advance(milliseconds: 90_000)
        for fulfillmentOrder in try harness.order("O1").fulfillmentOrders {
            try await harness.submit(BusinessEvent(
                name: "fulfillment_order.shipped", order: "O1", fields: ["fulfillment_order": fulfillmentOrder.id], source: "wms"))
        }
        await harness.service.settleInsights()
        return Setup(harness: harness, clock: clock)
    }

    @Test func kpisMatchWhatWasPricedByHand() async throws {
        let setup = try await Self.ordersPricedByHand()
        #expect(try setup.harness.order("O1").state == OrderStates.shipped)
        #expect(try setup.harness.order("O3").state == OrderStates.backordered)
        let report = try setup.harness.service.insights(window: .hour, stuckAfterSeconds: 60)
        let totals = report.totals
        let expected: [InsightMetric: Int64] = [
            .ordersCreated: 4, .unitsOrdered: 44, .ordersSourced: 4, .unitsSourced: 44, .unitsFilled: 19, .reservations: 3,
            .unitsReserved: 19, .shipments: 4, .reservationsSplit: 1, .reservationsCosted: 3, .ordersBackordered: 1,
            .ordersReserved: 3, .ordersReleased: 3, .ordersShipped: 1, .createdToShippedMilliseconds: 90_000,
            .ordersCancelled: 1, .baselineOrders: 3,
        ]
        for (metric, count) in expected { #expect(totals[metric] == count, "\(metric.name)") }
        #expect(totals[.stepsFailed] == 0 && totals[.ordersPreordered] == 0 && totals[.createdToReservedMilliseconds] == 0)

        // By hand: O1 from B alone (5 + 2 units × 2°), O2 from A (5 + 2 × 1°), O4 split 8 from A and 7 from B.
        let unitKm = 0.0005 * Self.degreeKilometers
        let o1 = 5 + 2 * 2 * unitKm
        let o2 = 5 + 2 * 1 * unitKm
        let o4 = 10 + (8 * 1 + 7 * 2) * unitKm
        // Nearest-first sends O1's X from A and its Y from B: two shipments.
        let o1NearestFirst = 10 + (1 + 2) * unitKm
        #expect(abs(totals.costPerOrder! - (o1 + o2 + o4) / 3) < 1e-5)
        #expect(abs(totals.savings - (o1NearestFirst - o1)) < 1e-5)
        #expect(abs(totals.savingsRate! - (o1NearestFirst - o1) / (o1NearestFirst + o2 + o4)) < 1e-6)
        #expect(totals.fillRate == 19.0 / 44)
        #expect(totals.splitRate == 1.0 / 3)
        #expect(totals.createdToShippedSeconds == 90)

        #expect(report.channels.map(\.channel) == ["store", "web"])
        #expect(report.channels[0].totals[.unitsOrdered] == 15 && report.channels[1].totals[.unitsOrdered] == 29)
        #expect(report.channels[1].totals[.baselineOrders] == 2)
        #expect(report.nodes.map { [$0.node: [$0.shipments, $0.unitsReserved]] } == [["A": [2, 10]], ["B": [2, 9]]])
        // O4 released 90 s ago and not shipped; O3 waits for stock, which is not being stuck.
        #expect(report.stuckOrders.map(\.order) == ["O4"])
        #expect(report.backordersWaiting == 1)
        // The series: a point a minute, orders in the first minute, the shipment in the current one.
        #expect(report.series.count == 60)
        #expect(report.series[57].totals[.ordersCreated] == 4 && report.series[59].totals[.ordersShipped] == 1)
        #expect(report.series.map { $0.totals[.ordersCreated] }.reduce(0, +) == 4)
    }

    @Test func rollUpsKeepTheTotalsAndDropExpiredMinutes() async throws {
        let setup = try await Self.ordersPricedByHand()
        let service = setup.harness.service
        let before = try service.insights(window: .day).totals
        #expect(before[.ordersCreated] == 4)

        setup.clock.advance(milliseconds: 3 * 3_600_000)
        // Two passes at once, as an old and a new leader might: each bucket is summed once.
        async let first: Void = service.rollUpInsights()
        async let second: Void = service.rollUpInsights()
        _ = try await (first, second)
        #expect(try service.insights(window: .day).totals == before)
        #expect(try !service.records(prefix: InsightKeys.levelPrefix(.hour), after: nil, limit: 1, reverse: false).isEmpty)

        setup.clock.advance(milliseconds: 3 * 86_400_000)
        try await service.rollUpInsights()
        #expect(try service.insights(window: .month).totals == before)
        #expect(try service.insights(window: .hour).totals == InsightTotals())
        #expect(try service.records(prefix: InsightKeys.levelPrefix(.minute), after: nil, limit: 1, reverse: false).isEmpty)
        try await service.rollUpInsights()
        #expect(try service.insights(window: .month).totals == before)
    }

    @Test func aWindowThatIsNotOneIsATypedError() async throws {
        let harness = try await Harness.make()
        #expect(throws: FulcrumError.self) { try harness.service.insights(window: .day, stuckAfterSeconds: 0) }
    }
}
