/// The span a report covers, ending now, and the buckets its series has.
public enum InsightWindow: String, CaseIterable, Sendable {
    /// The last 60 minutes, a point a minute.
    case hour
    /// The last 24 hours, a point an hour.
    case day
    /// The last 7 days, a point an hour.
    case week
    /// The last 30 days, a point a day.
    case month

    public var level: InsightLevel {
        switch self {
        case .hour: .minute
        case .day, .week: .hour
        case .month: .day
        }
    }

    public var buckets: Int {
        switch self {
        case .hour: 60
        case .day: 24
        case .week: 168
        case .month: 30
        }
    }
}

/// Counters summed over a span, and the ratios an operations lead reads.
public struct InsightTotals: Sendable, Hashable {
    public var counts: [InsightMetric: Int64] = [:]

    public init(counts: [InsightMetric: Int64] = [:]) { self.counts = counts }

    public subscript(_ metric: InsightMetric) -> Int64 { counts[metric] ?? 0 }

    public mutating func add(_ metric: InsightMetric, _ amount: Int64) { counts[metric, default: 0] += amount }

    public mutating func add(_ other: InsightTotals) {
        for (metric, amount) in other.counts { add(metric, amount) }
    }

    private func ratio(_ numerator: InsightMetric, _ denominator: InsightMetric, scale: Double = 1) -> Double? {
        self[denominator] == 0 ? nil : Double(self[numerator]) / Double(self[denominator]) / scale
    }

    /// Units reserved from stock at orders' first sourcing ÷ their units.
    public var fillRate: Double? { ratio(.unitsFilled, .unitsSourced) }
    /// Reservations shipping from more than one node ÷ reservations.
    public var splitRate: Double? { ratio(.reservationsSplit, .reservations) }
    public var shipmentsPerReservation: Double? { ratio(.shipments, .reservations) }
    /// The solver's planned shipping cost per reservation it planned.
    public var costPerOrder: Double? { ratio(.costMicros, .reservationsCosted, scale: 1e6) }
    /// What greedy nearest-first would have cost more than the solver, on the orders priced both ways.
    public var savings: Double { Double(self[.nearestFirstCostMicros] - self[.baselineCostMicros]) / 1e6 }
    /// Savings ÷ nearest-first's cost.
    public var savingsRate: Double? {
        self[.nearestFirstCostMicros] == 0 ? nil : savings * 1e6 / Double(self[.nearestFirstCostMicros])
    }
    /// Mean seconds from an order's creation to its first reservation, release and shipment.
    public var createdToReservedSeconds: Double? { ratio(.createdToReservedMilliseconds, .ordersReserved, scale: 1000) }
    public var createdToReleasedSeconds: Double? { ratio(.createdToReleasedMilliseconds, .ordersReleased, scale: 1000) }
    public var createdToShippedSeconds: Double? { ratio(.createdToShippedMilliseconds, .ordersShipped, scale: 1000) }
}

/// One point of a report's series.
public struct InsightBucket: Sendable, Hashable {
    public var startMs: Int64
    public var totals: InsightTotals
    public init(startMs: Int64, totals: InsightTotals) {
        self.startMs = startMs
        self.totals = totals
    }
}

/// One sales channel's totals ("" for orders sold without one).
public struct ChannelInsight: Sendable, Hashable {
    public var channel: String
    public var totals: InsightTotals
    public init(channel: String, totals: InsightTotals) {
        self.channel = channel
        self.totals = totals
    }
}

/// A node's share of the window's reservations, and its load today against its capacity.
public struct NodeInsight: Sendable, Hashable {
    public var node: String
    public var kind: String
    public var latitude: Double
    public var longitude: Double
    public var enabled: Bool
    public var shipments: Int64
    public var unitsReserved: Int64
    /// Units released to it on its local day, and its daily capacity (nil: unlimited).
    public var releasedToday: Int64
    public var capacityPerDay: Int64?
    /// Released today ÷ capacity; nil without a capacity.
    public var utilization: Double? { capacityPerDay.map { $0 == 0 ? 1 : Double(releasedToday) / Double($0) } }
    /// Units available to promise at the node, over every SKU.
    public var unitsAvailable: Int64

    public init(
        node: String, kind: String, latitude: Double, longitude: Double, enabled: Bool, shipments: Int64, unitsReserved: Int64,
        releasedToday: Int64, capacityPerDay: Int64?, unitsAvailable: Int64
    ) {
        self.node = node
        self.kind = kind
        self.latitude = latitude
        self.longitude = longitude
        self.enabled = enabled
        self.shipments = shipments
        self.unitsReserved = unitsReserved
        self.releasedToday = releasedToday
        self.capacityPerDay = capacityPerDay
        self.unitsAvailable = unitsAvailable
    }
}

/// An order that has not moved for longer than the report's threshold, or whose journey failed.
public struct StuckOrder: Sendable, Hashable {
    public var order: String
    public var state: String
    public var channel: String?
    /// Since when it has not changed.
    public var sinceMs: Int64
    /// The step that failed, when it waits for a reprocess.
    public var failedStep: String?
    public init(order: String, state: String, channel: String?, sinceMs: Int64, failedStep: String?) {
        self.order = order
        self.state = state
        self.channel = channel
        self.sinceMs = sinceMs
        self.failedStep = failedStep
    }
}

/// Live business KPIs over a window: totals, a series, per channel and per
/// node, and what needs someone's attention now (stuck orders, dead letters).
public struct InsightsReport: Sendable, Hashable {
    public var window: InsightWindow
    public var atMs: Int64
    public var fromMs: Int64
    public var toMs: Int64
    public var bucketMilliseconds: Int64
    public var totals: InsightTotals
    /// Oldest first, one per bucket (empty buckets included).
    public var series: [InsightBucket]
    /// By sales channel ("" for orders without one), in name order.
    public var channels: [ChannelInsight]
    public var nodes: [NodeInsight]
    /// Orders unchanged for `stuckAfterSeconds` (not waiting for stock) or failed, oldest first, at most `stuckOrdersListedMax`.
    public var stuckOrders: [StuckOrder]
    public var stuckOrdersCount: Int
    public var stuckAfterSeconds: Int64
    /// Orders read to find them; the count is a lower bound when it reached `Limits.insightOrdersScannedMax`.
    public var ordersScanned: Int
    public var backordersWaiting: Int
    public var deadLetters: Int
    public var eventsQueued: Int

    public static let stuckOrdersListedMax = 20

    public init(
        window: InsightWindow, atMs: Int64, fromMs: Int64, toMs: Int64, bucketMilliseconds: Int64, totals: InsightTotals,
        series: [InsightBucket], channels: [ChannelInsight], nodes: [NodeInsight],
        stuckOrders: [StuckOrder], stuckOrdersCount: Int, stuckAfterSeconds: Int64, ordersScanned: Int,
        backordersWaiting: Int, deadLetters: Int, eventsQueued: Int
    ) {
        self.window = window
        self.atMs = atMs
        self.fromMs = fromMs
        self.toMs = toMs
        self.bucketMilliseconds = bucketMilliseconds
        self.totals = totals
        self.series = series
        self.channels = channels
        self.nodes = nodes
        self.stuckOrders = stuckOrders
        self.stuckOrdersCount = stuckOrdersCount
        self.stuckAfterSeconds = stuckAfterSeconds
        self.ordersScanned = ordersScanned
        self.backordersWaiting = backordersWaiting
        self.deadLetters = deadLetters
        self.eventsQueued = eventsQueued
    }
}

extension InsightTotals {
    /// Every counter by name (zeros included, so a client sees them all), then the ratios (null when undefined).
    public var json: JSON {
        .orderedObject(
            InsightMetric.allCases.map { ($0.name, JSON.integer(self[$0])) }
                + InsightRatio.allCases.map { ratio in
                    (ratio.rawValue, ratio.value(self).map { .number(($0 * 1e6).rounded() / 1e6) } ?? .null)
                })
    }
}

extension InsightsReport {
    public var json: JSON {
        .orderedObject([
            ("window", .string(window.rawValue)), ("at_ms", .integer(atMs)), ("from_ms", .integer(fromMs)), ("to_ms", .integer(toMs)),
            ("bucket_ms", .integer(bucketMilliseconds)), ("totals", totals.json),
            ("series", .array(series.map { .orderedObject([("start_ms", .integer($0.startMs)), ("totals", $0.totals.json)]) })),
            ("channels", .array(channels.map { .orderedObject([("channel", .string($0.channel)), ("totals", $0.totals.json)]) })),
            ("nodes", .array(nodes.map(\.json))),
            ("stuck_orders", .array(stuckOrders.map(\.json))), ("stuck_orders_count", .integer(Int64(stuckOrdersCount))),
            ("stuck_after_s", .integer(stuckAfterSeconds)), ("orders_scanned", .integer(Int64(ordersScanned))),
            ("backorders_waiting", .integer(Int64(backordersWaiting))), ("dead_letters", .integer(Int64(deadLetters))),
            ("events_queued", .integer(Int64(eventsQueued))),
        ])
    }
}

extension NodeInsight {
    public var json: JSON {
        .orderedObject([
            ("node", .string(node)), ("kind", .string(kind)), ("latitude", .number(latitude)), ("longitude", .number(longitude)),
            ("enabled", .bool(enabled)), ("shipments", .integer(shipments)), ("units_reserved", .integer(unitsReserved)),
            ("released_today", .integer(releasedToday)), ("capacity_per_day", capacityPerDay.map(JSON.integer) ?? .null),
            ("utilization", utilization.map(JSON.number) ?? .null), ("units_available", .integer(unitsAvailable)),
        ])
    }
}

extension StuckOrder {
    public var json: JSON {
        .orderedObject([
            ("order", .string(order)), ("state", .string(state)), ("channel", channel.map(JSON.string) ?? .null),
            ("since_ms", .integer(sinceMs)), ("failed_step", failedStep.map(JSON.string) ?? .null),
        ])
    }
}
