import FulcrumConfig
import FulcrumCore
import FulcrumOrchestration
import FulcrumService
import Testing

/// Alert rules over the live KPIs, with a manual clock: they open when their
/// condition holds, once however often they are evaluated, resolve when it
/// no longer does, and are delivered once each through their provider's outbox.
@Suite struct AlertTests {
    static let rules = """
        version: 1
        alerts:
          - id: low-fill-rate
            kpi: fill_rate
            over: 1h
            below: 0.95
            min_orders: 2
          - id: stuck
            kpi: stuck_orders
            above: 0
            stuck_after: 1m
            provider: pager
          - id: web-orders
            kpi: orders_created
            channel: web
            above: 100
        """

    @Test func alertsOpenOnceResolveAndAreDeliveredOnce() async throws {
        let setup = try await InsightTests.ordersPricedByHand()
        let service = setup.harness.service
        let orchestrator = setup.harness.orchestrator
        service.setAlertRules(try AlertsFile.decode(yaml: Self.rules, file: "alerts.yaml"))

        // Fill rate 19/44 over the hour, O4 unchanged for 90 s: two alerts, whichever evaluations get there.
        async let first = service.evaluateAlerts()
        async let second = service.evaluateAlerts()
        let opened = try await first + second
        #expect(opened.map(\.id).sorted() == ["low-fill-rate/1", "stuck/1"])
        #expect(try await service.evaluateAlerts().isEmpty, "a condition that keeps holding alerts once")
        let fill = try #require(opened.first { $0.rule == "low-fill-rate" })
        #expect(fill.state == .open && fill.openedValue == 19.0 / 44 && fill.condition == "fill_rate over 60 min below 0.95")
        #expect(try orchestrator.outbox(provider: "alerts", limit: 10).map(\.id) == ["low-fill-rate/1/open"])
        let page = try #require(try orchestrator.outbox(provider: "pager", limit: 10).first)
        #expect(page.topic == "alert.opened" && page.body.contains("\"rule\":\"stuck\"") && page.order.isEmpty)

        // An hour later no order is in the span: the fill-rate alert resolves; O4 is still stuck.
        setup.clock.advance(milliseconds: 3_600_000)
        #expect(try await service.evaluateAlerts().map(\.id) == ["low-fill-rate/1"])
        #expect(try service.alerts(limit: 10).map { "\($0.id) \($0.state.rawValue)" } == ["stuck/1 open", "low-fill-rate/1 resolved"])
        #expect(try orchestrator.outbox(provider: "alerts", limit: 10).map(\.topic) == ["alert.opened", "alert.resolved"])

        // O4 ships: nothing is stuck, and the stuck alert resolves.
        for fulfillmentOrder in try setup.harness.order("O4").fulfillmentOrders {
            try await setup.harness.submit(BusinessEvent(
                name: "fulfillment_order.shipped", order: "O4", fields: ["fulfillment_order": fulfillmentOrder.id], source: "wms"))
        }
        #expect(try await service.evaluateAlerts().map(\.id) == ["stuck/1"])
        #expect(try service.alerts(limit: 10).allSatisfy { $0.state == .resolved })

        // Delivered: acknowledged messages leave the outbox and tell no journey; a second acknowledgement changes nothing.
        let queued = service.eventsQueued
        let deliveredBefore = try service.insights(window: .day).totals[.messagesDelivered]
        for message in try orchestrator.outbox(provider: "alerts", limit: 10) {
            #expect(try await orchestrator.acknowledge(provider: "alerts", message: message.id, delivered: true))
            #expect(try await !orchestrator.acknowledge(provider: "alerts", message: message.id, delivered: true))
        }
        #expect(try orchestrator.outbox(provider: "alerts", limit: 10).isEmpty)
        #expect(service.eventsQueued == queued)
        let answered = try service.insights(window: .day).totals
        #expect(deliveredBefore > 0 && answered[.messagesDelivered] == deliveredBefore + 2 && answered[.messagesDeadLettered] == 0)
    }

    @Test func aBadRulesFileIsRefusedAtItsLineAndColumn() {
        let cases: [(String, String)] = [
            ("version: 1\nalerts:\n  - id: a\n    kpi: fill_ratio\n    below: 1\n", "alerts.yaml:4:10: alerts[0].kpi"),
            ("version: 1\nalerts:\n  - id: a\n    kpi: fill_rate\n", "alerts.yaml:3:5: alerts[0].above"),
            ("version: 1\nalerts:\n  - id: a\n    kpi: fill_rate\n    below: 1\n    over: 3d\n", "alerts.yaml:6:11: alerts[0].over"),
            ("version: 1\nalerts:\n  - id: a\n    kpi: fill_rate\n    below: 1\n    over: 49h\n", "alerts.yaml:6:11: alerts[0].over"),
            ("version: 1\nalerts:\n  - id: a\n    kpi: fill_rate\n    below: 1\n    colour: red\n", "alerts.yaml:6:5: alerts[0].colour"),
            ("version: 1\nalerts:\n  - {id: a, kpi: dead_letters, above: 0}\n  - {id: a, kpi: dead_letters, above: 1}\n", "alerts.yaml:4:10: alerts[1].id"),
        ]
        for (yaml, path) in cases {
            #expect {
                _ = try AlertsFile.decode(yaml: yaml, file: "alerts.yaml")
            } throws: { error in
                (error as? FulcrumError)?.code == .invalidAlerts && (error as? FulcrumError)?.path == path
            }
        }
    }
}
