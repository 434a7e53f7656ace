import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumTestSupport
import Testing
@testable import FulcrumOrchestration

@Suite struct RecoveryTests {
    /// What a crash leaves: events accepted (durable) but not processed, and
    /// an event whose first step committed just before the process died.
    @Test func aNewOrchestratorResumesQueuedEventsAndSkipsCommittedSteps() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("R-1", [("SOCKS-3PK", 1)]))
        let released = try harness.order("R-1")
        #expect(released.state == OrderStates.released)

        // Accepted, never processed: an order.created whose order record exists.
        let intake = Harness.intake("R-2", [("SOCKS-3PK", 2)])
        var batch = RecordBatch()
        batch.put(RecordKeys.order("R-2"), RecordCoding.encode(OrderRecord(intake.intake!, at: Timestamp(millisecondsSinceEpoch: 1))))
        batch.put(RecordKeys.queued(1 << 40), RecordCoding.encode(QueuedEvent(sequence: 1 << 40, event: intake)))
        // Already applied: R-1's order.created with its step recorded as done.
        let done = QueuedEvent(sequence: (1 << 40) + 1, event: Harness.intake("R-1", [("SOCKS-3PK", 1)]), completedSteps: ["source"])
        batch.put(RecordKeys.queued(done.sequence), RecordCoding.encode(done))
        try await harness.service.write(batch)

        let restarted = try await Orchestrator(backend: harness.service, book: JourneyBook.standard())
        #expect(await restarted.waitUntilIdle(timeoutMilliseconds: 20_000))
        #expect(try restarted.load("R-2")?.state == OrderStates.released)
        #expect(try harness.service.reservation(order: "R-2")?.state == .confirmed)
        #expect(try restarted.load("R-1") == released, "the committed step did not run again")
        #expect(try harness.service.records(prefix: [RecordKeys.queue], after: nil, limit: 10, reverse: false).isEmpty)
        #expect(try harness.service.verify().isConsistent)
        // Sequence numbers continue above every block handed out before.
        let next = try await restarted.submit(BusinessEvent(name: "order.cancel_requested", order: "R-2", source: "t"))
        #expect(next.sequence > Orchestrator.sequenceBlock)
    }

    @Test func ordersInOneBatchWindowAreSolvedTogether() async throws {
        let harness = try await Harness.make(journeys: """
            version: 1
            journeys:
              - id: batched
                steps:
                  - id: source
                    on: [order.created]
                    action: optimize_and_reserve
                    batch: {window_ms: 2000, orders_max: 3}
            """)
        let solvesBefore = harness.service.recentDecisions.count
        async let first = harness.orchestrator.submit(Harness.intake("B-1", [("TEE-BLK-M", 1)]))
        async let second = harness.orchestrator.submit(Harness.intake("B-2", [("JEANS-32", 2)]))
        async let third = harness.orchestrator.submit(Harness.intake("B-3", [("CAP-RED", 1)]))
        _ = try await (first, second, third)
        try await harness.idle()
        for id in ["B-1", "B-2", "B-3"] {
            #expect(try harness.order(id).state == OrderStates.reserved)
            #expect(try harness.service.reservation(order: id)?.state == .reserved)
        }
        let solves = harness.service.recentDecisions.dropFirst(solvesBefore)
        #expect(solves.count == 1)
        #expect(solves.first?.request.orders.count == 3)
    }
}
