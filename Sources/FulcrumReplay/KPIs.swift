import FulcrumCore

/// Counts of one simulated day, or of a whole replay, and the ratios a
/// planner reads (cost per order, shipments per order, fill rate).
public struct ReplayKPIs: Codable, Sendable, Hashable {
    public var orders = 0
    /// Orders that shipped (at least one unit, not abandoned).
    public var ordersShipped = 0
    /// Orders of which no unit could be promised.
    public var ordersNotShippable = 0
    /// Shipped orders sent in more than one shipment.
    public var ordersSplit = 0
    /// Orders reserved but never paid: their reservations expired.
    public var ordersAbandoned = 0
    public var unitsOrdered = 0
    /// Units reserved for orders (shipped or, for abandoned orders, expired).
    public var unitsPromised = 0
    public var unitsBackordered = 0
    public var unitsShipped = 0
    public var shipments = 0
    /// Shipping cost of the shipped orders (the spec's shipment costs; no backorder penalty).
    public var cost = 0.0
    /// Units shipped times the distance each travelled.
    public var unitKilometers = 0.0

    // Ratios, set by `finish()`.
    public var costPerOrder = 0.0
    public var shipmentsPerOrder = 0.0
    public var splitRate = 0.0
    public var distancePerUnitKilometers = 0.0
    /// Units promised / units ordered.
    public var fillRate = 0.0

    public init() {}

    mutating func finish() {
        costPerOrder = ordersShipped == 0 ? 0 : cost / Double(ordersShipped)
        shipmentsPerOrder = ordersShipped == 0 ? 0 : Double(shipments) / Double(ordersShipped)
        splitRate = ordersShipped == 0 ? 0 : Double(ordersSplit) / Double(ordersShipped)
        distancePerUnitKilometers = unitsShipped == 0 ? 0 : unitKilometers / Double(unitsShipped)
        fillRate = unitsOrdered == 0 ? 0 : Double(unitsPromised) / Double(unitsOrdered)
    }
}

/// One simulated day's KPIs (by the orders' arrival).
public struct DayKPIs: Codable, Sendable, Hashable {
    public var day: Int
    public var date: String
    public var kpis: ReplayKPIs
}

/// Units a node sent per day against its daily capacity.
public struct NodeLoad: Codable, Sendable, Hashable {
    public var node: String
    public var kind: String
    public var capacityPerDay: Int?
    public var unitsPerDay: [Int]
    /// Units / capacity per day; nil without a capacity.
    public var utilizationPerDay: [Double]?
    public var units: Int
}

/// A SKU that could not be promised in full.
public struct SKUStockout: Codable, Sendable, Hashable {
    public var sku: String
    public var unitsBackordered: Int
    public var linesBackordered: Int
    /// The first simulated day a line of it was backordered.
    public var firstDay: Int
}

/// What the supply events did.
public struct SupplyKPIs: Codable, Sendable, Hashable {
    public var receipts = 0
    public var unitsReceived = 0
    public var transfers = 0
    public var unitsTransferAsked = 0
    /// A transfer moves what is available at its source, up to what it asks.
    public var unitsTransferred = 0
    public var nodeStatusChanges = 0
    public var adjustments = 0
    /// Units adjustments took off on hand.
    public var unitsShrunk = 0
}

/// Wall-clock measurements: the only part of a result that differs between
/// two runs of the same scenario and seed.
public struct ReplayTiming: Codable, Sendable, Hashable {
    public struct Bucket: Codable, Sendable, Hashable {
        public var upToMicroseconds: Double
        public var count: Int
    }
    public var wallSeconds = 0.0
    public var ordersPerSecond = 0.0
    public var optimizeCalls = 0
    public var latencyP50Microseconds = 0.0
    public var latencyP90Microseconds = 0.0
    public var latencyP99Microseconds = 0.0
    public var latencyMaxMicroseconds = 0.0
    /// Optimize latency (each call, with its ledger reads) in log-spaced buckets.
    public var latencyHistogram: [Bucket] = []

    init(latenciesMicroseconds: [Double], wallSeconds: Double, orders: Int) {
        self.wallSeconds = wallSeconds
        ordersPerSecond = wallSeconds > 0 ? Double(orders) / wallSeconds : 0
        optimizeCalls = latenciesMicroseconds.count
        let sorted = latenciesMicroseconds.sorted()
        guard !sorted.isEmpty else { return }
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] }
        latencyP50Microseconds = percentile(0.50)
        latencyP90Microseconds = percentile(0.90)
        latencyP99Microseconds = percentile(0.99)
        latencyMaxMicroseconds = sorted[sorted.count - 1]
        // Buckets 10 µs · 2^(k/2) up to the maximum.
        var bound = 10.0
        var index = 0
        while index < sorted.count {
            var count = 0
            while index < sorted.count, sorted[index] <= bound {
                count += 1
                index += 1
            }
            latencyHistogram.append(Bucket(upToMicroseconds: (bound * 10).rounded() / 10, count: count))
            bound *= 2.0.squareRoot()
        }
    }
}

/// One strategy's replay of a scenario.
public struct StrategyResult: Codable, Sendable, Hashable {
    public var strategy: String
    public var totals: ReplayKPIs
    public var days: [DayKPIs]
    public var nodes: [NodeLoad]
    /// SKUs with backorders, most units first (at most `stockoutsListedMax`).
    public var stockouts: [SKUStockout]
    public var skusStockedOut: Int
    public var supply: SupplyKPIs
    /// The replay's ledger refolded and compared with its balances (embedded runs).
    public var ledgerVerified: Bool?
    /// Hours whose order intake, demand per SKU or shrinkage per node stood
    /// out from the same hours of earlier days, as fulcrumd finds them live
    /// (docs/insights.md), the baselines scaled by the demand's day multipliers.
    public var anomalies: [Anomaly] = []
    public var timing: ReplayTiming

    public static let stockoutsListedMax = 25
}
