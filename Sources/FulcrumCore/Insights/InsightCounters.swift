/// A business counter the insights keep per minute, counted in the
/// transaction that made the change it counts (so exactly once), and rolled
/// up per hour and per day. Raw values are part of the stored key: never
/// renumber one.
public enum InsightMetric: UInt8, CaseIterable, Sendable {
    /// Orders accepted (`order.created`), and their units.
    case ordersCreated = 1
    case unitsOrdered = 2
    /// Orders sourced for the first time (reserved, backordered or
    /// preordered), their units, and the units reserved from stock on hand
    /// then: units filled ÷ units sourced is the fill rate.
    case ordersSourced = 3
    case unitsSourced = 4
    case unitsFilled = 5
    /// Reservations of stock on hand made for orders (a shipment group is one),
    /// their units, the nodes they ship from (shipments) and those from more than one node.
    case reservations = 6
    case unitsReserved = 7
    case shipments = 8
    case reservationsSplit = 9
    /// Reservations planned by the solver, and their plans' shipping cost in millionths.
    case reservationsCosted = 10
    case costMicros = 11
    case ordersBackordered = 12
    case ordersPreordered = 13
    /// Orders reserved for the first time, and the time from creation to then (summed).
    case ordersReserved = 14
    case createdToReservedMilliseconds = 15
    case ordersReleased = 16
    case createdToReleasedMilliseconds = 17
    /// Orders shipped (or picked up) whole.
    case ordersShipped = 18
    case createdToShippedMilliseconds = 19
    case ordersCancelled = 20
    /// Steps that failed (the order waits for a reprocess).
    case stepsFailed = 21
    /// Live solves priced again by greedy nearest-first on the same stock
    /// (orders both plans ship whole), the solver's cost and nearest-first's, in millionths.
    case baselineOrders = 22
    case baselineCostMicros = 23
    case nearestFirstCostMicros = 24
    /// Solves not priced because the baseline queue was full.
    case baselineSkipped = 25
    /// Units adjustments took off on hand (per node): shrinkage, damage, counts below the books.
    case unitsShrunk = 26
    /// Provider messages delivered, and given up on (dead letters), per provider.
    case messagesDelivered = 27
    case messagesDeadLettered = 28
    /// Reservations that reached their time to live unconfirmed (counted by the ledger as it expires them).
    case reservationsExpired = 29

    /// The metric `name` names, or nil.
    public init?(name: String) {
        guard let metric = Self.byName[name] else { return nil }
        self = metric
    }

    private static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    /// The name the API and the page use.
    public var name: String {
        switch self {
        case .ordersCreated: "orders_created"
        case .unitsOrdered: "units_ordered"
        case .ordersSourced: "orders_sourced"
        case .unitsSourced: "units_sourced"
        case .unitsFilled: "units_filled"
        case .reservations: "reservations"
        case .unitsReserved: "units_reserved"
        case .shipments: "shipments"
        case .reservationsSplit: "reservations_split"
        case .reservationsCosted: "reservations_costed"
        case .costMicros: "cost_micros"
        case .ordersBackordered: "orders_backordered"
        case .ordersPreordered: "orders_preordered"
        case .ordersReserved: "orders_reserved"
        case .createdToReservedMilliseconds: "created_to_reserved_ms"
        case .ordersReleased: "orders_released"
        case .createdToReleasedMilliseconds: "created_to_released_ms"
        case .ordersShipped: "orders_shipped"
        case .createdToShippedMilliseconds: "created_to_shipped_ms"
        case .ordersCancelled: "orders_cancelled"
        case .stepsFailed: "steps_failed"
        case .baselineOrders: "baseline_orders"
        case .baselineCostMicros: "baseline_cost_micros"
        case .nearestFirstCostMicros: "nearest_first_cost_micros"
        case .baselineSkipped: "baseline_skipped"
        case .unitsShrunk: "units_shrunk"
        case .messagesDelivered: "messages_delivered"
        case .messagesDeadLettered: "messages_dead_lettered"
        case .reservationsExpired: "reservations_expired"
        }
    }
}

/// What a counter is counted for: everything, one sales channel, node, SKU or provider.
public enum InsightDimension: Hashable, Sendable, Comparable {
    case all
    /// An order's channel; "" for orders sold without one.
    case channel(String)
    case node(String)
    case sku(String)
    case provider(String)

    var bytes: [UInt8] {
        switch self {
        case .all: [0x2A]  // "*"
        case .channel(let channel): [0x63] + Names.keyBytes(channel)  // "c"
        case .node(let node): [0x6E] + Names.keyBytes(node)  // "n"
        case .sku(let sku): [0x73] + Names.keyBytes(sku)  // "s"
        case .provider(let provider): [0x70] + Names.keyBytes(provider)  // "p"
        }
    }

    init?(bytes: ArraySlice<UInt8>) {
        guard let kind = bytes.first else { return nil }
        let rest = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch kind {
        case 0x2A where bytes.count == 1: self = .all
        case 0x63: self = .channel(rest)
        case 0x6E: self = .node(rest)
        case 0x73: self = .sku(rest)
        case 0x70: self = .provider(rest)
        default: return nil
        }
    }
}

/// How long one bucket of counters is: a minute (written by every change),
/// an hour and a day (summed from the finer one once it is over).
public enum InsightLevel: UInt8, CaseIterable, Sendable {
    case minute = 1
    case hour = 2
    case day = 3

    public var milliseconds: Int64 {
        switch self {
        case .minute: 60_000
        case .hour: 3_600_000
        case .day: 86_400_000
        }
    }

    /// The level its buckets are summed from.
    public var finer: InsightLevel? { InsightLevel(rawValue: rawValue - 1) }

    /// The bucket holding `atMs` (its start ÷ the bucket's length).
    public func bucket(_ atMs: Int64) -> Int64 { atMs >= 0 ? atMs / milliseconds : (atMs - milliseconds + 1) / milliseconds }
}

/// One counter's amount to add, and where.
public struct InsightAddition: Hashable, Sendable {
    public var metric: InsightMetric
    public var dimension: InsightDimension
    public var amount: Int64
    public init(_ metric: InsightMetric, _ dimension: InsightDimension, _ amount: Int64) {
        self.metric = metric
        self.dimension = dimension
        self.amount = amount
    }
}

/// Key layout of the insight counters in the ledger's `records` database:
/// "i" + level + bucket (big-endian, so a time range is one key range
/// holding every dimension) + dimension + 0 + metric → a counter. The
/// roll-up's watermarks sit under "i" + 0 + level.
public enum InsightKeys {
    public static let prefix: UInt8 = 0x69  // "i"

    public static func levelPrefix(_ level: InsightLevel) -> [UInt8] { [prefix, level.rawValue] }

    public static func bucketPrefix(_ level: InsightLevel, _ bucket: Int64) -> [UInt8] {
        levelPrefix(level) + withUnsafeBytes(of: UInt64(bitPattern: bucket).bigEndian) { Array($0) }
    }

    public static func counter(_ level: InsightLevel, _ bucket: Int64, _ dimension: InsightDimension, _ metric: InsightMetric)
        -> [UInt8]
    {
        bucketPrefix(level, bucket) + dimension.bytes + [0, metric.rawValue]
    }

    /// The first bucket of `level` not yet summed into it from the finer level.
    public static func watermark(_ level: InsightLevel) -> [UInt8] { [prefix, 0, level.rawValue] }

    /// A counter key's bucket, dimension and metric (nil for other keys,
    /// and for metrics a newer version added).
    public static func parse(_ key: [UInt8]) -> (level: InsightLevel, bucket: Int64, dimension: InsightDimension, metric: InsightMetric)? {
        guard key.count >= 13, key[0] == prefix, let level = InsightLevel(rawValue: key[1]), key[key.count - 2] == 0,
            let metric = InsightMetric(rawValue: key[key.count - 1]),
            let dimension = InsightDimension(bytes: key[10..<(key.count - 2)])
        else { return nil }
        let bucket = key[2..<10].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (level, Int64(bitPattern: bucket), dimension, metric)
    }
}

/// The counters one change of an order adds: what it entered, what was
/// reserved, how long it took from creation. Pure, so it can be checked by hand.
public enum InsightCounting {
    /// States in which an order has been sourced (reserved, or waiting for stock).
    static let sourcedStates: Set<String> = [
        OrderStates.backordered, OrderStates.preordered, OrderStates.reserved, OrderStates.released,
        OrderStates.partiallyShipped, OrderStates.shipped, OrderStates.readyForPickup, OrderStates.pickedUp,
    ]

    /// A new order: its units also count as demand for each SKU.
    public static func created(_ order: OrderRecord) -> [InsightAddition] {
        ordered(channel: order.channel, lines: order.lines.map { ($0.sku, $0.quantity) })
    }

    /// An order of `lines` (SKU, units) sold in `channel`.
    public static func ordered(channel: String?, lines: [(sku: String, quantity: Int64)]) -> [InsightAddition] {
        let demand = Dictionary(lines.map { ($0.sku, $0.quantity) }, uniquingKeysWith: +)
        let units = lines.reduce(0) { $0 + $1.quantity }
        return [(InsightMetric.ordersCreated, Int64(1)), (.unitsOrdered, units)].flatMap { metric, amount in
            [InsightAddition(metric, .all, amount), InsightAddition(metric, .channel(channel ?? ""), amount)]
        } + demand.sorted { $0.key < $1.key }.map { InsightAddition(.unitsOrdered, .sku($0.key), $0.value) }
    }

    /// A provider's answer to a message: delivered, or a dead letter.
    public static func answered(provider: String, delivered: Bool) -> [InsightAddition] {
        let metric: InsightMetric = delivered ? .messagesDelivered : .messagesDeadLettered
        return [InsightAddition(metric, .all, 1), InsightAddition(metric, .provider(provider), 1)]
    }

    /// What one step did to `before`, giving `after`. `reserved` is the
    /// reservation the step made (lines from stock on hand, and promised
    /// ones with a receipt); `plannedCost` the solver's cost of its plan.
    public static func changed(
        from before: OrderRecord, to after: OrderRecord, reserved: [ReservationLine], plannedCost: Double?, atMs: Int64
    ) -> [InsightAddition] {
        var counts: [(InsightMetric, Int64)] = []
        var nodeCounts: [InsightAddition] = []
        let entered = before.state != after.state ? after.state : nil
        let onHand = reserved.filter(\.receipt.isEmpty)
        let unitsOnHand = onHand.reduce(0) { $0 + $1.quantity }
        let reservedNow = entered == OrderStates.reserved && unitsOnHand > 0
        if before.fill == nil, !sourcedStates.contains(before.state), let entered, sourcedStates.contains(entered) {
            counts += [(.ordersSourced, 1), (.unitsSourced, after.totalQuantity), (.unitsFilled, reservedNow ? unitsOnHand : 0)]
        }
        if reservedNow {
            var unitsByNode: [String: Int64] = [:]
            for line in onHand { unitsByNode[line.node, default: 0] += line.quantity }
            counts += [
                (.reservations, 1), (.unitsReserved, unitsOnHand), (.shipments, Int64(unitsByNode.count)),
                (.reservationsSplit, unitsByNode.count > 1 ? 1 : 0),
            ]
            if let plannedCost {
                counts += [(.reservationsCosted, 1), (.costMicros, Int64((plannedCost * 1e6).rounded()))]
            }
            for (node, units) in unitsByNode {
                nodeCounts += [InsightAddition(.shipments, .node(node), 1), InsightAddition(.unitsReserved, .node(node), units)]
            }
            if (after.fill ?? 1) == 1 { counts += [(.ordersReserved, 1), (.createdToReservedMilliseconds, atMs - after.createdMs)] }
        }
        switch entered {
        case OrderStates.backordered?: counts.append((.ordersBackordered, 1))
        case OrderStates.preordered?: counts.append((.ordersPreordered, 1))
        case OrderStates.released? where (after.fill ?? 1) == 1:
            counts += [(.ordersReleased, 1), (.createdToReleasedMilliseconds, atMs - after.createdMs)]
        case OrderStates.shipped?, OrderStates.pickedUp?:
            counts += [(.ordersShipped, 1), (.createdToShippedMilliseconds, atMs - after.createdMs)]
        case OrderStates.cancelled?: counts.append((.ordersCancelled, 1))
        default: break
        }
        if let failure = after.failure, failure != before.failure { counts.append((.stepsFailed, 1)) }
        return spread(counts.filter { $0.1 != 0 }, after) + nodeCounts
    }

    /// Each count for everything and for the order's channel.
    static func spread(_ counts: [(InsightMetric, Int64)], _ order: OrderRecord) -> [InsightAddition] {
        counts.flatMap { metric, amount in
            [InsightAddition(metric, .all, amount), InsightAddition(metric, .channel(order.channel ?? ""), amount)]
        }
    }
}
