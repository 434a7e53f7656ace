/// A KPI derived from counters: a ratio, a mean time or the savings. Each
/// names the counter that says how many orders it rests on.
public enum InsightRatio: String, CaseIterable, Sendable {
    case fillRate = "fill_rate"
    case splitRate = "split_rate"
    case shipmentsPerReservation = "shipments_per_reservation"
    case costPerOrder = "cost_per_order"
    case savings
    case savingsRate = "savings_rate"
    case createdToReservedSeconds = "created_to_reserved_s"
    case createdToReleasedSeconds = "created_to_released_s"
    case createdToShippedSeconds = "created_to_shipped_s"

    /// The orders (or reservations) the value rests on.
    public var basis: InsightMetric {
        switch self {
        case .fillRate: .ordersSourced
        case .splitRate, .shipmentsPerReservation: .reservations
        case .costPerOrder: .reservationsCosted
        case .savings, .savingsRate: .baselineOrders
        case .createdToReservedSeconds: .ordersReserved
        case .createdToReleasedSeconds: .ordersReleased
        case .createdToShippedSeconds: .ordersShipped
        }
    }

    public func value(_ totals: InsightTotals) -> Double? {
        switch self {
        case .fillRate: totals.fillRate
        case .splitRate: totals.splitRate
        case .shipmentsPerReservation: totals.shipmentsPerReservation
        case .costPerOrder: totals.costPerOrder
        case .savings: totals[.baselineOrders] == 0 ? nil : totals.savings
        case .savingsRate: totals.savingsRate
        case .createdToReservedSeconds: totals.createdToReservedSeconds
        case .createdToReleasedSeconds: totals.createdToReleasedSeconds
        case .createdToShippedSeconds: totals.createdToShippedSeconds
        }
    }
}

/// What an alert rule watches.
public enum AlertKPI: Hashable, Sendable {
    /// A counter summed over the rule's span.
    case counter(InsightMetric)
    /// A ratio or mean over the rule's span.
    case ratio(InsightRatio)
    /// Orders stuck now (unchanged `stuck_after_s`, or failed).
    case stuckOrders
    case deadLetters
    case backordersWaiting
    case eventsQueued
    /// A node's units released today ÷ its daily capacity (the highest, without `node`).
    case nodeUtilization
    /// Anomalies found in the hours that ended within the rule's span.
    case anomalies

    static let gauges: [String: AlertKPI] = [
        "stuck_orders": .stuckOrders, "dead_letters": .deadLetters, "backorders_waiting": .backordersWaiting,
        "events_queued": .eventsQueued, "node_utilization": .nodeUtilization, "anomalies": .anomalies,
    ]

    public init?(name: String) {
        if let metric = InsightMetric(name: name) {
            self = .counter(metric)
        } else if let ratio = InsightRatio(rawValue: name) {
            self = .ratio(ratio)
        } else if let gauge = Self.gauges[name] {
            self = gauge
        } else {
            return nil
        }
    }

    public var name: String {
        switch self {
        case .counter(let metric): metric.name
        case .ratio(let ratio): ratio.rawValue
        default: Self.gauges.first { $0.value == self }!.key
        }
    }

    /// Every name a rule may give, for error messages.
    public static var names: [String] {
        InsightMetric.allCases.map(\.name) + InsightRatio.allCases.map(\.rawValue) + gauges.keys.sorted()
    }
}

/// A rule of an alerts file: a KPI over a span against a threshold.
public struct AlertRule: Hashable, Sendable {
    public enum Comparison: String, Sendable { case above, below }

    public var id: String
    public var kpi: AlertKPI
    /// The span counters and ratios are summed over, in minutes, ending now.
    public var overMinutes: Int
    public var comparison: Comparison
    public var threshold: Double
    /// A ratio fires only when it rests on at least this many orders (`InsightRatio.basis`).
    public var minOrders: Int64
    /// Only this channel's orders (counters and ratios).
    public var channel: String?
    /// Only this node (node utilization).
    public var node: String?
    /// For stuck orders: unchanged this long.
    public var stuckAfterSeconds: Int64
    /// The outbox an alert is delivered through.
    public var provider: String

    public static let providerDefault = "alerts"

    public init(
        id: String, kpi: AlertKPI, overMinutes: Int = 60, comparison: Comparison, threshold: Double, minOrders: Int64 = 1,
        channel: String? = nil, node: String? = nil, stuckAfterSeconds: Int64 = Limits.insightStuckAfterSecondsDefault,
        provider: String = AlertRule.providerDefault
    ) {
        self.id = id
        self.kpi = kpi
        self.overMinutes = overMinutes
        self.comparison = comparison
        self.threshold = threshold
        self.minOrders = minOrders
        self.channel = channel
        self.node = node
        self.stuckAfterSeconds = stuckAfterSeconds
        self.provider = provider
    }

    public func fires(_ value: Double) -> Bool { comparison == .above ? value > threshold : value < threshold }

    /// "fill_rate over 60 min below 0.95 (channel web)".
    public var condition: String {
        var text = kpi.name
        switch kpi {
        case .counter, .ratio, .anomalies: text += " over \(overMinutes) min"
        default: break
        }
        text += " \(comparison.rawValue) \(threshold)"
        if let channel { text += " (channel \(channel))" }
        if let node { text += " (node \(node))" }
        return text
    }
}

/// An alert: opened when its rule's condition held, resolved once it no
/// longer does. A rule has at most one open alert (firing again while open
/// changes nothing), numbered 1, 2, ... per rule.
public struct AlertRecord: Sendable, Hashable {
    public enum State: String, Sendable { case open, resolved }

    public var rule: String
    public var number: UInt64
    public var state: State
    public var condition: String
    /// The KPI's value when it opened, and when it resolved.
    public var openedValue: Double
    public var resolvedValue: Double?
    public var openedMs: Int64
    public var resolvedMs: Int64?
    /// Where the value came from: the node for node utilization.
    public var subject: String?

    public init(rule: String, number: UInt64, condition: String, openedValue: Double, openedMs: Int64, subject: String?) {
        self.rule = rule
        self.number = number
        state = .open
        self.condition = condition
        self.openedValue = openedValue
        self.openedMs = openedMs
        self.subject = subject
    }

    public var id: String { "\(rule)/\(number)" }

    public var json: JSON {
        .orderedObject([
            ("id", .string(id)), ("rule", .string(rule)), ("number", .integer(Int64(number))), ("state", .string(state.rawValue)),
            ("condition", .string(condition)), ("opened_value", .number(openedValue)),
            ("resolved_value", resolvedValue.map(JSON.number) ?? .null), ("opened_ms", .integer(openedMs)),
            ("resolved_ms", resolvedMs.map(JSON.integer) ?? .null), ("subject", subject.map(JSON.string) ?? .null),
        ])
    }
}

extension AlertRecord: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: rule)
        writer.write(number)
        writer.write(state == .open)
        writer.write(text: condition)
        writer.write(openedValue)
        writer.write(optional: resolvedValue)
        writer.write(openedMs)
        writer.write(optional: resolvedMs)
        writer.write(optional: subject)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        rule = try reader.readText()
        number = try reader.read()
        state = try reader.readBool() ? .open : .resolved
        condition = try reader.readText()
        openedValue = try reader.readDouble()
        resolvedValue = try reader.readOptionalDouble()
        openedMs = try reader.read()
        resolvedMs = try reader.readOptionalInt64()
        subject = try reader.readOptionalText()
    }
}
