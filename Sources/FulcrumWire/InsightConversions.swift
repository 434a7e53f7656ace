import FulcrumCore

extension Fulcrum_V1_InsightTotals {
    public init(_ totals: InsightTotals) {
        self.init()
        counts = Dictionary(uniqueKeysWithValues: totals.counts.map { ($0.key.name, $0.value) })
    }

    /// Counters a newer server added are dropped (this client has no name for them).
    public var domain: InsightTotals {
        var totals = InsightTotals()
        for (name, value) in counts {
            if let metric = InsightMetric(name: name) { totals.add(metric, value) }
        }
        return totals
    }
}

extension Fulcrum_V1_InsightsResponse {
    public init(_ report: InsightsReport) {
        self.init()
        window = report.window.rawValue
        atMs = report.atMs
        fromMs = report.fromMs
        toMs = report.toMs
        bucketMs = report.bucketMilliseconds
        totals = .init(report.totals)
        series = report.series.map { point in .with { $0.startMs = point.startMs; $0.totals = .init(point.totals) } }
        channels = report.channels.map { channel in .with { $0.channel = channel.channel; $0.totals = .init(channel.totals) } }
        nodes = report.nodes.map { node in
            .with {
                $0.node = node.node
                $0.kind = node.kind
                $0.latitude = node.latitude
                $0.longitude = node.longitude
                $0.enabled = node.enabled
                $0.shipments = node.shipments
                $0.unitsReserved = node.unitsReserved
                $0.releasedToday = node.releasedToday
                if let capacity = node.capacityPerDay { $0.capacityPerDay = capacity }
                $0.unitsAvailable = node.unitsAvailable
            }
        }
        stuckOrders = report.stuckOrders.map { order in
            .with {
                $0.order = order.order
                $0.state = order.state
                if let channel = order.channel { $0.channel = channel }
                $0.sinceMs = order.sinceMs
                if let step = order.failedStep { $0.failedStep = step }
            }
        }
        stuckOrdersCount = UInt32(clamping: report.stuckOrdersCount)
        stuckAfterS = report.stuckAfterSeconds
        ordersScanned = UInt32(clamping: report.ordersScanned)
        backordersWaiting = UInt32(clamping: report.backordersWaiting)
        deadLetters = UInt32(clamping: report.deadLetters)
        eventsQueued = UInt32(clamping: report.eventsQueued)
    }

    /// The report, or nil when the window is not one this client knows.
    public var domain: InsightsReport? {
        guard let window = InsightWindow(rawValue: window) else { return nil }
        return InsightsReport(
            window: window, atMs: atMs, fromMs: fromMs, toMs: toMs, bucketMilliseconds: bucketMs, totals: totals.domain,
            series: series.map { InsightBucket(startMs: $0.startMs, totals: $0.totals.domain) },
            channels: channels.map { ChannelInsight(channel: $0.channel, totals: $0.totals.domain) },
            nodes: nodes.map {
                NodeInsight(
                    node: $0.node, kind: $0.kind, latitude: $0.latitude, longitude: $0.longitude, enabled: $0.enabled,
                    shipments: $0.shipments, unitsReserved: $0.unitsReserved, releasedToday: $0.releasedToday,
                    capacityPerDay: $0.hasCapacityPerDay ? $0.capacityPerDay : nil, unitsAvailable: $0.unitsAvailable)
            },
            stuckOrders: stuckOrders.map {
                StuckOrder(
                    order: $0.order, state: $0.state, channel: $0.hasChannel ? $0.channel : nil, sinceMs: $0.sinceMs,
                    failedStep: $0.hasFailedStep ? $0.failedStep : nil)
            },
            stuckOrdersCount: Int(stuckOrdersCount), stuckAfterSeconds: stuckAfterS, ordersScanned: Int(ordersScanned),
            backordersWaiting: Int(backordersWaiting), deadLetters: Int(deadLetters), eventsQueued: Int(eventsQueued))
    }
}
