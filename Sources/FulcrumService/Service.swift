import Foundation
import FulcrumCore
import FulcrumGazetteer
import FulcrumLedger
import FulcrumReplication
import FulcrumOrchestration
import FulcrumSolver
import Metrics
import Synchronization

/// The operations fulcrumd serves, in domain types: reads from pooled ledger
/// readers, writes through the ledger's group-commit writer, and solves
/// against the ledger's availability. Transport-free (no NIO, no protobuf),
/// so the RPC server, the HTTP gateway and the replayer share it.
public final class Service: Sendable {
    public struct Options: Sendable {
        /// Idle ledger readers kept (each holds an LMDB reader slot).
        public var readersIdleMax = 64
        /// Solves an optimize-and-reserve makes before answering `plan_conflict`.
        public var optimizeReserveAttemptsMax = Limits.optimizeReserveAttemptsMax
        /// Recent solves kept for operators (`recentDecisions`).
        public var decisionsKept = 64
        /// Stamps the decisions.
        public var clock: any Clock = SystemClock()
        /// The fulfillment profiles solves run under, and the file they came
        /// from (`reloadProfiles` reads it again).
        public var profiles = FulfillmentProfiles.builtIn
        public var profilesFile: String?
        public init() {}
    }

    /// Front ends reach the ledger only through the methods below.
    let ledger: Ledger
    public let network: Network
    let readers: ReaderPool
    let options: Options
    private let optimizeRetryCount = Atomic<UInt64>(0)
    private let decisions: DecisionLog
    private let solveMetrics = SolveMetrics()
    let auditKeys: AuditKeys
    /// The orchestrator, once `startJourneys` ran.
    let orchestration = Mutex<Orchestrator?>(nil)
    /// Replaced whole by a reload; each solve reads it once.
    let profileTable: Mutex<FulfillmentProfiles>
    /// The SKU catalogue, read from the ledger on first use (nil until then).
    let catalogueTable = Mutex<[String: SKU]?>(nil)
    /// The live network's settings, read from the ledger on first use (nil until then).
    let nodeSettingsTable = Mutex<NodeTable?>(nil)
    /// Each node's local day, for its daily capacity.
    let localDays = LocalDays()
    /// Copies of the ledger new replicas are downloading.
    let snapshots: SnapshotStore
    /// The cluster this service's ledger replicates in (`joinCluster`), if any.
    let replication = Mutex<Replica?>(nil)
    /// The journeys `startJourneys` was given: a replica runs them while it leads.
    let journeyBook = Mutex<JourneyBook?>(nil)
    /// Prices live solves against nearest-first for the insights.
    let baselines: BaselinePricer
    /// The alert rules in force (`setAlertRules`).
    let alertRules = Mutex<[AlertRule]>([])

    /// Opens (or creates) the ledger in `directory` and serves it: the way
    /// front ends and offline tools get a service of their own.
    public static func open(
        directory: String, ledgerOptions: LedgerOptions = LedgerOptions(), network: Network = Network(nodes: []),
        options: Options = Options()
    ) throws(FulcrumError) -> Service {
        Service(ledger: try Ledger(directory: directory, options: ledgerOptions), network: network, options: options)
    }

    /// Refolds the ledger in `directory` (which another process may be
    /// serving) on one snapshot, without opening it for writing; with
    /// `checksums`, first checks every stored record's checksum.
    public static func verify(directory: String, checksums: Bool = false) throws(FulcrumError) -> VerificationReport {
        try LedgerVerifier.verify(directory: directory, checksums: checksums)
    }

    /// The kinds of stored record `records(directory:kind:owner:limit:)` lists.
    public typealias RecordKind = RecordDump.Kind

    /// The orchestration's stored records of one kind in `directory` (the
    /// server may be running), decoded, one JSON object each: `fulcrum records`.
    public static func records(directory: String, kind: RecordKind, owner: String?, limit: Int) throws(FulcrumError)
        -> [JSON]
    {
        let prefix = try RecordDump.prefix(kind, owner: owner)
        return try RecordScan.records(directory: directory, prefix: prefix, limit: limit).map { (record) throws(FulcrumError) in
            try RecordDump.line(key: record.key, value: record.value)
        }
    }

    /// A consistent, compacted copy of the ledger in `directory` at `path`, verified.
    public static func backup(directory: String, to path: String) throws(FulcrumError) -> VerificationReport {
        try LedgerBackup.copy(directory: directory, to: path)
    }

    public init(ledger: Ledger, network: Network, options: Options = Options()) {
        precondition(options.optimizeReserveAttemptsMax >= 1)
        self.ledger = ledger
        self.network = network
        self.options = options
        readers = ReaderPool(ledger: ledger, capacity: options.readersIdleMax)
        decisions = DecisionLog(capacity: options.decisionsKept)
        auditKeys = AuditKeys(clock: options.clock)
        profileTable = Mutex(options.profiles)
        snapshots = SnapshotStore(root: ledger.directory + "/snapshots")
        baselines = BaselinePricer(ledger: ledger, clock: options.clock)
    }

    /// The most recent solves, newest last.
    public var recentDecisions: [SolverDecision] { decisions.recent }

    /// Solves that an optimize-and-reserve repeated because its plan went stale.
    public var optimizeRetries: UInt64 { optimizeRetryCount.load(ordering: .relaxed) }

    // MARK: Reads

    public func position(node: String, sku: String) throws(FulcrumError) -> Position {
        try Names.validate(node, path: "node")
        try Names.validate(sku, path: "sku")
        return try readers.withReader { reader throws(FulcrumError) in try reader.position(node: node, sku: sku) }
    }

    public func reservation(order: String) throws(FulcrumError) -> Reservation? {
        try Names.validate(order, path: "order")
        return try readers.withReader { reader throws(FulcrumError) in try reader.reservation(order: order) }
    }

    /// The scheduled (not yet received) receipt or transfer in transit with this id, or nil.
    public func receipt(_ receipt: String) throws(FulcrumError) -> ScheduledReceipt? {
        try Names.validate(receipt, path: "receipt")
        return try readers.withReader { reader throws(FulcrumError) in try reader.receipt(receipt) }
    }

    /// Receipts not yet received (and transfers in transit) in id order after `after`, at `node` when given.
    public func receipts(node: String?, after: String?, limit: Int) throws(FulcrumError) -> [ScheduledReceipt] {
        try readers.withReader { reader throws(FulcrumError) in try reader.receipts(node: node, after: after, limit: limit) }
    }

    /// Channels' allocations, of `sku` and `channel` when given, at most `limit`.
    public func allocations(sku: String?, channel: String?, limit: Int) throws(FulcrumError) -> [Allocation] {
        try readers.withReader { reader throws(FulcrumError) in try reader.allocations(sku: sku, channel: channel, limit: limit) }
    }

    public func counts() throws(FulcrumError) -> (positions: Int, reservations: Int, entries: Int, receipts: Int) {
        try readers.withReader { reader throws(FulcrumError) in try reader.counts() }
    }

    /// Reservations in order-id order after `after`, at most `limit`, in `state` when given.
    public func reservations(state: ReservationState? = nil, after: String? = nil, limit: Int) throws(FulcrumError)
        -> [Reservation]
    {
        try readers.withReader { reader throws(FulcrumError) in
            try reader.reservations(state: state, after: after, limit: limit)
        }
    }

    /// Positions at `node` and of SKUs containing `skuContaining` (when given), at most `limit`.
    public func positions(node: String?, skuContaining: String?, limit: Int) throws(FulcrumError)
        -> [(key: PositionKey, position: Position)]
    {
        try readers.withReader { reader throws(FulcrumError) in
            try reader.positions(node: node, skuContaining: skuContaining, limit: limit)
        }
    }

    /// How many reservations are in each state.
    public func reservationCounts() throws(FulcrumError) -> [ReservationState: Int] {
        try readers.withReader { reader throws(FulcrumError) in try reader.reservationCounts() }
    }

    /// Available-to-promise of one SKU: at one node, at every node, or at
    /// the network's nodes nearest a point first.
    public func availableToPromise(_ query: AvailabilityQuery) throws(FulcrumError) -> Availability {
        try Names.validate(query.sku, path: "sku")
        if let node = query.node { try Names.validate(node, path: "node") }
        if !query.channel.isEmpty { try Names.validate(query.channel, path: "channel") }
        if let near = query.near {
            guard (-90...90).contains(near.latitude), (-180...180).contains(near.longitude) else {
                throw FulcrumError(.invalidArgument, "latitude must be in [-90, 90] and longitude in [-180, 180]", path: "near")
            }
            guard !network.nodes.isEmpty else {
                throw FulcrumError(
                    .invalidArgument, "near needs node locations: start fulcrumd with --network FILE or --demo",
                    path: "near")
            }
        }
        var nodes: [Availability.NodeAvailability]
        if let node = query.node {
            let available = try readers.withReader { reader throws(FulcrumError) in
                try reader.availableToPromise(node: node, sku: query.sku, on: query.on, channel: query.channel)
            }
            nodes = [.init(node: node, available: available)]
        } else {
            nodes = try readers.withReader { reader throws(FulcrumError) in
                try reader.availableToPromise(sku: query.sku, on: query.on, channel: query.channel).map {
                    .init(node: $0.node, available: $0.available)
                }
            }
        }
        if let near = query.near {
            let distances = network.distancesKilometers(from: near)
            nodes = nodes.compactMap { entry in
                distances[entry.node].map { .init(node: entry.node, available: entry.available, distanceKilometers: $0) }
            }
            nodes.sort { ($0.distanceKilometers!, $0.node) < ($1.distanceKilometers!, $1.node) }
        }
        return Availability(sku: query.sku, nodes: nodes)
    }

    // MARK: Writes

    /// Queues a ledger command; `completion` runs on the writer's thread once
    /// the command's group is durable, or at once with `overloaded`. For
    /// front ends that answer from a callback (the RPC server).
    public func submit(
        _ command: LedgerCommand, idempotencyKey: String? = nil,
        completion: @escaping @Sendable (Result<LedgerResult, FulcrumError>) -> Void
    ) {
        ledger.submit(command, idempotencyKey: idempotencyKey, completion: completion)
    }

    /// Expires the unconfirmed reservations whose time to live has passed by
    /// the ledger's clock; returns their orders.
    public func expireDue() async throws(FulcrumError) -> [String] {
        try await ledger.expireDue()
    }

    // MARK: Operations

    /// The ledger writer's counters now, and the commands waiting for it.
    public var writer: WriterCounters { ledger.counters }

    /// Refolds every entry and compares with the stored balances.
    public func verify() throws(FulcrumError) -> VerificationReport { try ledger.verify() }

    /// Checksum failures met so far, and the background scrubber's progress.
    public var integrity: (corruptRecords: Int, scrubbedRecords: Int, scrubPasses: Int) {
        let scrubbed = ledger.scrubbed
        return (ledger.corruptRecords, scrubbed.records, scrubbed.passes)
    }

    /// Stops accepting ledger commands and commits those queued. Idempotent.
    public func close() {
        baselines.finish()
        ledger.close()
    }

    // MARK: Solving

    /// An optimize request; one without `nodes` ships from the server's
    /// network (`--network` or `--demo`).
    public func decodeOptimizeRequest(json: Data) throws(FulcrumError) -> OptimizeRequest {
        try OptimizeRequest.decode(json: json, defaultNodes: try defaultNodes())
    }

    /// The nodes a request without its own uses: the live network's
    /// (`networkNodes()`), or nil when the server has none.
    public func defaultNodes() throws(FulcrumError) -> [Node]? { network.nodes.isEmpty ? nil : try networkNodes() }

    /// Validates a request read from the binary protocol. With `usesNetwork`
    /// its nodes are the network's, checked once when the server started.
    public func validate(_ request: OptimizeRequest, usesNetwork: Bool) throws(FulcrumError) {
        try request.validate(validatedNodeIDs: usesNetwork ? network.nodeIDs : nil)
    }

    /// Solves an optimize request; without `inventory`, against the
    /// ledger's available-to-promise at the request's nodes.
    public func optimize(_ request: OptimizeRequest, options: OptimizeOptions) throws(FulcrumError)
        -> OptimizeResponse
    {
        try solve(request, options: options).response
    }

    /// A solve, with the request as solved (catalogue, profile and places
    /// applied) and the stock it saw.
    func solve(_ request: OptimizeRequest, options: OptimizeOptions) throws(FulcrumError)
        -> (request: OptimizeRequest, options: OptimizeOptions, stock: [Stock], response: OptimizeResponse)
    {
        let started = DispatchTime.now().uptimeNanoseconds
        var request = try withCatalogue(request)
        var options = options
        try profiles.apply(to: &request, options: &options)
        let precisions = try Self.placeShipTo(&request)
        let stock: [Stock]
        if let inventory = request.inventory { stock = inventory } else { stock = try ledgerStock(for: request) }
        var response = try Optimizer.solve(request, availability: stock, options: options)
        Self.mark(&response, precisions)
        decisions.record(
            at: self.options.clock.now(), strategy: options.strategy, request: request, stock: stock, response: response)
        solveMetrics.record(
            options.strategy, response.status, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
        return (request, options, stock, response)
    }

    /// Solves one order against the ledger and reserves its plan's shipments
    /// in one reservation. When a concurrent change took the stock between
    /// the solve and the reservation (`insufficient_stock`), solves again,
    /// up to `optimizeReserveAttemptsMax` times, then answers `plan_conflict`.
    public func optimizeAndReserve(_ request: OptimizeRequest, options: OptimizeOptions, ttlSeconds: Int64)
        async throws(FulcrumError) -> OptimizedReservation
    {
        guard request.inventory == nil else {
            throw FulcrumError(.invalidArgument, "optimize-and-reserve uses the ledger's stock; omit inventory", path: "inventory")
        }
        guard request.orders.count == 1 else {
            throw FulcrumError(
                .invalidArgument, "optimize-and-reserve takes one order (each order is one atomic reservation)",
                path: "orders")
        }
        for attempt in 1...self.options.optimizeReserveAttemptsMax {
            let response = try optimize(request, options: options)
            let plan = response.plans[0]
            let lines = Self.reservationLines(plan, order: request.orders[0])
            guard !lines.isEmpty else {
                return OptimizedReservation(response: response, reservation: nil, attempts: attempt)
            }
            do {
                let reservation = try await reserve(
                    ReserveRequest(order: plan.order, lines: lines, ttlSeconds: ttlSeconds, channel: request.channel ?? ""))
                return OptimizedReservation(response: response, reservation: reservation, attempts: attempt)
            } catch FulcrumError.Code.insufficientStock {
                optimizeRetryCount.add(1, ordering: .relaxed)
            }
        }
        throw FulcrumError(
            .planConflict,
            "concurrent changes took the planned stock on all \(self.options.optimizeReserveAttemptsMax) attempts",
            path: "orders[0]")
    }

    /// Every (node, SKU) of the request's nodes and lines, at its ATP now.
    private func ledgerStock(for request: OptimizeRequest) throws(FulcrumError) -> [Stock] {
        let nodeIDs = Set(request.nodes.map(\.id))
        var skus = Set<String>()
        for order in request.orders { for line in order.lines { skus.insert(line.sku) } }
        return try readers.withReader { reader throws(FulcrumError) in
            try reader.availableToPromise(skus: skus.sorted(), channel: request.channel ?? "").compactMap { row in
                nodeIDs.contains(row.node) ? Stock(node: row.node, sku: row.sku, available: Int(clamping: max(0, row.available))) : nil
            }
        }
    }

    /// A plan's shipped units as reservation lines, one per (node, SKU).
    public static func reservationLines(_ plan: OptimizeResponse.Plan, order: Order) -> [ReservationLine] {
        let skuOfLine = Dictionary(uniqueKeysWithValues: order.lines.map { ($0.id, $0.sku) })
        var units: [PositionKey: Int64] = [:]
        for shipment in plan.shipments {
            for line in shipment.lines where line.quantity > 0 {
                let sku = skuOfLine[line.line]!
                units[PositionKey(node: shipment.node, sku: sku), default: 0] += Int64(line.quantity)
            }
        }
        return units.sorted { ($0.key.node, $0.key.sku) < ($1.key.node, $1.key.sku) }.map {
            ReservationLine(node: $0.key.node, sku: $0.key.sku, quantity: $0.value)
        }
    }
}

/// Ledger commands through the service, with their typed wrappers (`adjust`, `reserve`, ...).
extension Service: LedgerCommandExecutor {
    public func execute(_ command: LedgerCommand, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> LedgerResult
    {
        guard let counts = commandCounters(command) else { return try await ledger.execute(command, idempotencyKey: idempotencyKey) }
        return try await ledger.execute(command, idempotencyKey: idempotencyKey, attaching: counts)
    }
}

/// The orchestrator's port: its records and steps go through the service's ledger.
extension Service: FulfillmentBackend {
    public func available(sku: String) throws(FulcrumError) -> Int64 {
        try availableToPromise(AvailabilityQuery(sku: sku)).available
    }

    public func openReceipts(sku: String) throws(FulcrumError) -> [ScheduledReceipt] {
        try readers.withReader { reader throws(FulcrumError) in try reader.receipts(sku: sku, limit: Limits.pageItemsMax) }
            .filter { $0.open > 0 }.sorted { ($0.due, $0.receipt) < ($1.due, $1.receipt) }
    }

    public func profile(_ name: String?) throws(FulcrumError) -> FulfillmentProfile {
        try profiles.profile(name, path: "profile")
    }

    public func place(_ address: Address) -> Placement? { Self.place(address) }

    /// Where the shipped gazetteer places an address without coordinates
    /// (postal code, else city, region, country), or nil.
    public static func place(_ address: Address) -> Placement? {
        Gazetteer.shipped.place(country: address.country, region: address.region, postalCode: address.postalCode, city: address.city)
    }

    public func write(_ records: RecordBatch) async throws(FulcrumError) {
        try await ledger.write(records)
    }

    public func execute(_ command: LedgerCommand, attaching records: RecordBatch) async throws(FulcrumError)
        -> LedgerResult
    {
        try await ledger.execute(command, attaching: withCommandCounters(command, records)!)
    }

    public func record(_ key: [UInt8]) throws(FulcrumError) -> [UInt8]? {
        try readers.withReader { reader throws(FulcrumError) in try reader.record(key) }
    }

    public func records(prefix: [UInt8], after: [UInt8]?, limit: Int, reverse: Bool) throws(FulcrumError)
        -> [(key: [UInt8], value: [UInt8])]
    {
        try readers.withReader { reader throws(FulcrumError) in
            try reader.records(prefix: prefix, after: after, limit: limit, reverse: reverse)
        }
    }

    public func reservationLines(_ plan: OptimizeResponse.Plan, order: Order) -> [ReservationLine] {
        Self.reservationLines(plan, order: order)
    }

    /// Solves a live order; an optimal solve is then priced by nearest-first
    /// on the same stock, off this thread (`BaselinePricer`).
    public func source(_ request: OptimizeRequest, options: OptimizeOptions) throws(FulcrumError) -> OptimizeResponse {
        let solved = try solve(request, options: options)
        if solved.options.strategy == .optimal {
            baselines.price(
                BaselinePricer.Solve(
                    request: solved.request, stock: solved.stock, response: solved.response,
                    atMs: self.options.clock.now().millisecondsSinceEpoch))
        }
        return solved.response
    }
}

/// Tables the service keeps of its own records (the catalogue, the live network).
extension Service {
    /// Calls `body` with every record under `prefix`, in key order, read a page at a time.
    func forEachRecord(prefix: [UInt8], _ body: ([UInt8], [UInt8]) throws(FulcrumError) -> Void) throws(FulcrumError) {
        var after: [UInt8]?
        while true {
            let page = try records(prefix: prefix, after: after, limit: Limits.pageItemsMax, reverse: false)
            for (key, value) in page { try body(key, value) }
            after = page.last?.key
            if page.count < Limits.pageItemsMax { break }
        }
    }

    /// The table `cache` holds, else `load`'s, kept: when two callers load at
    /// once the first to finish wins, so a table an update changed since is never replaced.
    func loadOnce<Table: Sendable>(_ cache: borrowing Mutex<Table?>, _ load: () throws(FulcrumError) -> Table) throws(FulcrumError) -> Table {
        if let loaded = cache.withLock({ $0 }) { return loaded }
        let table = try load()
        return cache.withLock { current in
            if let current { return current }
            current = table
            return table
        }
    }
}

/// What `Service.availableToPromise` asks.
public struct AvailabilityQuery: Sendable, Hashable {
    public var sku: String
    /// One node, or every node holding the SKU.
    public var node: String?
    /// Count scheduled receipts due by this time; nil: available now.
    public var on: Timestamp?
    /// List the network's nodes by distance from this point.
    public var near: Location?
    /// Answer for this sales channel's reservations (its allocations and,
    /// when it overflows, unallocated stock); empty: a reservation without one.
    public var channel: String
    public init(sku: String, node: String? = nil, on: Timestamp? = nil, near: Location? = nil, channel: String = "") {
        self.sku = sku
        self.node = node
        self.on = on
        self.near = near
        self.channel = channel
    }
}

/// Available-to-promise per node and in total.
public struct Availability: Sendable, Hashable {
    public struct NodeAvailability: Sendable, Hashable {
        public var node: String
        public var available: Int64
        /// From the query's `near` point.
        public var distanceKilometers: Double?
        public init(node: String, available: Int64, distanceKilometers: Double? = nil) {
            self.node = node
            self.available = available
            self.distanceKilometers = distanceKilometers
        }
    }
    public var sku: String
    public var nodes: [NodeAvailability]
    /// Units available over the nodes listed (a node below zero counts as zero).
    public var available: Int64 { nodes.reduce(0) { $0 + max(0, $1.available) } }
}

/// An optimize-and-reserve's answer: the plan and the reservation made for it.
public struct OptimizedReservation: Sendable, Hashable {
    public var response: OptimizeResponse
    /// Nil when the plan ships nothing (every unit backordered).
    public var reservation: Reservation?
    /// Solves made: 1 unless concurrent changes made a plan stale.
    public var attempts: Int
}

/// Solve time by strategy and solves by strategy and status, through
/// swift-metrics. The handles are made once, so a solve records without a lookup.
private final class SolveMetrics: Sendable {
    private let timers: [Strategy: Metrics.Timer]
    private let counters: [String: Counter]

    init() {
        var timers: [Strategy: Metrics.Timer] = [:]
        var counters: [String: Counter] = [:]
        for strategy in Strategy.allCases {
            timers[strategy] = Metrics.Timer(label: "fulcrum_solver_solve_seconds", dimensions: [("strategy", strategy.rawValue)])
            for status in [OptimizeResponse.Status.optimal, .feasible] {
                counters[Self.key(strategy, status)] = Counter(
                    label: "fulcrum_solver_solves_total", dimensions: [("strategy", strategy.rawValue), ("status", status.rawValue)])
            }
        }
        self.timers = timers
        self.counters = counters
    }

    private static func key(_ strategy: Strategy, _ status: OptimizeResponse.Status) -> String {
        strategy.rawValue + "/" + status.rawValue
    }

    func record(_ strategy: Strategy, _ status: OptimizeResponse.Status, nanoseconds: UInt64) {
        timers[strategy]!.recordNanoseconds(Int64(clamping: nanoseconds))
        counters[Self.key(strategy, status)]!.increment()
    }
}
