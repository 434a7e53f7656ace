import Foundation
import Synchronization

/// What an operations team changes about a node while the server runs:
/// whether it is open, whether it ships to customers (a store that stops
/// shipping still serves pickups), how many units it may release per local
/// day, and the time zone whose midnight starts its day.
public struct NodeSettings: Sendable, Hashable {
    public var enabled = true
    public var canShip = true
    /// Units the node may release per local day; nil: unlimited.
    public var capacityPerDay: Int64?
    /// An IANA time zone name (`America/Chicago`).
    public var timezone = "UTC"

    public init(enabled: Bool = true, canShip: Bool = true, capacityPerDay: Int64? = nil, timezone: String = "UTC") {
        self.enabled = enabled
        self.canShip = canShip
        self.capacityPerDay = capacityPerDay
        self.timezone = timezone
    }

    /// A capacity per day within the limits.
    public static func validate(capacityPerDay: Int64, path: String) throws(FulcrumError) {
        guard (0...Limits.quantityMax).contains(capacityPerDay) else {
            throw FulcrumError(.invalidArgument, "capacity_per_day is 0 to \(Limits.quantityMax) units", path: path)
        }
    }

    /// A time zone the machine's zone database knows.
    public static func validate(timezone: String, path: String) throws(FulcrumError) {
        guard !timezone.isEmpty, timezone.utf8.count <= Limits.nameBytesMax, TimeZone(identifier: timezone) != nil else {
            throw FulcrumError(
                .invalidArgument, "'\(timezone)' is not a time zone (an IANA name such as America/Chicago or UTC)", path: path)
        }
    }

    /// The settings with `update`'s given fields in place of these.
    public func updated(by update: NodeUpdate) -> NodeSettings {
        var settings = self
        if let enabled = update.enabled { settings.enabled = enabled }
        if let canShip = update.canShip { settings.canShip = canShip }
        switch update.capacityPerDay {
        case nil: break
        case .units(let units): settings.capacityPerDay = units
        case .unlimited: settings.capacityPerDay = nil
        }
        if let timezone = update.timezone { settings.timezone = timezone }
        return settings
    }

    /// What changed from `old` to these settings, in words (`closed`,
    /// `capacity_per_day 300 → 120`), or empty.
    public func differences(from old: NodeSettings) -> [String] {
        var changes: [String] = []
        if enabled != old.enabled { changes.append(enabled ? "opened" : "closed") }
        if canShip != old.canShip { changes.append(canShip ? "shipping on" : "shipping off") }
        if capacityPerDay != old.capacityPerDay {
            let show = { (units: Int64?) in units.map(String.init) ?? "unlimited" }
            changes.append("capacity_per_day \(show(old.capacityPerDay)) → \(show(capacityPerDay))")
        }
        if timezone != old.timezone { changes.append("timezone \(old.timezone) → \(timezone)") }
        return changes
    }
}

/// A change to a node's settings: the fields given replace the node's, the
/// others stay.
public struct NodeUpdate: Sendable, Hashable {
    /// A new daily capacity: a number of units, or none at all.
    public enum Capacity: Sendable, Hashable {
        case units(Int64)
        case unlimited
    }

    public var enabled: Bool?
    public var canShip: Bool?
    public var capacityPerDay: Capacity?
    public var timezone: String?
    /// Why, for the node's timeline (at most `Limits.reasonBytesMax` bytes).
    public var reason: String?

    public init(
        enabled: Bool? = nil, canShip: Bool? = nil, capacityPerDay: Capacity? = nil, timezone: String? = nil,
        reason: String? = nil
    ) {
        self.enabled = enabled
        self.canShip = canShip
        self.capacityPerDay = capacityPerDay
        self.timezone = timezone
        self.reason = reason
    }

    /// Checks each given field; an update changing nothing is refused.
    public func validate() throws(FulcrumError) {
        guard enabled != nil || canShip != nil || capacityPerDay != nil || timezone != nil else {
            throw FulcrumError(
                .invalidArgument, "give at least one of enabled, can_ship, capacity_per_day, timezone", path: "node")
        }
        if case .units(let units) = capacityPerDay { try NodeSettings.validate(capacityPerDay: units, path: "capacity_per_day") }
        if let timezone { try NodeSettings.validate(timezone: timezone, path: "timezone") }
        if let reason { try Names.validateText(reason, path: "reason", bytesMax: Limits.reasonBytesMax, allowEmpty: true) }
    }
}

/// One entry of a node's timeline of changes.
public struct NodeChange: Sendable, Hashable {
    /// 1 for the node's first change, then one more each time.
    public var revision: Int64
    public var atMilliseconds: Int64
    /// The token's name that asked for it.
    public var caller: String
    public var before: NodeSettings
    public var after: NodeSettings
    public var reason: String?

    public init(
        revision: Int64, atMilliseconds: Int64, caller: String, before: NodeSettings, after: NodeSettings, reason: String?
    ) {
        self.revision = revision
        self.atMilliseconds = atMilliseconds
        self.caller = caller
        self.before = before
        self.after = after
        self.reason = reason
    }

    /// What changed, in words.
    public var summary: String { after.differences(from: before).joined(separator: ", ") }
}

/// A node of the live network as it stands now: the network file's node,
/// its settings, and what it released on its current local day.
public struct NodeStatus: Sendable, Hashable {
    public var node: Node
    public var settings: NodeSettings
    /// The node's current local day, `YYYY-MM-DD`.
    public var day: String
    /// Units released to the node (fulfillment orders made) on `day`.
    public var releasedQuantity: Int64
    /// The newest changes first (only when asked for one node).
    public var changes: [NodeChange]

    public init(node: Node, settings: NodeSettings, day: String, releasedQuantity: Int64, changes: [NodeChange] = []) {
        self.node = node
        self.settings = settings
        self.day = day
        self.releasedQuantity = releasedQuantity
        self.changes = changes
    }

    /// Units the node may still release today; nil: unlimited.
    public var capacityLeft: Int64? { settings.capacityPerDay.map { max(0, $0 - releasedQuantity) } }
}

extension NodeSettings: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(enabled)
        writer.write(canShip)
        writer.write(optional: capacityPerDay)
        writer.write(text: timezone)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            enabled: try reader.readBool(), canShip: try reader.readBool(), capacityPerDay: try reader.readOptionalInt64(),
            timezone: try reader.readText())
    }
}

extension NodeChange: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(revision)
        writer.write(atMilliseconds)
        writer.write(text: caller)
        before.write(to: &writer)
        after.write(to: &writer)
        writer.write(optional: reason)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            revision: try reader.read(Int64.self), atMilliseconds: try reader.read(Int64.self), caller: try reader.readText(),
            before: try NodeSettings(from: &reader), after: try NodeSettings(from: &reader),
            reason: try reader.readOptionalText())
    }
}

/// Calendar days in time zones, each cached until it ends: what a node's
/// "today" is, at the cost of a comparison for all but the first call of a day.
public final class LocalDays: Sendable {
    public struct Day: Sendable, Hashable {
        /// `YYYY-MM-DD` in the zone.
        public var label: String
        public var startMilliseconds: Int64
        public var endMilliseconds: Int64
    }

    private let cache = Mutex<[String: Day]>([:])

    public init() {}

    /// The day in `timezone` holding the instant `milliseconds` (UTC for an
    /// unknown zone; settings are validated before they are stored).
    public func day(in timezone: String, at milliseconds: Int64) -> Day {
        if let day = cache.withLock({ $0[timezone] }), day.startMilliseconds <= milliseconds, milliseconds < day.endMilliseconds {
            return day
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timezone) ?? TimeZone(identifier: "UTC")!
        let instant = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let start = calendar.startOfDay(for: instant)
        let end = calendar.date(byAdding: .day, value: 1, to: start)!
        let parts = calendar.dateComponents([.year, .month, .day], from: start)
        let day = Day(
            label: String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!),
            startMilliseconds: Int64((start.timeIntervalSince1970 * 1000).rounded()),
            endMilliseconds: Int64((end.timeIntervalSince1970 * 1000).rounded()))
        cache.withLock { $0[timezone] = day }
        return day
    }
}

/// The live network as JSON: the one shape the gateway answers and the CLI
/// prints with `--json`.
extension NodeStatus {
    public var json: JSON {
        var fields: [(String, JSON)] = [
            ("node", .string(node.id)), ("kind", .string(node.kind.rawValue)),
            ("enabled", .bool(settings.enabled)), ("can_ship", .bool(settings.canShip)),
            ("capacity_per_day", settings.capacityPerDay.map(JSON.integer) ?? .null),
            ("timezone", .string(settings.timezone)), ("day", .string(day)),
            ("released_quantity", .integer(releasedQuantity)), ("capacity_left", capacityLeft.map(JSON.integer) ?? .null),
        ]
        if !changes.isEmpty { fields.append(("changes", .array(changes.map(\.json)))) }
        return .orderedObject(fields)
    }

    /// One line for people: `DC-EAST open, shipping, 120 of 300 units released on 2026-12-06 (America/New_York)`.
    public var text: String {
        let capacity = settings.capacityPerDay.map { "\(releasedQuantity) of \($0) units" } ?? "\(releasedQuantity) units (no daily capacity)"
        return "\(node.id) \(settings.enabled ? "open" : "closed"), \(settings.canShip ? "shipping" : "not shipping"), "
            + "\(capacity) released on \(day) (\(settings.timezone))"
    }
}

extension NodeChange {
    public var json: JSON {
        .orderedObject([
            ("revision", .integer(revision)), ("at_ms", .integer(atMilliseconds)), ("caller", .string(caller)),
            ("change", .string(summary)), ("reason", reason.map(JSON.string) ?? .null),
        ])
    }
}

/// The body of a node's update (`PATCH /v1/nodes/{node}`): each field given
/// replaces the node's; `"capacity_per_day": null` removes its daily capacity.
extension NodeUpdate: Decodable {
    private enum Keys: String, CodingKey, CaseIterable {
        case enabled, canShip = "can_ship", capacityPerDay = "capacity_per_day", timezone, reason
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(
            enabled: try c.decodeIfPresent(Bool.self, forKey: .enabled),
            canShip: try c.decodeIfPresent(Bool.self, forKey: .canShip),
            capacityPerDay: !c.contains(.capacityPerDay)
                ? nil : try c.decodeNil(forKey: .capacityPerDay) ? .unlimited : .units(try c.decodeInteger(forKey: .capacityPerDay)),
            timezone: try c.decodeIfPresent(String.self, forKey: .timezone),
            reason: try c.decodeIfPresent(String.self, forKey: .reason))
    }
}
