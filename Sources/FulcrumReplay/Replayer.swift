import Dispatch
import FulcrumCore
import FulcrumService

/// Where a replay is, for a progress display.
public struct ReplayProgress: Sendable {
    public var ordersDone: Int
    public var ordersTotal: Int
    /// The simulated day (0-based) and the number of days.
    public var day: Int
    public var days: Int
    public var wallSeconds: Double
}

/// Replays an expanded scenario through an engine in simulated time:
/// supply events, order arrivals (solved one by one or in batch windows),
/// reservations, payments, shipments, expiries and daily capacity resets.
public enum Replayer {
    public struct Options: Sendable {
        public var strategy: Strategy
        /// Put before every order and receipt id (replays sharing one server's ledger).
        public var idPrefix = ""
        public var progress: (@Sendable (ReplayProgress) -> Void)?
        public var progressIntervalOrders = 1000
        public init(strategy: Strategy) { self.strategy = strategy }
    }

    public static func run(_ expanded: ExpandedScenario, engine: some ReplayEngine, options: Options)
        async throws(FulcrumError) -> StrategyResult
    {
        var run = Run(expanded, options: options)
        return try await run.replay(engine)
    }
}

/// One replay's simulated state and KPIs.
private struct Run {
    enum Event {
        case midnight(day: Int)
        case nodeEnabled(node: Int, enabled: Bool)
        case receive(receipt: String, quantity: Int)
        case transfer(from: String, to: String, sku: String, quantity: Int, transitMinutes: Double)
        case adjust(node: String, sku: String, quantity: Int)
        case expire(order: Int)
        case ship(order: Int)
        case arrival(order: Int)
        case flush

        /// Order among events at the same instant.
        var rank: Int {
            switch self {
            case .midnight: 0
            case .nodeEnabled: 1
            case .receive: 2
            case .transfer, .adjust: 3
            case .expire: 4
            case .ship: 5
            case .arrival: 6
            case .flush: 7
            }
        }
    }

    let expanded: ExpandedScenario
    let scenario: Scenario
    let options: Replayer.Options
    let skuByID: [String: SKU]
    let nodeIndex: [String: Int]
    var queue = EventQueue<Event>(rank: \.rank)
    let started = DispatchTime.now().uptimeNanoseconds
    var nodes: [Node]
    var unitsSentToday: [Int]
    var day = 0
    var pending: [Int] = []
    var flushScheduled = false
    var receiptCount = 0

    // KPIs.
    var days: [ReplayKPIs]
    var nodeUnits: [[Int]]
    var stockouts: [String: SKUStockout] = [:]
    var supply = SupplyKPIs()
    var latenciesMicroseconds: [Double] = []
    var ordersDone = 0
    /// Insight counters per simulated hour, as fulcrumd counts them live (for anomalies).
    var insightHours: [Int64: [InsightDimension: InsightTotals]] = [:]

    init(_ expanded: ExpandedScenario, options: Replayer.Options) {
        self.expanded = expanded
        scenario = expanded.scenario
        self.options = options
        skuByID = Dictionary(uniqueKeysWithValues: expanded.skus.map { ($0.id, $0) })
        nodes = scenario.nodes.map(\.node)
        nodeIndex = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($0.element.id, $0.offset) })
        unitsSentToday = Array(repeating: 0, count: nodes.count)
        days = Array(repeating: ReplayKPIs(), count: scenario.days)
        nodeUnits = Array(repeating: Array(repeating: 0, count: scenario.days), count: nodes.count)
    }

    private func orderID(_ index: Int) -> String { options.idPrefix + expanded.orders[index].order.id }

    mutating func replay(_ engine: some ReplayEngine) async throws(FulcrumError) -> StrategyResult {
        try await engine.advance(to: scenario.start)
        try await engine.setStock(expanded.positions)
        for day in 0..<scenario.days { queue.push(scenario.time(day: day), .midnight(day: day)) }
        for event in scenario.supply {
            let time = scenario.time(day: event.day, minutes: event.minutes)
            switch event.kind {
            case .receipt(let node, let sku, let quantity):
                let receipt = try await schedule(engine, node: node, sku: sku, quantity: quantity, due: time)
                queue.push(time, .receive(receipt: receipt, quantity: quantity))
            case .transfer(let from, let to, let sku, let quantity, let transitMinutes):
                queue.push(time, .transfer(from: from, to: to, sku: sku, quantity: quantity, transitMinutes: transitMinutes))
            case .nodeEnabled(let node, let enabled):
                queue.push(time, .nodeEnabled(node: nodeIndex[node]!, enabled: enabled))
            case .adjustment(let node, let sku, let quantity):
                queue.push(time, .adjust(node: node, sku: sku, quantity: quantity))
            }
        }
        for index in expanded.orders.indices { queue.push(expanded.orders[index].arrival, .arrival(order: index)) }

        while let (time, event) = queue.pop() {
            try await engine.advance(to: time)
            switch event {
            case .midnight(let day):
                self.day = day
                unitsSentToday = Array(repeating: 0, count: nodes.count)
            case .nodeEnabled(let node, let enabled):
                nodes[node].enabled = enabled
                supply.nodeStatusChanges += 1
            case .receive(let receipt, let quantity):
                try await engine.receive(receipt: receipt)
                supply.receipts += 1
                supply.unitsReceived += quantity
            case .transfer(let from, let to, let sku, let quantity, let transitMinutes):
                let moved = Int(min(Int64(quantity), try await engine.available(node: from, sku: sku)))
                supply.transfers += 1
                supply.unitsTransferAsked += quantity
                supply.unitsTransferred += moved
                if moved > 0 {
                    // The ledger's transfer: in transit (ATP by date counts it at arrival), then received.
                    receiptCount += 1
                    let transfer = "\(options.idPrefix)T\(receiptCount)"
                    let due = time.adding(seconds: Int64(transitMinutes * 60))
                    try await engine.transfer(
                        TransferRequest(transfer: transfer, fromNode: from, toNode: to, sku: sku, quantity: Int64(moved), due: due))
                    queue.push(due, .receive(receipt: transfer, quantity: moved))
                }
            case .adjust(let node, let sku, let quantity):
                try await engine.adjust(AdjustRequest(node: node, sku: sku, change: .delta(Int64(quantity)), reason: "scenario adjustment"))
                supply.adjustments += 1
                if quantity < 0 {
                    supply.unitsShrunk -= quantity
                    count([InsightAddition(.unitsShrunk, .all, Int64(-quantity)), InsightAddition(.unitsShrunk, .node(node), Int64(-quantity))], at: time)
                }
            case .expire(let order):
                var orders = [order]
                // Expiries at one instant end together: the ledger expires them in one sweep.
                while let (_, next) = queue.popIf(time: time, rank: event.rank) {
                    guard case .expire(let other) = next else { preconditionFailure("rank 4 is expire") }
                    orders.append(other)
                }
                try await engine.expire(orders: orders.map(orderID))
            case .ship(let order):
                try await engine.ship(order: orderID(order))
            case .arrival(let order):
                let lines = expanded.orders[order].order.lines
                count(InsightCounting.ordered(channel: nil, lines: lines.map { ($0.sku, Int64($0.quantity)) }), at: time)
                if scenario.replay.batchMinutes == 0 {
                    try await solve([order], at: time, engine)
                } else {
                    pending.append(order)
                    if !flushScheduled {
                        let window = Int64(scenario.replay.batchMinutes) * 60_000
                        let offset = time.millisecondsSinceEpoch - scenario.start.millisecondsSinceEpoch
                        let due = scenario.start.millisecondsSinceEpoch + (offset / window + 1) * window
                        queue.push(Timestamp(millisecondsSinceEpoch: due), .flush)
                        flushScheduled = true
                    }
                }
            case .flush:
                flushScheduled = false
                let batch = pending
                pending = []
                try await solve(batch, at: time, engine)
            }
        }
        precondition(pending.isEmpty, "every batch window is flushed")
        let wallSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return result(wallSeconds: wallSeconds)
    }

    private mutating func count(_ additions: [InsightAddition], at time: Timestamp) {
        let hour = InsightLevel.hour.bucket(time.millisecondsSinceEpoch)
        for addition in additions { insightHours[hour, default: [:]][addition.dimension, default: InsightTotals()].add(addition.metric, addition.amount) }
    }

    /// Every hour with three earlier days to compare with, scored as fulcrumd
    /// scores its hours; a generated demand's baselines are scaled by how much
    /// busier the scenario plans this day to be than theirs.
    private func anomalies() -> [Anomaly] {
        let first = InsightLevel.hour.bucket(scenario.start.millisecondsSinceEpoch)
        let model: DemandModel? = if case .generated(let model) = scenario.demand { model } else { nil }
        func day(_ hour: Int64) -> Int { Int((hour - first) / 24) }
        var found: [Anomaly] = []
        for hour in first..<(first + Int64(scenario.days) * 24) {
            guard let (hours, description) = AnomalyDetector.baselineHours(for: hour, historyStartHour: first, seasonalOnly: true)
            else { continue }
            let factors = model.map { model in
                hours.map { model.dayFactor(day(hour), start: scenario.start) / max(1e-9, model.dayFactor(day($0), start: scenario.start)) }
            }
            found += AnomalyDetector.detect(
                hour: hour, observed: insightHours[hour] ?? [:], baselines: hours.map { insightHours[$0] ?? [:] }, factors: factors,
                description: description)
        }
        return found
    }

    private mutating func schedule(_ engine: some ReplayEngine, node: String, sku: String, quantity: Int, due: Timestamp)
        async throws(FulcrumError) -> String
    {
        receiptCount += 1
        let receipt = "\(options.idPrefix)R\(receiptCount)"
        try await engine.schedule(ScheduledReceipt(receipt: receipt, node: node, sku: sku, quantity: Int64(quantity), due: due))
        return receipt
    }

    /// Optimizes a batch of orders together against the ledger, reserves each
    /// order's plan, and books the KPIs.
    private mutating func solve(_ batch: [Int], at time: Timestamp, _ engine: some ReplayEngine) async throws(FulcrumError) {
        var requestNodes = nodes
        for (index, node) in scenario.nodes.enumerated() {
            requestNodes[index].capacityUnits = node.capacityPerDayUnits.map { max(0, $0 - unitsSentToday[index]) }
        }
        var skuIDs = Set<String>()
        var orders: [Order] = []
        for index in batch {
            var order = expanded.orders[index].order
            order.id = orderID(index)
            for line in order.lines { skuIDs.insert(line.sku) }
            orders.append(order)
        }
        let request = OptimizeRequest(
            orders: orders, nodes: requestNodes, skus: skuIDs.sorted().map { skuByID[$0]! }, rates: scenario.rates,
            rules: scenario.rules)
        let solveStarted = DispatchTime.now().uptimeNanoseconds
        let plans = try await engine.optimize(
            request,
            options: OptimizeOptions(strategy: options.strategy, timeLimitMilliseconds: scenario.replay.timeLimitMilliseconds))
        latenciesMicroseconds.append(Double(DispatchTime.now().uptimeNanoseconds - solveStarted) / 1000)
        precondition(plans.count == orders.count, "one plan per order")

        let shipDay = min(day, scenario.days - 1)
        for (position, plan) in plans.enumerated() {
            let index = batch[position]
            let scenarioOrder = expanded.orders[index]
            let arrivalDay = Int((scenarioOrder.arrival.millisecondsSinceEpoch - scenario.start.millisecondsSinceEpoch) / Scenario.dayMilliseconds)
            var kpis = days[arrivalDay]
            kpis.orders += 1
            let ordered = scenarioOrder.order.lines.reduce(0) { $0 + $1.quantity }
            let backordered = plan.backorders.reduce(0) { $0 + $1.quantity }
            kpis.unitsOrdered += ordered
            kpis.unitsBackordered += backordered
            kpis.unitsPromised += ordered - backordered
            book(backorders: plan.backorders, of: scenarioOrder.order, day: arrivalDay)

            let lines = Service.reservationLines(plan, order: orders[position])
            if lines.isEmpty {
                kpis.ordersNotShippable += 1
            } else {
                do {
                    try await engine.reserve(
                        ReserveRequest(order: orders[position].id, lines: lines, ttlSeconds: Int64(scenario.replay.reservationTTLMinutes) * 60))
                } catch FulcrumError.Code.insufficientStock {
                    throw FulcrumError(
                        .planConflict, "the stock of a plan changed before it was reserved: is another client writing to the server?",
                        path: orders[position].id)
                }
                for shipment in plan.shipments {
                    let node = nodeIndex[shipment.node]!
                    let units = shipment.lines.reduce(0) { $0 + $1.quantity }
                    unitsSentToday[node] += units
                    nodeUnits[node][shipDay] += units
                }
                if scenarioOrder.abandoned {
                    kpis.ordersAbandoned += 1
                    queue.push(time.adding(seconds: Int64(scenario.replay.reservationTTLMinutes) * 60), .expire(order: index))
                } else {
                    try await engine.confirm(order: orders[position].id)
                    queue.push(time.adding(seconds: Int64(scenario.replay.shipAfterMinutes) * 60), .ship(order: index))
                    kpis.ordersShipped += 1
                    kpis.shipments += plan.shipments.count
                    if plan.shipments.count > 1 { kpis.ordersSplit += 1 }
                    for shipment in plan.shipments {
                        let units = shipment.lines.reduce(0) { $0 + $1.quantity }
                        kpis.unitsShipped += units
                        kpis.cost += shipment.cost
                        kpis.unitKilometers += Double(units) * shipment.distanceKilometers
                    }
                }
            }
            days[arrivalDay] = kpis
            ordersDone += 1
            if let progress = options.progress, ordersDone % options.progressIntervalOrders == 0 || ordersDone == expanded.orders.count {
                progress(
                    ReplayProgress(
                        ordersDone: ordersDone, ordersTotal: expanded.orders.count, day: shipDay, days: scenario.days,
                        wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
            }
        }
    }

    private mutating func book(backorders: [OptimizeResponse.LineQuantity], of order: Order, day: Int) {
        for backorder in backorders where backorder.quantity > 0 {
            let sku = order.lines.first { $0.id == backorder.line }!.sku
            var stockout = stockouts[sku] ?? SKUStockout(sku: sku, unitsBackordered: 0, linesBackordered: 0, firstDay: day)
            stockout.unitsBackordered += backorder.quantity
            stockout.linesBackordered += 1
            stockouts[sku] = stockout
        }
    }

    private func result(wallSeconds: Double) -> StrategyResult {
        var totals = ReplayKPIs()
        var dayResults: [DayKPIs] = []
        for (day, var kpis) in days.enumerated() {
            totals.add(kpis)
            kpis.finish()
            let date = CivilDate.string(daysSinceEpoch: scenario.start.millisecondsSinceEpoch / Scenario.dayMilliseconds + Int64(day))
            dayResults.append(DayKPIs(day: day, date: date, kpis: kpis))
        }
        totals.finish()
        let loads = scenario.nodes.enumerated().map { index, node in
            NodeLoad(
                node: node.node.id, kind: node.node.kind.rawValue, capacityPerDay: node.capacityPerDayUnits,
                unitsPerDay: nodeUnits[index],
                utilizationPerDay: node.capacityPerDayUnits.map { capacity in
                    nodeUnits[index].map { capacity == 0 ? 0 : Double($0) / Double(capacity) }
                },
                units: nodeUnits[index].reduce(0, +))
        }
        let ranked = stockouts.values.sorted { ($1.unitsBackordered, $0.sku) < ($0.unitsBackordered, $1.sku) }
        return StrategyResult(
            strategy: options.strategy.rawValue, totals: totals, days: dayResults, nodes: loads,
            stockouts: Array(ranked.prefix(StrategyResult.stockoutsListedMax)), skusStockedOut: ranked.count, supply: supply,
            ledgerVerified: nil, anomalies: anomalies(),
            timing: ReplayTiming(latenciesMicroseconds: latenciesMicroseconds, wallSeconds: wallSeconds, orders: expanded.orders.count))
    }
}

extension ReplayKPIs {
    /// The counts summed (the ratios are set again by `finish()`).
    private static let counts: [WritableKeyPath<ReplayKPIs, Int> & Sendable] = [
        \.orders, \.ordersShipped, \.ordersNotShippable, \.ordersSplit, \.ordersAbandoned, \.unitsOrdered,
        \.unitsPromised, \.unitsBackordered, \.unitsShipped, \.shipments,
    ]

    mutating func add(_ other: ReplayKPIs) {
        for count in Self.counts { self[keyPath: count] += other[keyPath: count] }
        cost += other.cost
        unitKilometers += other.unitKilometers
    }
}

/// A min-heap of events by (time, rank, insertion order): the simulation's
/// agenda. Insertion order breaks ties, so a replay is deterministic.
struct EventQueue<Event> {
    private struct Entry {
        var time: Int64
        var rank: Int
        var sequence: Int
        var event: Event
        func precedes(_ other: Entry) -> Bool { (time, rank, sequence) < (other.time, other.rank, other.sequence) }
    }
    private var heap: [Entry] = []
    private var sequence = 0
    private let rankOf: (Event) -> Int

    init(rank: @escaping (Event) -> Int) { rankOf = rank }

    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ time: Timestamp, _ event: Event) {
        sequence += 1
        heap.append(Entry(time: time.millisecondsSinceEpoch, rank: rankOf(event), sequence: sequence, event: event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Timestamp, Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count, heap[left].precedes(heap[first]) { first = left }
            if right < heap.count, heap[right].precedes(heap[first]) { first = right }
            if first == parent { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return (Timestamp(millisecondsSinceEpoch: top.time), top.event)
    }

    /// Pops the next event when it is at `time` with `rank`.
    mutating func popIf(time: Timestamp, rank: Int) -> (Timestamp, Event)? {
        guard let top = heap.first, top.time == time.millisecondsSinceEpoch, top.rank == rank else { return nil }
        return pop()
    }
}

extension Replayer {
    /// Replays each strategy on its own fresh embedded ledger, refolds that
    /// ledger's entries at the end (a mismatch is an error), and reports
    /// the strategies side by side, the first as the baseline.
    public static func embedded(
        _ expanded: ExpandedScenario, strategies: [Strategy],
        progress: (@Sendable (Strategy, ReplayProgress) -> Void)? = nil
    ) async throws(FulcrumError) -> ReplayReport {
        var results: [StrategyResult] = []
        for strategy in strategies {
            let engine = try EmbeddedEngine(start: expanded.scenario.start)
            var options = Options(strategy: strategy)
            if let progress { options.progress = { progress(strategy, $0) } }
            var result = try await run(expanded, engine: engine, options: options)
            let verification = try engine.verify()
            guard verification.isConsistent else {
                throw FulcrumError(
                    .corrupt, "the replay's ledger does not refold: \(verification.mismatches.prefix(5).joined(separator: "; "))")
            }
            result.ledgerVerified = true
            results.append(result)
        }
        return ReplayReport(expanded, results: results)
    }
}
