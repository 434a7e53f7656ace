import FulcrumCore
import FulcrumService
import FulcrumWire
import Testing

/// Insights over the binary protocol (opcode 58): the service's report, converted and back.
@Suite struct InsightsRPCTests {
    @Test func theReportTravelsWholeAndABadWindowIsATypedError() async throws {
        let server = try await TestServer()
        _ = try await DemoData.load(into: server.service)
        try await server.service.startJourneys(try Journeys.load(file: nil))
        for (index, units) in [2, 3].enumerated() {
            let intake = OrderIntake(
                id: "RPC-\(index)", source: "test", shipTo: Address(latitude: 40.7, longitude: -74.0),
                lines: [.init(id: "1", sku: "JEANS-32", quantity: Int64(units))], channel: "web")
            _ = try await server.service.submit(BusinessEvent(name: BusinessEvent.orderCreated, order: intake.id, intake: intake, source: "test"))
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while server.service.eventsQueued > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await server.service.settleInsights()

        let client = try await server.client()
        let answer = try await client.call(
            .insights, Fulcrum_V1_InsightsRequest.with { $0.window = "hour" }, as: Fulcrum_V1_InsightsResponse.self)
        let report = try #require(answer.domain)
        let local = try server.service.insights(window: .hour)
        #expect(report.totals == local.totals && report.channels == local.channels && report.nodes == local.nodes)
        #expect(report.series == local.series && report.stuckOrders == local.stuckOrders)
        #expect(report.totals[.ordersCreated] == 2 && report.totals[.unitsOrdered] == 5 && report.totals[.baselineOrders] == 2)
        #expect(report.channels.map(\.channel) == ["web"] && report.nodes.count == DemoData.network.nodes.count)

        await expectError(.invalidArgument, path: "window") {
            let _: Fulcrum_V1_InsightsResponse = try await client.call(.insights, Fulcrum_V1_InsightsRequest.with { $0.window = "year" })
        }
        await server.stop()
    }
}
