import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration

/// Live business KPIs: counters the journeys add per minute in the
/// transactions that change orders (so each change counts once), summed
/// per hour and per day by a roll-up that also drops what is past its
/// retention; read over a window with what needs attention now.
extension Service {
    /// KPIs over `window` ending now: totals, a series, by channel and by
    /// node, stuck orders (unchanged `stuckAfterSeconds` and not waiting for
    /// stock, or failed), dead letters and the backorder queue.
    public func insights(window: InsightWindow, stuckAfterSeconds: Int64 = Limits.insightStuckAfterSecondsDefault)
        throws(FulcrumError) -> InsightsReport
    {
        guard stuckAfterSeconds >= 1, stuckAfterSeconds <= Limits.reservationTTLSecondsMax else {
            throw FulcrumError(
                .invalidArgument, "stuck_after_s is 1 to \(Limits.reservationTTLSecondsMax)", path: "stuck_after_s")
        }
        let nowMs = options.clock.now().millisecondsSinceEpoch
        let level = window.level
        let last = level.bucket(nowMs)
        let first = last - Int64(window.buckets) + 1
        let sums = try insightSums(level, from: first, to: last + 1)
        var totals = InsightTotals()
        var channels: [String: InsightTotals] = [:]
        var byNode: [String: InsightTotals] = [:]
        var series: [InsightBucket] = []
        for bucket in first...last {
            var point = InsightTotals()
            for (dimension, counts) in sums[bucket] ?? [:] {
                switch dimension {
                case .all:
                    point.add(counts)
                    totals.add(counts)
                case .channel(let channel): channels[channel, default: InsightTotals()].add(counts)
                case .node(let node): byNode[node, default: InsightTotals()].add(counts)
                case .sku, .provider: break  // the anomaly streams' (`anomalies`)
                }
            }
            series.append(InsightBucket(startMs: bucket * level.milliseconds, totals: point))
        }
        let reads = JourneyReads(backend: self)
        let stuck = try stuckOrders(reads, nowMs: nowMs, stuckAfterSeconds: stuckAfterSeconds)
        return InsightsReport(
            window: window, atMs: nowMs, fromMs: first * level.milliseconds, toMs: (last + 1) * level.milliseconds,
            bucketMilliseconds: level.milliseconds, totals: totals, series: series,
            channels: channels.sorted { $0.key < $1.key }.map { ChannelInsight(channel: $0.key, totals: $0.value) },
            nodes: try nodeInsights(byNode), stuckOrders: Array(stuck.listed.prefix(InsightsReport.stuckOrdersListedMax)),
            stuckOrdersCount: stuck.listed.count, stuckAfterSeconds: stuckAfterSeconds, ordersScanned: stuck.scanned,
            backordersWaiting: try reads.backorderCount(max: Limits.insightOrdersScannedMax),
            deadLetters: try reads.deadLetterCount(max: Limits.insightOrdersScannedMax), eventsQueued: eventsQueued)
    }

    /// Counters of `level`'s buckets in [from, to), by bucket and dimension:
    /// the stored ones up to the level's watermark, the rest summed from the finer level.
    func insightSums(_ level: InsightLevel, from: Int64, to: Int64) throws(FulcrumError)
        -> [Int64: [InsightDimension: InsightTotals]]
    {
        guard from < to else { return [:] }
        guard let finer = level.finer else { return try storedInsights(level, from: from, to: to) }
        let rolledTo = min(to, try insightWatermark(level) ?? from)
        var sums = try storedInsights(level, from: from, to: rolledTo)
        let ratio = level.milliseconds / finer.milliseconds
        let rest = max(from, rolledTo)
        for (bucket, dimensions) in try insightSums(finer, from: rest * ratio, to: to * ratio) {
            for (dimension, counts) in dimensions {
                sums[bucket / ratio, default: [:]][dimension, default: InsightTotals()].add(counts)
            }
        }
        return sums
    }

    /// The counters stored for `level` in [from, to).
    private func storedInsights(_ level: InsightLevel, from: Int64, to: Int64) throws(FulcrumError)
        -> [Int64: [InsightDimension: InsightTotals]]
    {
        var sums: [Int64: [InsightDimension: InsightTotals]] = [:]
        guard from < to else { return sums }
        // Just below the first key of bucket `from` (dimension bytes sort below 0xFF).
        var after: [UInt8]? = InsightKeys.bucketPrefix(level, from - 1) + [0xFF]
        scanning: while let start = after {
            let page = try records(prefix: InsightKeys.levelPrefix(level), after: start, limit: Limits.pageItemsMax, reverse: false)
            for (key, value) in page {
                guard let counter = InsightKeys.parse(key) else { continue }
                guard counter.bucket < to else { break scanning }
                sums[counter.bucket, default: [:]][counter.dimension, default: InsightTotals()]
                    .add(counter.metric, RecordBatch.counterValue(value) ?? 0)
            }
            after = page.count == Limits.pageItemsMax ? page.last?.key : nil
        }
        return sums
    }

    private func insightWatermark(_ level: InsightLevel) throws(FulcrumError) -> Int64? {
        try record(InsightKeys.watermark(level)).flatMap(RecordBatch.counterValue)
    }

    /// Sums every finished hour into hour counters and every finished day
    /// into day counters (at most `insightBucketsRolledPerPassMax` of each),
    /// then drops finer counters already summed and past their retention.
    /// Each bucket is one batch guarded on the watermark, so two passes at
    /// once (a new leader and an old one) cannot count a bucket twice.
    public func rollUpInsights() async throws(FulcrumError) {
        let nowMs = options.clock.now().millisecondsSinceEpoch
        for level in [InsightLevel.hour, .day] {
            let finer = level.finer!
            let ratio = level.milliseconds / finer.milliseconds
            let current = level.bucket(nowMs)
            let stored = try insightWatermark(level)
            var watermark: Int64
            if let stored {
                watermark = stored
            } else {
                // Nothing rolled yet: start at the oldest finer counter's bucket.
                let oldest = try records(prefix: InsightKeys.levelPrefix(finer), after: nil, limit: 1, reverse: false).first
                watermark = oldest.flatMap { InsightKeys.parse($0.key) }.map { $0.bucket / ratio } ?? current
            }
            var rolled = 0
            var expected = stored
            while watermark < current, rolled < Limits.insightBucketsRolledPerPassMax {
                var batch = RecordBatch()
                if let expected {
                    batch.expect(InsightKeys.watermark(level), equals: RecordBatch.counter(expected))
                } else {
                    batch.expectAbsent(InsightKeys.watermark(level))
                }
                for (_, dimensions) in try insightSums(finer, from: watermark * ratio, to: (watermark + 1) * ratio) {
                    for (dimension, counts) in dimensions {
                        for (metric, amount) in counts.counts where amount != 0 {
                            batch.add(InsightKeys.counter(level, watermark, dimension, metric), amount)
                        }
                    }
                }
                batch.put(InsightKeys.watermark(level), RecordBatch.counter(watermark + 1))
                do {
                    try await write(batch)
                } catch FulcrumError.Code.recordConflict {
                    break  // another pass summed this bucket; deleting below what this one saw is still safe
                }
                watermark += 1
                expected = watermark
                rolled += 1
            }
            let kept = finer == .minute ? Limits.insightMinutesKeptMilliseconds : Limits.insightHoursKeptMilliseconds
            try await deleteInsights(finer, before: min(watermark * ratio, finer.bucket(nowMs - kept)))
        }
        try await deleteInsights(.day, before: InsightLevel.day.bucket(nowMs - Limits.insightDaysKeptMilliseconds))
    }

    /// Deletes `level`'s counters of buckets before `bucket` (a bounded number a pass).
    private func deleteInsights(_ level: InsightLevel, before bucket: Int64) async throws(FulcrumError) {
        let page = try records(
            prefix: InsightKeys.levelPrefix(level), after: nil, limit: Limits.insightRecordsDeletedPerPassMax, reverse: false)
        var batch = RecordBatch()
        for (key, _) in page {
            guard let counter = InsightKeys.parse(key), counter.bucket < bucket else { break }
            batch.delete(key)
        }
        if !batch.writes.isEmpty { try await write(batch) }
    }

    /// Orders not moving: failed, or in a state other than a final one or
    /// waiting for stock for `stuckAfterSeconds`; oldest first.
    func stuckOrders(_ reads: JourneyReads, nowMs: Int64, stuckAfterSeconds: Int64) throws(FulcrumError)
        -> (listed: [StuckOrder], scanned: Int)
    {
        let settled: Set<String> = [
            OrderStates.shipped, OrderStates.cancelled, OrderStates.pickedUp, OrderStates.backordered, OrderStates.preordered,
        ]
        var stuck: [StuckOrder] = []
        var scanned = 0
        var after: String?
        while scanned < Limits.insightOrdersScannedMax {
            let page = try reads.orders(after: after, limit: min(Limits.pageItemsMax, Limits.insightOrdersScannedMax - scanned))
            for order in page {
                let idle = nowMs - order.updatedMs >= stuckAfterSeconds * 1000
                guard order.failure != nil || (idle && !settled.contains(order.state)) else { continue }
                stuck.append(
                    StuckOrder(
                        order: order.id, state: order.state, channel: order.channel, sinceMs: order.updatedMs,
                        failedStep: order.failure?.step))
            }
            scanned += page.count
            guard page.count == Limits.pageItemsMax, let last = page.last else { break }
            after = last.id
        }
        return (stuck.sorted { ($0.sinceMs, $0.order) < ($1.sinceMs, $1.order) }, scanned)
    }

    /// Every network node with its reservations in the window, its load today and its stock.
    private func nodeInsights(_ byNode: [String: InsightTotals]) throws(FulcrumError) -> [NodeInsight] {
        let statuses = try nodeStatuses()
        var available: [String: Int64] = [:]
        for (key, position) in try positions(node: nil, skuContaining: nil, limit: Limits.insightPositionsScannedMax) {
            available[key.node, default: 0] += position.available
        }
        return statuses.map { status in
            let counts = byNode[status.node.id] ?? InsightTotals()
            return NodeInsight(
                node: status.node.id, kind: status.node.kind.rawValue, latitude: status.node.location.latitude,
                longitude: status.node.location.longitude, enabled: status.settings.enabled, shipments: counts[.shipments],
                unitsReserved: counts[.unitsReserved], releasedToday: status.releasedQuantity,
                capacityPerDay: status.settings.capacityPerDay, unitsAvailable: available[status.node.id] ?? 0)
        }
    }
}

extension Service {
    /// Waits until every live solve made so far is priced against
    /// nearest-first and written (they are otherwise written once a second).
    public func settleInsights() async { await baselines.flush() }
}
