import Foundation
import FulcrumCore

/// An alerts file (`fulcrumd serve --alerts FILE`): rules over the live KPIs
/// (docs/insights.md). A rule opens an alert when its condition holds and
/// resolves it when it no longer does; each is delivered once through its
/// provider's outbox.
///
/// ```yaml
/// version: 1
/// alerts:
///   - id: low-fill-rate
///     kpi: fill_rate          # a counter, ratio or gauge of docs/insights.md
///     over: 1h                # counters and ratios: the span ending now, 1m to 48h (default 1h)
///     below: 0.95             # or above:
///     min_orders: 20          # ratios: only on at least this many orders
///     channel: web            # only this channel's orders
///   - id: stuck-orders
///     kpi: stuck_orders
///     above: 10
///     stuck_after: 30m
///   - id: hot-node
///     kpi: node_utilization
///     above: 0.9
///     node: DC-EAST           # without it: the busiest node
///     provider: pager         # the outbox delivering it (default alerts)
/// ```
public enum AlertsFile {
    public static func load(path: String) throws(FulcrumError) -> [AlertRule] {
        guard let data = FileManager.default.contents(atPath: path), let yaml = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidAlerts, "cannot read the alerts file (missing, or not UTF-8)", path: path)
        }
        return try decode(yaml: yaml, file: path)
    }

    /// The longest span a rule may sum: the minute counters' retention.
    static let overMinutesMax = Int(Limits.insightMinutesKeptMilliseconds / 60_000)

    public static func decode(yaml: String, file: String) throws(FulcrumError) -> [AlertRule] {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidAlerts)
        let top = try FieldReader(document, path: "", code: .invalidAlerts)
        guard try top.requiredInt("version", in: 1...Int.max) == 1 else { throw top.error("version", "only version 1 exists") }
        var ids = Set<String>()
        let rules = try top.records("alerts") { (entry) throws(FulcrumError) -> AlertRule in
            let id = try entry.requiredName("id")
            // An alert's message id is `RULE/NUMBER/STATE`, itself a name.
            guard id.utf8.count <= Limits.nameBytesMax - 24 else {
                throw entry.error("id", "a rule id is at most \(Limits.nameBytesMax - 24) bytes")
            }
            guard ids.insert(id).inserted else { throw entry.error("id", "'\(id)' names two rules") }
            let name = try entry.requiredString("kpi")
            guard let kpi = AlertKPI(name: name) else {
                throw entry.error("kpi", "'\(name)' is not a KPI (one of \(AlertKPI.names.joined(separator: ", ")))")
            }
            let above = try entry.double("above")
            let below = try entry.double("below")
            guard (above == nil) != (below == nil) else {
                throw entry.error(above == nil ? "above" : "below", "a rule gives exactly one of above and below")
            }
            let minutes = try duration(entry, "over", maximum: overMinutesMax) ?? 60
            let stuckMinutes = try duration(entry, "stuck_after", maximum: Int(Limits.reservationTTLSecondsMax / 60))
            let channel = try entry.string("channel")
            if let channel, !channel.isEmpty { try Names.validate(channel, path: entry.fieldPath("channel")) }
            return AlertRule(
                id: id, kpi: kpi, overMinutes: minutes, comparison: above == nil ? .below : .above,
                threshold: above ?? below!, minOrders: Int64(try entry.int("min_orders", in: 1...Int(Int32.max)) ?? 1),
                channel: channel, node: try entry.name("node"),
                stuckAfterSeconds: stuckMinutes.map { Int64($0) * 60 } ?? Limits.insightStuckAfterSecondsDefault,
                provider: try entry.name("provider") ?? AlertRule.providerDefault)
        }
        try top.finish()
        if rules.isEmpty { throw top.error("alerts", "must list at least one rule") }
        return rules
    }

    /// `30m`, `1h`, `90m`: whole minutes, 1 to `maximum`.
    private static func duration(_ entry: FieldReader, _ key: String, maximum: Int) throws(FulcrumError) -> Int? {
        guard let text = try entry.string(key) else { return nil }
        let unit = text.last
        guard let count = Int(text.dropLast()), count >= 1, unit == "m" || unit == "h" else {
            throw entry.error(key, "'\(text)' is not a span such as 15m or 1h")
        }
        let minutes = unit == "h" ? count * 60 : count
        guard minutes <= maximum else { throw entry.error(key, "'\(text)' is longer than \(maximum / 60)h") }
        return minutes
    }
}
