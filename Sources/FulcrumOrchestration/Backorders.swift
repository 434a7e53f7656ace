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
                    continue
                }
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
