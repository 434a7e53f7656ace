import FulcrumCore

/// A capacity-planning scenario (format version 1, `scenarios/README.md`):
/// a network, a catalogue, starting stock, supply events, the optimize v2
/// rates and rules, and demand. Loaded and checked by `Scenario.load`.
public struct Scenario: Sendable {
    public static let formatVersion = 1

    public var name: String
    public var description: String
    /// Midnight (UTC) of the first simulated day.
    public var start: Timestamp
    public var days: Int
    /// Seeds every generator (catalogue, stock, demand); `--seed` overrides it.
    public var seed: UInt64
    public var nodes: [ScenarioNode]
    public var catalogue: Catalogue
    public var stock: StockPlan
    public var supply: [SupplyEvent]
    public var rates: Rates
    public var rules: Rules
    public var demand: Demand
    public var replay: ReplaySettings

    /// The simulated instant `minutes` after the start of `day` (0-based).
    public func time(day: Int, minutes: Double = 0) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + Int64(day) * Self.dayMilliseconds + Int64(minutes * 60_000))
    }

    public static let dayMilliseconds: Int64 = 86_400_000
}

/// A node of the network and how many units it can send per simulated day.
public struct ScenarioNode: Sendable, Hashable {
    public var node: Node
    /// Units per day; nil: unlimited. Resets at midnight.
    public var capacityPerDayUnits: Int?
}

/// The SKUs: listed, and (or) generated.
public struct Catalogue: Sendable, Hashable {
    public struct Generated: Sendable, Hashable {
        public struct Category: Sendable, Hashable {
            public var name: String
            public var share: Double
            public var weightKilograms: ClosedRange<Double>
        }
        public var count: Int
        public var prefix: String
        public var categories: [Category]
    }
    public var skus: [SKU]
    public var generated: Generated?
}

/// Starting stock: listed positions, and rules that stock nodes by popularity.
public struct StockPlan: Sendable, Hashable {
    public struct Position: Sendable, Hashable {
        public var node: String
        public var sku: String
        public var onHand: Int
        public var safetyStock: Int
    }
    /// Stocks the most popular SKUs at the matching nodes, in proportion to demand.
    public struct Rule: Sendable, Hashable {
        /// Nodes of this kind, or these nodes.
        public var kind: NodeKind?
        public var nodes: [String]
        /// The most popular SKUs stocked (nil: every SKU).
        public var topSKUs: Int?
        /// Units spread over the stocked SKUs at each node.
        public var unitsPerNode: Int
        public var minimumUnits: Int
        public var safetyStock: Int
    }
    public var positions: [Position]
    public var rules: [Rule]
}

/// A change of supply or of the network at a simulated time.
public struct SupplyEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A purchase order: scheduled from the start (ATP by date sees it), on hand at its time.
        case receipt(node: String, sku: String, quantity: Int)
        /// Units leave `from` at the event's time and arrive at `to` after the transit.
        case transfer(from: String, to: String, sku: String, quantity: Int, transitMinutes: Double)
        /// The node stops (false) or starts again (true) shipping.
        case nodeEnabled(node: String, enabled: Bool)
        /// On hand moves by `quantity` units (below zero: shrinkage, damage, loss).
        case adjustment(node: String, sku: String, quantity: Int)
    }
    public var day: Int
    public var minutes: Double
    public var kind: Kind
}

/// The orders of the scenario: listed, or generated from a model.
public enum Demand: Sendable, Hashable {
    case orders([ScenarioOrder])
    case generated(DemandModel)
}

/// One order of the demand and when it arrives.
public struct ScenarioOrder: Sendable, Hashable {
    public var arrival: Timestamp
    public var order: Order
    /// The customer never pays: the reservation is not confirmed and expires.
    public var abandoned: Bool
}

/// How orders are generated: volume and its shape over days and hours,
/// which SKUs (Zipf popularity), where they ship, and their size.
public struct DemandModel: Sendable, Hashable {
    public struct Centre: Sendable, Hashable {
        public var name: String
        public var location: Location
        /// Its share of the orders, relative to the other centres.
        public var share: Double
        public var radiusKilometers: Double
    }
    public var ordersPerDay: Double
    /// Scales every day (the "3× demand" what-if).
    public var multiplier: Double
    /// One per simulated day (a peak is a day above 1).
    public var dayMultipliers: [Double]
    /// Monday first; normalised to a mean of 1.
    public var weeklyShape: [Double]
    /// Share of a day's orders in each hour (UTC), normalised.
    public var hourlyShape: [Double]
    /// Popularity of the SKU at rank r is proportional to 1 / r^exponent.
    public var zipfExponent: Double
    public var centres: [Centre]
    /// Weights of 1, 2, 3, ... lines per order.
    public var linesPerOrder: [Double]
    /// Weights of 1, 2, 3, ... units per line.
    public var unitsPerLine: [Double]
    /// Share of orders picked up at the nearest store within `pickupRadiusKilometers`.
    public var pickupShare: Double
    public var pickupRadiusKilometers: Double
    public var abandonShare: Double
    /// Extra orders of one SKU within one hour (a promotion gone viral, a bot): injected anomalies.
    public var spikes: [Spike] = []

    /// `orders` single-line orders of `units` of `sku`, arriving through the hour starting at `hour` of `day`.
    public struct Spike: Sendable, Hashable {
        public var day: Int
        public var hour: Int
        public var sku: String
        public var orders: Int
        public var units: Int
    }

    /// How much busier day `day` is planned to be than the mean day: its
    /// multiplier times its weekday's share (what the generator draws from).
    func dayFactor(_ day: Int, start: Timestamp) -> Double {
        let weekday = CivilDate.weekday(daysSinceEpoch: start.millisecondsSinceEpoch / Scenario.dayMilliseconds + Int64(day))
        return multiplier * dayMultipliers[day] * weeklyShape[weekday] / (weeklyShape.reduce(0, +) / 7)
    }

    static let hourlyShapeDefault: [Double] = [
        2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5.5, 6, 6, 6, 5.5, 5.5, 5.5, 5.5, 6, 6.5, 7, 7, 6, 4.5, 3,
    ]
}

/// How the replay drives the engine.
public struct ReplaySettings: Sendable, Hashable {
    public var strategy: Strategy
    /// 0: each order is optimized as it arrives; N: orders are collected and
    /// optimized together every N simulated minutes.
    public var batchMinutes: Int
    /// How long an unconfirmed reservation holds stock.
    public var reservationTTLMinutes: Int
    /// From reservation to shipment (the warehouse's pick, pack and ship).
    public var shipAfterMinutes: Int
    public var timeLimitMilliseconds: Int
}
