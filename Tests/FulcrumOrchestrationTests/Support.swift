import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration
import FulcrumService
import FulcrumTestSupport
import Testing

/// A demo-stocked service and an orchestrator over it, in a temporary directory.
struct Harness {
    let service: Service
    let orchestrator: Orchestrator

    /// Without `network`, the demo network and its stock; with one, no stock.
    /// `serviceClock` is the ledger's and the service's (the system's when nil).
    static func make(
        journeys: String? = nil, directory: String = temporaryDirectory(), profiles: FulfillmentProfiles = .builtIn,
        options: Orchestrator.Options = Orchestrator.Options(), network: Network? = nil, serviceClock: (any Clock)? = nil
    ) async throws -> Harness {
        var ledgerOptions = Ledger.Options()
        ledgerOptions.durable = false
        var serviceOptions = Service.Options()
        if let serviceClock {
            ledgerOptions.clock = serviceClock
            serviceOptions.clock = serviceClock
        }
        let ledger = try Ledger(directory: directory, options: ledgerOptions)
        serviceOptions.profiles = profiles
        let service = Service(ledger: ledger, network: network ?? DemoData.network, options: serviceOptions)
        if network == nil, try service.counts().positions == 0 { try await DemoData.load(into: ledger) }
        let book = try journeys.map { try JourneyBook.decode(yaml: $0, file: "test.yaml") } ?? JourneyBook.standard()
        return Harness(service: service, orchestrator: try await Orchestrator(backend: service, book: book, options: options))
    }

    /// An order to New York of `lines` (SKU, units).
    static func intake(
        _ id: String, _ lines: [(String, Int64)], region: String = "NY", channel: String? = nil, shipTo: Address? = nil
    ) -> BusinessEvent {
        let intake = OrderIntake(
            id: id, source: "test", shipTo: shipTo ?? Address(latitude: 40.71, longitude: -74.0, region: region),
            lines: lines.enumerated().map { .init(id: "L\($0.offset + 1)", sku: $0.element.0, quantity: $0.element.1) },
            channel: channel)
        return BusinessEvent(name: BusinessEvent.orderCreated, order: id, intake: intake, source: "test")
    }

    @discardableResult
    func submit(_ event: BusinessEvent, key: String? = nil) async throws -> Orchestrator.Submission {
        let submission = try await orchestrator.submit(event, idempotencyKey: key)
        try await idle()
        return submission
    }

    func idle() async throws {
        // Generous: under the full suite on 2 cores the orchestrator's tasks
        // share the cooperative pool with crash loops and load tests (one
        // order once took over 20 s to settle there); a hang still fails.
        let idle = await orchestrator.waitUntilIdle(timeoutMilliseconds: 120_000)
        #expect(idle, "the orchestrator finished its events")
    }

    func order(_ id: String) throws -> OrderRecord {
        try #require(try orchestrator.load(id))
    }

    /// Acknowledges every message waiting for `provider`.
    func deliverAll(_ provider: String = "fulfillment", delivered: Bool = true) async throws -> [OutboxMessage] {
        let messages = try orchestrator.outbox(provider: provider, limit: 100)
        for message in messages {
            #expect(try await orchestrator.acknowledge(provider: provider, message: message.id, delivered: delivered, reason: delivered ? "" : "HTTP 500"))
        }
        try await idle()
        return messages
    }
}
