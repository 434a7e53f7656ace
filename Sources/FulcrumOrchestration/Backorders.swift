import FulcrumCore
import FulcrumLedger

extension RecordKeys {
    static let backorder: UInt8 = 0x62  // "b" + order id → Backorder
    static func backorder(_ order: String) -> [UInt8] { [backorder] + Names.keyBytes(order) }
}

/// What a step does to the backorder queue, written with its outcome.
enum BackorderChange {
    case queue(Backorder)
    case remove(order: String)
}

extension JourneyReads {
    /// Orders waiting for stock in queue order: first come first served
    /// within priority (of the first `limit` in order-id order).
    public func backorders(limit: Int) throws(FulcrumError) -> [Backorder] {
        try backend.records(prefix: [RecordKeys.backorder], limit: limit).map { _, value throws(FulcrumError) in
            try RecordCoding.decodeBinary(Backorder.self, value, what: "backorder")
        }.sorted { ($1.priority, $0.sinceMs, $0.order) < ($0.priority, $1.sinceMs, $1.order) }
    }
}

extension Orchestrator {
    /// Sources again every backordered order whose short SKUs now have the
    /// units it lacks (counting every node) and more than when it was last
    /// tried: raises `order.stock_arrived` for its step, in queue order, at
    /// most `Limits.backordersReleasedMax` a pass. Returns how many.
    @discardableResult
    public func releaseBackorders() async throws(FulcrumError) -> Int {
        var released = 0
        for backorder in try reads.backorders(limit: Limits.backordersScannedMax) where released < Limits.backordersReleasedMax {
            // A step the journeys no longer have cannot source it: it waits until the step is back, or is cancelled.
            guard book.step(backorder.step) != nil else { continue }
            guard let (order, stored) = try loadStored(backorder.order) else { continue }
            if order.state == OrderStates.preordered {
                // Every receipt it was promised arrived (or its reservation ended and it is sourced again).
                if let reservation = try backend.reservation(order: order.id), !reservation.state.isTerminal,
                    reservation.lines.contains(where: { !$0.receipt.isEmpty })
                {
                    try await tellOfRescheduledReceipts(backorder, order: stored)
                    continue
                }
            } else if backorder.onShortage == .shipAvailable {
                // The next shipment group waits for the one out to ship (one reservation open at a time),
                // then goes as soon as any short SKU gained units.
                guard order.state == OrderStates.backordered || order.state == OrderStates.partiallyShipped,
                    order.fulfillmentOrders.allSatisfy({ [FulfillmentOrderStates.shipped, FulfillmentOrderStates.cancelled].contains($0.state) })
                else { continue }
                var gained = false
                for sku in backorder.shortages.keys where try backend.available(sku: sku) > max(0, backorder.availableWhenTried[sku] ?? 0) {
                    gained = true
                }
                guard gained else { continue }
            } else {
                // Enough new units of every short SKU, across the network (the solve then places them).
                var enough = true
                for (sku, short) in backorder.shortages
                where try backend.available(sku: sku) - (backorder.availableWhenTried[sku] ?? 0) < short {
                    enough = false
                }
                guard enough else { continue }
            }
            var batch = RecordBatch()
            batch.expect(RecordKeys.order(backorder.order), equals: stored)
            let event = BusinessEvent(
                name: BusinessEvent.stockArrived, order: backorder.order, fields: ["step": backorder.step], source: "backorders",
                atMs: options.clock.now().millisecondsSinceEpoch)
            let raised = raise([event], into: &batch)
            do {
                try await backend.write(batch)
            } catch FulcrumError.Code.recordConflict {
                continue  // the order moved meanwhile (cancelled, or already being sourced)
            }
            for queued in raised { enqueue(queued) }
            released += 1
        }
        return released
    }

    /// Raises `order.preorder_rescheduled` (fields `receipt`, `due_ms`,
    /// `previous_due_ms`) for each of a preorder's receipts whose due date
    /// moved since the order last heard, so its timeline and journey know.
    private func tellOfRescheduledReceipts(_ backorder: Backorder, order stored: [UInt8]) async throws(FulcrumError) {
        var updated = backorder
        var events: [BusinessEvent] = []
        for (receipt, dueMs) in backorder.receipts.sorted(by: { $0.key < $1.key }) {
            guard let current = try backend.receipt(receipt)?.due.millisecondsSinceEpoch, current != dueMs else { continue }
            updated.receipts[receipt] = current
            events.append(
                BusinessEvent(
                    name: BusinessEvent.preorderRescheduled, order: backorder.order,
                    fields: ["receipt": receipt, "due_ms": "\(current)", "previous_due_ms": "\(dueMs)"], source: "backorders",
                    atMs: options.clock.now().millisecondsSinceEpoch))
        }
        guard !events.isEmpty else { return }
        var batch = RecordBatch()
        batch.expect(RecordKeys.order(backorder.order), equals: stored)
        batch.put(RecordKeys.backorder(backorder.order), RecordCoding.encode(updated))
        let raised = raise(events, into: &batch)
        do {
            try await backend.write(batch)
        } catch FulcrumError.Code.recordConflict {
            return  // the order moved meanwhile: the next pass looks again
        }
        for queued in raised { enqueue(queued) }
    }

    /// Runs `releaseBackorders` every `intervalMilliseconds` while the orchestrator lives.
    func sweepBackorders(intervalMilliseconds: Int) {
        Task { [weak self] in
            while true {
                try? await Task.sleep(for: .milliseconds(intervalMilliseconds))
                guard let self else { return }
                _ = try? await self.releaseBackorders()
            }
        }
    }
}
