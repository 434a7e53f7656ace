import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration
import FulcrumService
import FulcrumTestSupport
import Testing

@Suite struct JourneyTests {
    /// The standard journeys with `on_shortage` on the sourcing step, the
    /// backorder sweep left to the test (`releaseBackorders`).
    static func harness(onShortage: String) async throws -> Harness {
        let journeys = JourneyBook.standardYAML.replacingOccurrences(
            of: "        profile: standard\n", with: "        profile: standard\n        on_shortage: \(onShortage)\n")
        #expect(journeys != JourneyBook.standardYAML)
        var options = Orchestrator.Options()
        options.backorderSweepIntervalMilliseconds = nil
        return try await Harness.make(journeys: journeys, options: options)
    }

    @Test func theStandardJourneyTakesAnOrderFromCreatedToShipped() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("ORD-1", [("TEE-BLK-M", 2), ("CAP-RED", 1)]))
        var order = try harness.order("ORD-1")
        #expect(order.state == OrderStates.released)
        #expect(order.failure == nil)
        #expect(!order.fulfillmentOrders.isEmpty)
        #expect(order.waiting.map(\.step) == ["send-to-warehouse"])
        #expect(try harness.service.reservation(order: "ORD-1")?.state == .confirmed)
        let reserved = order.lines.map { $0.allocations.values.reduce(0, +) }
        #expect(reserved == [2, 1])

        let messages = try await harness.deliverAll()
        #expect(messages.count == order.fulfillmentOrders.count)
        #expect(messages.allSatisfy { $0.topic == "fulfillment_order.created" && $0.body.contains("\"order\":\"ORD-1\"") })
        order = try harness.order("ORD-1")
        #expect(order.waiting.isEmpty)
        #expect(order.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.sent })
        #expect(try harness.orchestrator.outbox(provider: "fulfillment", limit: 10).isEmpty)

        for (index, fulfillmentOrder) in order.fulfillmentOrders.enumerated() {
            try await harness.submit(BusinessEvent(
                name: "fulfillment_order.shipped", order: "ORD-1",
                fields: ["fulfillment_order": fulfillmentOrder.id, "tracking": "1Z\(index)"], source: "wms"))
        }
        order = try harness.order("ORD-1")
        #expect(order.state == OrderStates.shipped)
        #expect(order.lines.allSatisfy { $0.state == LineStates.shipped })
        #expect(order.fulfillmentOrders.allSatisfy { $0.tracking != nil })
        #expect(try harness.service.reservation(order: "ORD-1")?.state == .shipped)
        #expect(try harness.service.verify().isConsistent)

        let timeline = try harness.orchestrator.timeline("ORD-1")
        let transitions = timeline.filter { $0.kind == .transition && $0.entity == "order:ORD-1" }.map(\.text)
        #expect(transitions == ["created → reserved", "reserved → released", "released → shipped"])
        #expect(timeline.first?.text.hasPrefix("order.created from test") == true)
        #expect(timeline.contains { $0.kind == .event && $0.text.hasPrefix("order.reserved from step:source") })
        #expect(zip(timeline, timeline.dropFirst()).allSatisfy { $0.atMs <= $1.atMs })
    }

    /// Buy online, pick up in store: reserved at the pickup store only (the
    /// nearer warehouse is not used, the address is not needed), then ready
    /// for pickup and picked up, which ships the reservation.
    @Test func aPickupOrderIsReservedAtItsStoreAndPickedUp() async throws {
        let harness = try await Harness.make()
        let sku = try #require(DemoData.skus.first { try! harness.service.position(node: "STORE-CHI", sku: $0).available >= 2 })
        var event = Harness.intake("PICK-1", [(sku, 2)])
        event.intake!.pickupNode = "STORE-CHI"
        event.intake!.shipTo = Address()
        try await harness.submit(event)
        var order = try harness.order("PICK-1")
        #expect(order.state == OrderStates.released, "\(String(describing: order.failure))")
        #expect(order.pickupNode == "STORE-CHI")
        #expect(order.lines[0].allocations == ["STORE-CHI": 2])
        #expect(order.fulfillmentOrders.map(\.node) == ["STORE-CHI"])
        _ = try await harness.deliverAll()
        let fulfillmentOrder = try #require(try harness.order("PICK-1").fulfillmentOrders.first).id

        try await harness.submit(BusinessEvent(
            name: "fulfillment_order.prepared_for_pickup", order: "PICK-1", fields: ["fulfillment_order": fulfillmentOrder], source: "pos"))
        order = try harness.order("PICK-1")
        #expect(order.state == OrderStates.readyForPickup)
        #expect(order.fulfillmentOrders[0].state == FulfillmentOrderStates.readyForPickup)
        #expect(try harness.service.reservation(order: "PICK-1")?.state == .confirmed)

        try await harness.submit(BusinessEvent(
            name: "fulfillment_order.picked_up", order: "PICK-1", fields: ["fulfillment_order": fulfillmentOrder], source: "pos"))
        order = try harness.order("PICK-1")
        #expect(order.state == OrderStates.pickedUp)
        #expect(order.lines.allSatisfy { $0.state == LineStates.pickedUp })
        #expect(try harness.service.reservation(order: "PICK-1")?.state == .shipped)
        let transitions = try harness.orchestrator.timeline("PICK-1").filter { $0.kind == .transition && $0.entity == "order:PICK-1" }.map(\.text)
        #expect(transitions == ["created → reserved", "reserved → released", "released → ready_for_pickup", "ready_for_pickup → picked_up"])
        // A second collection does not fit the order: rejected, nothing applied.
        try await harness.submit(BusinessEvent(
            name: "fulfillment_order.picked_up", order: "PICK-1", fields: ["fulfillment_order": fulfillmentOrder], source: "pos"))
        #expect(try harness.orchestrator.timeline("PICK-1").last { $0.kind == .rejected } != nil)
        #expect(try harness.service.verify().isConsistent)

        // Curbside: the same journey; the store's message and the timeline say so.
        var curbside = Harness.intake("PICK-3", [(sku, 1)])
        curbside.intake!.pickupNode = "STORE-CHI"
        curbside.intake!.curbside = true
        try await harness.submit(curbside)
        #expect(try harness.order("PICK-3").curbside == true)
        let sent = try await harness.deliverAll()
        #expect(sent.contains { $0.order == "PICK-3" && $0.body.hasPrefix(#"{"curbside":true,"#) }, "\(sent.map(\.body))")
        #expect(try harness.orchestrator.timeline("PICK-3").contains { $0.text.contains("shipments from STORE-CHI") && $0.text.hasSuffix(", curbside pickup") })
        var notPickup = Harness.intake("PICK-4", [(sku, 1)])
        notPickup.intake!.curbside = true
        await #expect(throws: FulcrumError(.invalidArgument, "a curbside order is a pickup: give its pickup_node", path: "order.curbside")) {
            try await harness.submit(notPickup)
        }

        // A pickup node the network does not have is refused at the door.
        var unknown = Harness.intake("PICK-2", [(sku, 1)])
        unknown.intake!.pickupNode = "STORE-MARS"
        await #expect(throws: FulcrumError(.unknownReference, "no node STORE-MARS in the server's network", path: "order.pickup_node")) {
            try await harness.submit(unknown)
        }
    }

    @Test func aDeadLetterFailsTheStepAndItsReplayCompletesWithoutReservingTwice() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("ORD-2", [("JEANS-32", 1)]))
        let failed = try await harness.deliverAll(delivered: false)
        #expect(failed.count == 1)
        var order = try harness.order("ORD-2")
        #expect(order.failure?.code == "delivery_failed")
        #expect(order.failure?.resumeStep == "send-to-warehouse")
        let letters = try harness.orchestrator.deadLetters(provider: "fulfillment", limit: 10)
        #expect(letters.map(\.message.id) == failed.map(\.id))
        #expect(letters.first?.reason == "HTTP 500")

        _ = try await harness.orchestrator.replayDeadLetter(provider: "fulfillment", message: failed[0].id, source: "test")
        try await harness.idle()
        #expect(try harness.orchestrator.deadLetters(provider: "fulfillment", limit: 10).isEmpty)
        let resent = try await harness.deliverAll()
        #expect(resent.count == 1)
        #expect(resent[0].id == failed[0].id)  // the replay keeps the message id: receivers drop repeats by it
        #expect(resent[0].body == failed[0].body)
        order = try harness.order("ORD-2")
        #expect(order.failure == nil)
        #expect(order.fulfillmentOrders.map(\.state) == [FulfillmentOrderStates.sent])
        let reserves = try harness.orchestrator.timeline("ORD-2").filter { $0.kind == .action && $0.text.hasPrefix("reserved") }
        #expect(reserves.count == 1)
        #expect(try harness.orchestrator.timeline("ORD-2").contains { $0.kind == .reprocess })
        #expect(try harness.service.verify().isConsistent)
    }

    @Test func aDisallowedTransitionIsRecordedAndNothingChanges() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("ORD-3", [("CAP-RED", 1)]))
        _ = try await harness.deliverAll()
        let fulfillmentOrder = try harness.order("ORD-3").fulfillmentOrders[0].id
        try await harness.submit(BusinessEvent(name: "fulfillment_order.shipped", order: "ORD-3", fields: ["fulfillment_order": fulfillmentOrder], source: "wms"))
        let position = try harness.service.position(node: try harness.order("ORD-3").fulfillmentOrders[0].node, sku: "CAP-RED")
        try await harness.submit(BusinessEvent(name: "order.cancel_requested", order: "ORD-3", source: "storefront"))
        // Rejected on the timeline: the shipped order is not failed, nothing changes.
        let order = try harness.order("ORD-3")
        #expect(order.state == OrderStates.shipped)
        #expect(order.failure == nil)
        #expect(try harness.service.position(node: order.fulfillmentOrders[0].node, sku: "CAP-RED") == position)
        let rejected = try harness.orchestrator.timeline("ORD-3").last { $0.kind == .rejected }
        #expect(rejected?.code == "transition_not_allowed")
        #expect(rejected?.text.contains("order ORD-3 cannot go from shipped to cancelled") == true)

        // A second shipment of the same fulfillment order, and one of a fulfillment order it does not have: rejected too.
        try await harness.submit(BusinessEvent(name: "fulfillment_order.shipped", order: "ORD-3", fields: ["fulfillment_order": fulfillmentOrder], source: "wms"))
        try await harness.submit(BusinessEvent(name: "fulfillment_order.shipped", order: "ORD-3", fields: ["fulfillment_order": "ORD-3/FO-9"], source: "wms"))
        let codes = try harness.orchestrator.timeline("ORD-3").filter { $0.kind == .rejected }.compactMap(\.code)
        #expect(codes == ["transition_not_allowed", "transition_not_allowed", "unknown_reference"])
        #expect(try harness.order("ORD-3").failure == nil)
        let unchanged = try harness.order("ORD-3")
        #expect(unchanged.state == order.state && unchanged.fulfillmentOrders == order.fulfillmentOrders && unchanged.lines == order.lines)
        #expect(try harness.service.reservation(order: "ORD-3")?.state == .shipped)
        #expect(try harness.service.verify().isConsistent)
    }

    /// A return is located for what shipped; one for more than that is
    /// rejected on the timeline, the shipped order neither failed nor changed.
    @Test func aReturnBeyondWhatShippedIsRejectedNotFailed() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("ORD-R", [("CAP-RED", 2)]))
        _ = try await harness.deliverAll()
        let fulfillmentOrder = try harness.order("ORD-R").fulfillmentOrders[0].id
        try await harness.submit(BusinessEvent(name: "fulfillment_order.shipped", order: "ORD-R", fields: ["fulfillment_order": fulfillmentOrder], source: "wms"))
        #expect(try harness.order("ORD-R").state == OrderStates.shipped)
        func requestReturn(_ id: String, _ quantity: Int64) async throws {
            try await harness.submit(BusinessEvent(
                name: "return.requested", order: "ORD-R", fields: ["return": id],
                returnLines: [.init(sku: "CAP-RED", quantity: quantity)], source: "storefront"))
        }
        try await requestReturn("R-1", 1)
        try await requestReturn("R-2", 2)  // only 1 left to come back
        try await requestReturn("R-1", 1)  // that return id is taken
        let order = try harness.order("ORD-R")
        #expect(order.failure == nil && order.state == OrderStates.shipped)
        #expect(order.returns.map(\.id) == ["ORD-R/R-1"])
        let rejected = try harness.orchestrator.timeline("ORD-R").filter { $0.kind == .rejected }
        #expect(rejected.compactMap(\.code) == ["invalid_argument", "duplicate_id"])
        #expect(rejected.first?.text.contains("2 CAP-RED cannot come back: 2 shipped, 1 returned") == true)
    }

    /// A return received and inspected: restocked units are sellable again at
    /// once, refurbished ones are due back by date, the rest written off; the
    /// storefront is asked to refund it, and it is refunded once it took that.
    @Test func aReturnIsRestockedSellableAgainAndRefunded() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("ORD-RS", [("CAP-RED", 3), ("TEE-BLK-M", 1)]))
        _ = try await harness.deliverAll()
        for fulfillmentOrder in try harness.order("ORD-RS").fulfillmentOrders {
            try await harness.submit(
                BusinessEvent(name: "fulfillment_order.shipped", order: "ORD-RS", fields: ["fulfillment_order": fulfillmentOrder.id], source: "wms"))
        }
        #expect(try harness.order("ORD-RS").state == OrderStates.shipped)
        try await harness.submit(BusinessEvent(
            name: "return.requested", order: "ORD-RS", fields: ["return": "R-1"],
            returnLines: [.init(sku: "CAP-RED", quantity: 3)], source: "storefront"))
        let located = try #require(try harness.order("ORD-RS").returns.first)
        #expect(located.state == ReturnStates.located)
        let node = try #require(located.node)
        let before = try harness.service.position(node: node, sku: "CAP-RED")
        let dueMs: Int64 = 1_900_000_000_000

        // More than was asked to come back is rejected, and changes nothing.
        try await harness.submit(BusinessEvent(
            name: "return.received", order: "ORD-RS", fields: ["return": "R-1"],
            returnLines: [.init(sku: "CAP-RED", quantity: 4, disposition: "restock")], source: "wms"))
        #expect(try harness.order("ORD-RS").returns.first?.state == ReturnStates.located)
        try await harness.submit(BusinessEvent(
            name: "return.received", order: "ORD-RS", fields: ["return": "R-1", "refurbish_due_ms": "\(dueMs)"],
            returnLines: [
                .init(sku: "CAP-RED", quantity: 1, disposition: "restock"), .init(sku: "CAP-RED", quantity: 1, disposition: "refurbish"),
                .init(sku: "CAP-RED", quantity: 1, disposition: "dispose"),
            ], source: "wms"))
        let restocked = try #require(try harness.order("ORD-RS").returns.first)
        #expect(restocked.state == ReturnStates.restocked && restocked.received.count == 3, "\(restocked)")
        let after = try harness.service.position(node: node, sku: "CAP-RED")
        #expect(after.onHand == before.onHand + 1 && after.available == before.available + 1)
        let atp = { (onMs: Int64) throws in
            try harness.service.availableToPromise(
                AvailabilityQuery(sku: "CAP-RED", node: node, on: Timestamp(millisecondsSinceEpoch: onMs))).available
        }
        #expect(try atp(dueMs) == (try atp(dueMs - 1)) + 1, "the refurbished unit counts from its due date")
        #expect(try harness.service.receipt("ORD-RS/R-1/CAP-RED")?.quantity == 1)
        let rejected = try harness.orchestrator.timeline("ORD-RS").filter { $0.kind == .rejected }
        #expect(rejected.compactMap(\.code) == ["invalid_argument"], "\(rejected)")

        // A second receipt of the same return is rejected; the refund waits for the storefront.
        try await harness.submit(BusinessEvent(
            name: "return.received", order: "ORD-RS", fields: ["return": "R-1"],
            returnLines: [.init(sku: "CAP-RED", quantity: 1, disposition: "restock")], source: "wms"))
        #expect(try harness.service.position(node: node, sku: "CAP-RED") == after)
        let refunds = try await harness.deliverAll("storefront")
        #expect(refunds.map(\.topic) == ["return.refund_requested"])
        #expect(refunds.first?.body.contains(#""disposition":"refurbish""#) == true)
        #expect(try harness.order("ORD-RS").returns.first?.state == ReturnStates.refunded)

        // A store takes a return nobody asked for: disposed of, it still leaves a ledger entry and a refund.
        try await harness.submit(BusinessEvent(
            name: "return.received", order: "ORD-RS", fields: ["return": "R-2", "node": "STORE-NYC"],
            returnLines: [.init(sku: "TEE-BLK-M", quantity: 1, disposition: "dispose")], source: "pos"))
        let walkIn = try #require(try harness.order("ORD-RS").returns.last)
        #expect(walkIn.state == ReturnStates.disposed && walkIn.node == "STORE-NYC", "\(walkIn)")
        #expect(try await harness.deliverAll("storefront").count == 1)
        #expect(try harness.order("ORD-RS").returns.last?.state == ReturnStates.refunded)
        #expect(try harness.service.verify().isConsistent)
    }

    /// An order short of stock waits whole in the backorder queue; when stock
    /// arrives the first in the queue is sourced again and goes on its
    /// journey, a later one waits for more, and a cancelled one leaves the queue.
    @Test func backorderedOrdersAreSourcedWhenStockArrivesFirstComeFirstServed() async throws {
        let harness = try await Self.harness(onShortage: "backorder")
        let available = try harness.service.availableToPromise(AvailabilityQuery(sku: "CAP-RED")).available
        try await harness.submit(Harness.intake("BO-1", [("CAP-RED", available + 5), ("TEE-BLK-M", 1)]))
        try await harness.submit(Harness.intake("BO-2", [("CAP-RED", available + 50)]))
        let waiting = try harness.order("BO-1")
        #expect(waiting.state == OrderStates.backordered && waiting.failure == nil, "\(waiting)")
        #expect(waiting.lines.map(\.state) == [LineStates.backordered, LineStates.open])
        #expect(try harness.service.reservation(order: "BO-1") == nil)
        #expect(try harness.orchestrator.timeline("BO-1").contains { $0.text == "backordered: 5 CAP-RED short" })
        try await harness.idle()
        let told = try harness.orchestrator.timeline("BO-1").filter { $0.text.hasPrefix("order_line.backordered from step:source") }
        #expect(told.count == 1 && told[0].text.contains("quantity=5") && told[0].text.contains("sku=CAP-RED"), "\(told.map(\.text))")
        let reads = JourneyReads(backend: harness.service)
        let queue = try reads.backorders(limit: 10)
        #expect(queue.map(\.order) == ["BO-1", "BO-2"] && queue.map { $0.shortages["CAP-RED"] } == [5, 50], "\(queue)")

        // Nothing arrived: nothing is tried again.
        #expect(try await harness.orchestrator.releaseBackorders() == 0)
        _ = try await harness.service.adjust(.init(node: "DC-EAST", sku: "CAP-RED", change: .delta(3)))
        #expect(try await harness.orchestrator.releaseBackorders() == 0, "3 of the 5 units it lacks")
        _ = try await harness.service.adjust(.init(node: "DC-EAST", sku: "CAP-RED", change: .delta(2)))
        #expect(try await harness.orchestrator.releaseBackorders() == 1)
        try await harness.idle()
        let sourced = try harness.order("BO-1")
        #expect(sourced.state == OrderStates.released, "\(sourced)")
        #expect(try harness.orchestrator.timeline("BO-1").filter { $0.text.hasPrefix("order_line.reserved from step:source") }.count == 1)
        #expect(sourced.lines.allSatisfy { $0.state == LineStates.released })
        #expect(try harness.service.reservation(order: "BO-1")?.state == .confirmed)
        #expect(try reads.backorders(limit: 10).map(\.order) == ["BO-2"])
        // The order taken, BO-2 still lacks its 50.
        #expect(try await harness.orchestrator.releaseBackorders() == 0)

        try await harness.submit(BusinessEvent(name: "order.cancel_requested", order: "BO-2", source: "test"))
        #expect(try harness.order("BO-2").state == OrderStates.cancelled)
        #expect(try reads.backorders(limit: 10).isEmpty)
        #expect(try harness.service.verify().isConsistent)
    }

    /// `on_shortage: ship_available`: what is on hand ships now, the rest
    /// waits in the queue and goes as the next shipment group once stock
    /// arrives and the group out has shipped (each group its own reservation),
    /// until the order is shipped whole; the rest of an order can be cancelled.
    @Test func shipAvailableShipsWhatIsOnHandAndTheRestAsStockArrives() async throws {
        let harness = try await Self.harness(onShortage: "ship_available")
        let reads = JourneyReads(backend: harness.service)
        func shipOut(_ order: String) async throws {
            _ = try await harness.deliverAll()
            for fulfillmentOrder in try harness.order(order).fulfillmentOrders where fulfillmentOrder.state == FulfillmentOrderStates.sent {
                try await harness.submit(BusinessEvent(
                    name: "fulfillment_order.shipped", order: order, fields: ["fulfillment_order": fulfillmentOrder.id], source: "wms"))
            }
        }
        let available = try harness.service.availableToPromise(AvailabilityQuery(sku: "CAP-RED")).available
        try await harness.submit(Harness.intake("SA-1", [("CAP-RED", available + 4), ("TEE-BLK-M", 1)]))
        var order = try harness.order("SA-1")
        #expect(order.state == OrderStates.released && order.failure == nil && order.fill == 1, "\(order)")
        #expect(order.lines.map(\.state) == [LineStates.backordered, LineStates.released])
        #expect(order.lines.map(\.unreserved) == [4, 0])
        #expect(try harness.service.reservation(order: "SA-1")?.state == .confirmed)
        let capsOut: Int64 = order.fulfillmentOrders.flatMap(\.lines).filter { $0.sku == "CAP-RED" }.map(\.quantity).reduce(0, +)
        #expect(capsOut == available)
        try await harness.idle()
        let timeline = try harness.orchestrator.timeline("SA-1")
        #expect(timeline.contains { $0.text.hasPrefix("order.partially_backordered from step:source") })
        #expect(timeline.filter { $0.text.hasPrefix("order_line.backordered from step:source") && $0.text.contains("quantity=4") }.count == 1)
        let queue = try reads.backorders(limit: 10)
        #expect(queue.map(\.order) == ["SA-1"] && queue[0].onShortage == .shipAvailable && queue[0].shortages == ["CAP-RED": 4])

        // Stock arrives while the first group is out: the next waits for it to ship.
        _ = try await harness.service.adjust(.init(node: "DC-EAST", sku: "CAP-RED", change: .delta(2)))
        #expect(try await harness.orchestrator.releaseBackorders() == 0)
        try await shipOut("SA-1")
        order = try harness.order("SA-1")
        #expect(order.state == OrderStates.partiallyShipped, "\(order)")
        #expect(order.lines.map(\.state) == [LineStates.backordered, LineStates.shipped])
        #expect(try harness.service.reservation(order: "SA-1")?.state == .shipped)

        // The second group: the 2 units that arrived, under a reservation of its own.
        #expect(try await harness.orchestrator.releaseBackorders() == 1)
        try await harness.idle()
        order = try harness.order("SA-1")
        #expect(order.state == OrderStates.released && order.fill == 2 && order.lines[0].unreserved == 2, "\(order)")
        let second = try #require(try harness.service.reservation(order: "SA-1/fill-2"))
        #expect(second.state == .confirmed && second.lines.map(\.quantity) == [2])
        #expect(order.fulfillmentOrders.filter { $0.state == FulfillmentOrderStates.created }.flatMap(\.lines).map(\.quantity) == [2])
        #expect(try reads.backorders(limit: 10).first?.shortages == ["CAP-RED": 2])
        try await shipOut("SA-1")
        #expect(try harness.order("SA-1").state == OrderStates.partiallyShipped)

        // The last group ships the order whole.
        _ = try await harness.service.adjust(.init(node: "DC-EAST", sku: "CAP-RED", change: .delta(5)))
        #expect(try await harness.orchestrator.releaseBackorders() == 1)
        try await harness.idle()
        try await shipOut("SA-1")
        order = try harness.order("SA-1")
        #expect(order.state == OrderStates.shipped && order.fill == 3 && order.lines.allSatisfy { $0.state == LineStates.shipped }, "\(order)")
        #expect(try harness.service.reservation(order: "SA-1/fill-3")?.state == .shipped)
        #expect(try reads.backorders(limit: 10).isEmpty)

        // An order whose first group shipped and whose rest waits: the rest is cancelled, what shipped stays shipped.
        let left = try harness.service.availableToPromise(AvailabilityQuery(sku: "CAP-RED")).available
        try await harness.submit(Harness.intake("SA-2", [("CAP-RED", left + 3)]))
        try await shipOut("SA-2")
        #expect(try harness.order("SA-2").state == OrderStates.partiallyShipped)
        try await harness.submit(BusinessEvent(name: "order.cancel_requested", order: "SA-2", source: "storefront"))
        order = try harness.order("SA-2")
        #expect(order.state == OrderStates.cancelled && order.lines.map(\.state) == [LineStates.cancelled], "\(order)")
        #expect(order.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.shipped })
        #expect(try reads.backorders(limit: 10).isEmpty)
        #expect(try harness.service.verify().isConsistent)
    }

    /// A preorder: an order for a SKU not yet in stock is promised units of
    /// a purchase order and waits `preordered`; when the receipt lands it goes
    /// on its journey with the units it was promised. One the receipt cannot
    /// cover waits as a backorder.
    @Test func aPreorderIsFilledByItsReceipt() async throws {
        let harness = try await Self.harness(onShortage: "preorder")
        let due = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000)
        _ = try await harness.service.execute(
            .schedule(ScheduleRequest(ScheduledReceipt(receipt: "PO-NL", node: "DC-EAST", sku: "NEW-LAUNCH", quantity: 10, due: due))))

        try await harness.submit(Harness.intake("PRE-1", [("NEW-LAUNCH", 4)]))
        let waiting = try harness.order("PRE-1")
        #expect(waiting.state == OrderStates.preordered && waiting.lines.map(\.state) == [LineStates.preordered], "\(waiting)")
        let promised = try #require(try harness.service.reservation(order: "PRE-1"))
        #expect(promised.lines == [ReservationLine(node: "DC-EAST", sku: "NEW-LAUNCH", quantity: 4, receipt: "PO-NL")])
        #expect(try harness.service.receipt("PO-NL")?.promises == ["PRE-1": 4])
        let reads = JourneyReads(backend: harness.service)
        #expect(try reads.backorders(limit: 10).map(\.order) == ["PRE-1"])
        #expect(try await harness.orchestrator.releaseBackorders() == 0, "the receipt has not arrived")
        // The purchase order runs two days late: the preorder hears of it.
        let late = due.adding(seconds: 2 * 86_400)
        let moved = try await harness.service.execute(.reschedule(RescheduleRequest(receipt: "PO-NL", due: late)))
        #expect(moved == .receipt(ScheduledReceipt(receipt: "PO-NL", node: "DC-EAST", sku: "NEW-LAUNCH", quantity: 10, due: late, promises: ["PRE-1": 4])))
        #expect(try await harness.orchestrator.releaseBackorders() == 0)
        try await harness.idle()
        let heard = try harness.orchestrator.timeline("PRE-1").filter { $0.text.hasPrefix("order.preorder_rescheduled from") }
        #expect(heard.count == 1 && heard[0].text.contains("due_ms=\(late.millisecondsSinceEpoch)"), "\(heard.map(\.text))")
        #expect(try await harness.orchestrator.releaseBackorders() == 0)
        try await harness.idle()
        #expect(try harness.orchestrator.timeline("PRE-1").filter { $0.text.hasPrefix("order.preorder_rescheduled from") }.count == 1, "told once")

        try await harness.submit(Harness.intake("PRE-2", [("NEW-LAUNCH", 20)]))
        #expect(try harness.order("PRE-2").state == OrderStates.backordered, "6 units left to promise, 20 wanted")

        _ = try await harness.service.execute(.receive(ReceiveRequest(receipt: "PO-NL")))
        #expect(try harness.service.reservation(order: "PRE-1")?.lines.first?.receipt == "")
        #expect(try await harness.orchestrator.releaseBackorders() == 1)
        try await harness.idle()
        let filled = try harness.order("PRE-1")
        #expect(filled.state == OrderStates.released && filled.lines.allSatisfy { $0.state == LineStates.released }, "\(filled)")
        #expect(filled.fulfillmentOrders.map(\.node) == ["DC-EAST"])
        #expect(try harness.service.reservation(order: "PRE-1")?.state == .confirmed)
        #expect(try harness.orchestrator.timeline("PRE-1").contains { $0.text == "preorder filled: its receipts arrived" })
        #expect(try reads.backorders(limit: 10).map(\.order) == ["PRE-2"])
        #expect(try harness.service.verify().isConsistent)
    }

    /// A channel's allocation protects its stock: another channel's order
    /// cannot take it, the channel's own order is sourced from it, and once
    /// the allocation is removed the stock is open to every channel again.
    @Test func aChannelAllocationProtectsStockFromAnotherChannel() async throws {
        let harness = try await Harness.make()
        let sku = "HOODIE-GRY-M"
        let open = try harness.service.availableToPromise(.init(sku: sku)).available
        #expect(open > 2)
        // All of the on hand at every node set aside for the marketplace.
        _ = try await harness.service.execute(
            .allocate(Allocation(sku: sku, node: Allocation.everyNode, channel: "marketplace", amount: .shareBasisPoints(10_000))))
        #expect(try harness.service.availableToPromise(.init(sku: sku, channel: "web")).available == 0)
        #expect(try harness.service.availableToPromise(.init(sku: sku, channel: "marketplace")).available == open)

        try await harness.submit(Harness.intake("WEB-1", [(sku, 2)], channel: "web"))
        #expect(try harness.order("WEB-1").failure?.code == "insufficient_stock")
        #expect(try harness.service.reservation(order: "WEB-1") == nil)

        try await harness.submit(Harness.intake("MKT-1", [(sku, 2)], channel: "marketplace"))
        let sourced = try harness.order("MKT-1")
        #expect(sourced.state == OrderStates.released && sourced.channel == "marketplace", "\(sourced)")
        #expect(try harness.service.reservation(order: "MKT-1")?.channel == "marketplace")
        #expect(try harness.service.availableToPromise(.init(sku: sku, channel: "marketplace")).available == open - 2)

        _ = try await harness.service.execute(
            .allocate(Allocation(sku: sku, node: Allocation.everyNode, channel: "marketplace", amount: .shareBasisPoints(0))))
        _ = try await harness.orchestrator.reprocess(order: "WEB-1", source: "test")
        try await harness.idle()
        let web = try harness.order("WEB-1")
        #expect(web.state == OrderStates.released, "\(web)")
        #expect(try harness.service.availableToPromise(.init(sku: sku, channel: "web")).available == open - 4)
        #expect(try harness.service.verify().isConsistent)
    }

    /// A profile may backorder where the step does not say; a step's own choice wins over its profile's.
    @Test func aProfileBackordersUnlessItsStepSaysOtherwise() async throws {
        let profiles = FulfillmentProfiles([FulfillmentProfile(name: "standard", onShortage: .backorder)], source: nil)
        var options = Orchestrator.Options()
        options.backorderSweepIntervalMilliseconds = nil
        let harness = try await Harness.make(profiles: profiles, options: options)
        try await harness.submit(Harness.intake("BP-1", [("CAP-RED", 1_000_000)]))
        #expect(try harness.order("BP-1").state == OrderStates.backordered)
        let failing = JourneyBook.standardYAML.replacingOccurrences(
            of: "        profile: standard\n", with: "        profile: standard\n        on_shortage: fail\n")
        let strict = try await Harness.make(journeys: failing, profiles: profiles, options: options)
        try await strict.submit(Harness.intake("BP-2", [("CAP-RED", 1_000_000)]))
        #expect(try strict.order("BP-2").failure?.code == "insufficient_stock")
    }

    /// A step that fails applies nothing, and its timeline shows no transition it did not make.
    @Test func aFailedStepRecordsNoTransition() async throws {
        let harness = try await Harness.make()
        try await harness.submit(Harness.intake("ORD-BIG", [("CAP-RED", 1_000_000)]))
        let order = try harness.order("ORD-BIG")
        #expect(order.state == OrderStates.created && order.failure?.code == "insufficient_stock")
        let timeline = try harness.orchestrator.timeline("ORD-BIG")
        #expect(timeline.contains { $0.kind == .error })
        #expect(!timeline.contains { $0.kind == .transition && $0.text.contains("reserved") }, "\(timeline.map(\.text))")
    }

    @Test func cancellingAReservedOrderReleasesItsStock() async throws {
        let harness = try await Harness.make()
        let before = try harness.service.availableToPromise(.init(sku: "HOODIE-GRY-M")).available
        try await harness.submit(Harness.intake("ORD-4", [("HOODIE-GRY-M", 3)]))
        #expect(try harness.service.availableToPromise(.init(sku: "HOODIE-GRY-M")).available == before - 3)
        try await harness.submit(BusinessEvent(name: "order.cancel_requested", order: "ORD-4", source: "storefront"))
        let order = try harness.order("ORD-4")
        #expect(order.state == OrderStates.cancelled)
        #expect(order.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.cancelled })
        #expect(try harness.service.reservation(order: "ORD-4")?.state == .released)
        #expect(try harness.service.availableToPromise(.init(sku: "HOODIE-GRY-M")).available == before)
    }

    @Test func eventsAreAcceptedOnceAndCheckedAtTheDoor() async throws {
        let harness = try await Harness.make()
        let first = try await harness.submit(Harness.intake("ORD-5", [("CAP-RED", 1)]), key: "webhook-1")
        let again = try await harness.submit(Harness.intake("ORD-5", [("CAP-RED", 1)]), key: "webhook-1")
        #expect(!first.duplicate && again.duplicate && again.sequence == first.sequence)
        await #expect(throws: FulcrumError(.duplicateID, "order ORD-5 already exists", path: "order.id")) {
            try await harness.orchestrator.submit(Harness.intake("ORD-5", [("CAP-RED", 1)]), idempotencyKey: "webhook-2")
        }
        await #expect(throws: FulcrumError(.notFound, "no order ORD-404", path: "order")) {
            try await harness.orchestrator.submit(BusinessEvent(name: "order.cancel_requested", order: "ORD-404", source: "t"))
        }
        await #expect(throws: FulcrumError.self) {
            try await harness.orchestrator.submit(BusinessEvent(name: "Order Created!", order: "ORD-5", source: "t"))
        }
        await #expect(throws: FulcrumError(.invalidArgument, "provider.acknowledged is raised by fulcrumd itself", path: "event")) {
            try await harness.orchestrator.submit(BusinessEvent(name: "provider.acknowledged", order: "ORD-5", source: "t"))
        }
        await #expect(throws: FulcrumError(.invalidArgument, "quantity 0 is outside 1...1000000000000", path: "order.lines[0].quantity")) {
            try await harness.orchestrator.submit(Harness.intake("ORD-6", [("CAP-RED", 0)]))
        }
        #expect(try harness.orchestrator.load("ORD-6") == nil)
        // An unknown SKU is accepted, then fails sourcing with the reason recorded.
        try await harness.submit(Harness.intake("ORD-7", [("NO-SUCH-SKU", 1)]))
        #expect(try harness.order("ORD-7").failure?.code == "insufficient_stock")
        #expect(try harness.service.reservation(order: "ORD-7") == nil)
        // An event no step listens to is noted on the timeline.
        try await harness.submit(BusinessEvent(name: "order.note_added", order: "ORD-5", source: "t"))
        #expect(try harness.orchestrator.timeline("ORD-5").contains { $0.text == "no step listens to order.note_added" })
    }
}

@Suite struct NotificationTests {
    static let journeys = """
        version: 1
        journeys:
          - id: fulfillment
            steps:
              - {id: source, on: [order.created], action: optimize_and_reserve}
              - {id: release, on: [order.reserved], action: create_fulfillment_orders}
              - {id: send, on: [order.released], action: send_to_provider, provider: warehouse, resume_on_error: send}
              - {id: ship, on: [fulfillment_order.shipped], action: confirm_shipment}
              - id: tell-storefront
                on: [order.shipment_recorded, order.cancelled]
                filter: "state in ['shipped', 'cancelled']"
                action: send_to_provider
                provider: storefront
                message: order
              - {id: cancel, on: [order.cancel_requested], action: cancel_and_release}
        """

    @Test func storefrontsHearOfShipmentsAndCancellations() async throws {
        let harness = try await Harness.make(journeys: Self.journeys)
        try await harness.submit(Harness.intake("N-1", [("CAP-RED", 1)]))
        _ = try await harness.deliverAll("warehouse")
        let fulfillmentOrder = try harness.order("N-1").fulfillmentOrders[0].id
        try await harness.submit(BusinessEvent(name: "fulfillment_order.shipped", order: "N-1", fields: ["fulfillment_order": fulfillmentOrder, "tracking": "T1"], source: "wms"))
        try await harness.submit(Harness.intake("N-2", [("CAP-RED", 1)]))
        try await harness.submit(BusinessEvent(name: "order.cancel_requested", order: "N-2", source: "storefront"))
        let messages = try await harness.deliverAll("storefront")
        #expect(messages.map(\.topic) == ["order.shipped", "order.cancelled"])
        #expect(messages[0].body.contains(#""tracking":"T1""#))
        #expect(try harness.order("N-1").waiting.isEmpty)
        #expect(try harness.order("N-2").waiting.map(\.step) == ["send"], "the warehouse's message for N-2 is not delivered")
        #expect(try harness.order("N-2").state == OrderStates.cancelled)
        // The warehouse still gets N-2's fulfillment order; the journey does not wait on a cancelled order's.
        #expect(try harness.orchestrator.timeline("N-2").contains { $0.text.contains("order.cancelled queued for storefront") })
    }
}
