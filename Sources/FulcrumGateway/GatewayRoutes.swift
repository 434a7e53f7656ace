import Foundation
import FulcrumCore
import FulcrumHTTP
import FulcrumService
import HTTPTypes
import Hummingbird
import Metrics
import Prometheus
import Synchronization

/// The gateway's routes, each a thin translation between JSON and the service.
struct GatewayRoutes: Sendable {
    let service: FulcrumService.Service
    let configuration: GatewayConfiguration

    func router() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        router.add(middleware: GatewayMiddleware(access: configuration.access, service: service))
        router.get("/health") { _, _ in Self.json(.object(["status": .string("ok")])) }
        if let registry = configuration.metrics {
            router.get("/metrics") { _, _ in try metrics(registry) }
        }
        router.get("/ready") { _, _ in
            _ = try service.counts()
            return Self.json(.object(["status": .string("ready")]))
        }
        router.get("/v1/atp") { request, _ in try await availability(request) }
        router.post("/v1/atp/batch") { request, _ in try await availabilityBatch(request) }
        router.post("/v1/adjust") { request, context in try await adjust(request, caller: context.caller) }
        router.get("/v1/audit") { request, _ in
            let entries = try service.auditTrail(
                before: request.uri.queryParameters["before"].map(String.init),
                limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["entries": .array(entries.map(\.json))]))
        }
        router.get("/v1/profiles") { _, _ in Self.json(service.profiles.json) }
        router.get("/v1/skus") { _, _ in Self.raw(GatewayJSON.encode(["skus": try service.skus()])) }
        router.put("/v1/skus") { request, context in
            let body = try await decode(GatewayJSON.SkusBody.self, request)
            let count = try await service.upsert(body.skus, caller: context.caller)
            return Self.json(.object(["upserted": .integer(Int64(count))]))
        }
        router.get("/v1/replication") { _, _ in try await replication() }
        router.get("/v1/nodes") { _, _ in Self.json(.object(["nodes": .array(try service.nodeStatuses().map(\.json))])) }
        router.get("/v1/nodes/:node") { request, context in
            let node = try Self.pathParameter(context, "node")
            let limit = try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax)
            return Self.json(try service.nodeStatus(node, changesMax: limit).json)
        }
        router.patch("/v1/nodes/:node") { request, context in
            let node = try Self.pathParameter(context, "node")
            let update = try await decode(NodeUpdate.self, request)
            return Self.json(try await service.updateNode(node, update, caller: context.caller).json)
        }
        router.post("/v1/profiles/reload") { _, context in
            Self.json(try await service.reloadProfiles(caller: context.caller).json)
        }
        router.post("/v1/receipts") { request, context in
            let body = try await decode(GatewayJSON.ScheduleBody.self, request)
            return try await execute(
                .schedule(ScheduleRequest(body.receipt)), key: body.idempotencyKey, caller: context.caller, status: .created)
        }
        router.get("/v1/receipts/:receipt") { _, context in try receipt(context) }
        router.get("/v1/receipts") { request, _ in
            let parameters = request.uri.queryParameters
            let receipts = try service.receipts(
                node: parameters["node"].map(String.init), after: parameters["after"].map(String.init),
                limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["receipts": .array(receipts.map(\.json))]))
        }
        router.post("/v1/receipts/:receipt/receive") { request, context in
            let body = try await decodeOptional(GatewayJSON.ReceiveBody.self, request)
            let command = LedgerCommand.receive(
                ReceiveRequest(receipt: try context.parameters.require("receipt"), quantity: body?.quantity))
            return try await execute(command, key: body?.idempotencyKey, caller: context.caller)
        }
        router.post("/v1/receipts/:receipt/reschedule") { request, context in
            let body = try await decode(GatewayJSON.RescheduleBody.self, request)
            let command = LedgerCommand.reschedule(
                RescheduleRequest(receipt: try Self.pathParameter(context, "receipt"), due: body.due))
            return try await execute(command, key: body.idempotencyKey, caller: context.caller)
        }
        router.post("/v1/transfers") { request, context in
            let body = try await decode(GatewayJSON.TransferBody.self, request)
            return try await execute(.transfer(body.request), key: body.idempotencyKey, caller: context.caller, status: .created)
        }
        router.post("/v1/reconcile") { request, _ in try await reconcile(request) }
        router.post("/v1/allocations") { request, context in
            let body = try await decode(GatewayJSON.AllocateBody.self, request)
            return try await execute(.allocate(body.allocation), key: body.idempotencyKey, caller: context.caller)
        }
        router.get("/v1/allocations") { request, _ in
            let parameters = request.uri.queryParameters
            let allocations = try service.allocations(
                sku: parameters["sku"].map(String.init), channel: parameters["channel"].map(String.init),
                limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["allocations": .array(allocations.map(\.json))]))
        }
        router.post("/v1/reservations") { request, _ in try await reserve(request) }
        router.get("/v1/reservations/:order") { request, context in
            let order = try Self.pathParameter(context, "order")
            try await waitForMinPosition(request)
            guard let reservation = try service.reservation(order: order) else {
                throw FulcrumError(.reservationNotFound, "no reservation for order \(order)", path: "order")
            }
            return Self.json(reservation.json)
        }
        for (action, command) in [
            ("confirm", LedgerCommand.confirm), ("ship", LedgerCommand.ship), ("release", LedgerCommand.release),
        ] {
            router.post("/v1/reservations/:order/\(action)") { request, context in
                let order = try Self.pathParameter(context, "order")
                let body = try await decodeOptional(GatewayJSON.TransitionBody.self, request)
                return try await execute(command(order), key: body?.idempotencyKey)
            }
        }
        router.get("/v1/positions") { request, _ in try positions(request) }
        router.get("/v1/reservations") { request, _ in try reservations(request) }
        router.post("/v1/events") { request, _ in try await submitEvent(request) }
        router.get("/v1/orders") { request, _ in
            let parameters = request.uri.queryParameters
            let orders = try service.orders(
                after: parameters["after"].map(String.init), limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["orders": .array(orders.map { .text(RecordCoding.text($0)) })]))
        }
        router.get("/v1/orders/:order") { request, context in
            let id = try Self.pathParameter(context, "order")
            guard let order = try service.order(id) else { throw FulcrumError(.notFound, "no order \(id)", path: "order") }
            let timeline = try service.timeline(order: id, limit: try Self.limit(request, default: Limits.timelineEntriesDefault, maximum: Limits.timelineEntriesMax))
            return Self.json(.orderedObject([("order", .text(RecordCoding.text(order))), ("timeline", .text(RecordCoding.text(timeline)))]))
        }
        router.post("/v1/orders/:order/reprocess") { _, context in
            let id = try Self.pathParameter(context, "order")
            let sequence = try await service.reprocess(order: id, source: "http")
            return Self.json(.object(["sequence": .integer(Int64(sequence))]), status: .accepted)
        }
        router.get("/v1/backorders") { request, _ in
            let backorders = try service.backorders(
                limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["backorders": .array(backorders.map(\.json))]))
        }
        router.get("/v1/insights") { request, _ in try insights(request) }
        router.get("/v1/anomalies") { request, _ in
            let anomalies = try service.anomalies(limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["anomalies": .array(anomalies.map(\.json))]))
        }
        router.get("/v1/alerts") { request, _ in
            let alerts = try service.alerts(limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
            return Self.json(.object(["alerts": .array(alerts.map(\.json))]))
        }
        router.get("/v1/decisions") { request, _ in
            let limit = try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax)
            return Self.raw(GatewayJSON.encode(["decisions": service.recentDecisions.suffix(limit).reversed().map(GatewayJSON.DecisionBody.init)]))
        }
        router.get("/v1/decisions/:id") { _, context in
            let text = try Self.pathParameter(context, "id")
            guard let id = UInt64(text), let decision = service.recentDecisions.first(where: { $0.id == id }) else {
                throw FulcrumError(.notFound, "no recent decision \(text) (the server keeps the latest only)", path: "id")
            }
            let explanation = try JSONSerialization.jsonObject(with: GatewayJSON.encode(try decision.explained()))
            let summary = try JSONSerialization.jsonObject(with: GatewayJSON.encode(GatewayJSON.DecisionBody(decision)))
            return Self.raw(try JSONSerialization.data(withJSONObject: ["decision": summary, "explain": explanation], options: [.sortedKeys]))
        }
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OperationsPage.html)))
        }
        router.post("/v1/optimize") { request, _ in try await optimize(request) }
        router.post("/v1/optimize-and-reserve") { request, _ in try await optimizeAndReserve(request) }
        return router
    }

    private func submitEvent(_ request: Request) async throws -> Response {
        let body = try decodeJSON(GatewayJSON.EventBody.self, from: try await self.body(request), snakeCase: true)
        let submission = try await service.submit(body.businessEvent, idempotencyKey: body.idempotencyKey)
        return Self.json(
            .orderedObject([("sequence", .integer(Int64(submission.sequence))), ("duplicate", .bool(submission.duplicate))]),
            status: submission.duplicate ? .ok : .accepted)
    }


    // MARK: Bodies

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        HTTPErrors.json(value, status: status)
    }

    static func raw(_ json: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    private func body(_ request: Request) async throws -> Data {
        let buffer = try await request.body.collect(upTo: configuration.bodyBytesMax)
        return Data(buffer.readableBytesView)
    }

    /// Not inlined: Swift 6.3.1 crashed (signal 11, splitting the coroutine
    /// of `reserve`) inlining this into the routes in release builds.
    @inline(never)
    private func decode<Body: Decodable>(_ type: Body.Type, _ request: Request) async throws -> Body {
        try decodeJSON(type, from: try await body(request))
    }

    /// A body that may be empty (a transition's optional idempotency key).
    private func decodeOptional<Body: Decodable>(_ type: Body.Type, _ request: Request) async throws -> Body? {
        let data = try await body(request)
        return data.isEmpty ? nil : try decodeJSON(type, from: data)
    }

    // MARK: Reads

    /// Gauges read at scrape time, then every metric in Prometheus's text format.
    private func metrics(_ registry: PrometheusCollectorRegistry) throws -> Response {
        Gauge(label: "fulcrum_ledger_queue_depth").record(service.writer.queueDepth)
        let integrity = service.integrity
        Gauge(label: "fulcrum_ledger_corrupt_records").record(integrity.corruptRecords)
        Gauge(label: "fulcrum_ledger_scrubbed_records").record(integrity.scrubbedRecords)
        Gauge(label: "fulcrum_ledger_scrub_passes").record(integrity.scrubPasses)
        let counts = try service.reservationCounts()
        for state in ReservationState.allCases {
            Gauge(label: "fulcrum_reservations", dimensions: [("state", state.description)]).record(counts[state] ?? 0)
        }
        recordInsightGauges(try service.insights(window: .hour))
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// The last hour's KPIs as gauges (NaN where a ratio has no orders to divide by).
    private func recordInsightGauges(_ report: InsightsReport) {
        let hour = [("window", InsightWindow.hour.rawValue)]
        let totals = report.totals
        Gauge(label: "fulcrum_kpi_orders_created", dimensions: hour).record(totals[.ordersCreated])
        Gauge(label: "fulcrum_kpi_orders_shipped", dimensions: hour).record(totals[.ordersShipped])
        for (label, value) in [
            ("fulcrum_kpi_fill_ratio", totals.fillRate), ("fulcrum_kpi_split_ratio", totals.splitRate),
            ("fulcrum_kpi_cost_per_order", totals.costPerOrder), ("fulcrum_kpi_savings", totals.savings),
            ("fulcrum_kpi_savings_ratio", totals.savingsRate),
            ("fulcrum_kpi_created_to_shipped_seconds", totals.createdToShippedSeconds),
        ] {
            Gauge(label: label, dimensions: hour).record(value ?? .nan)
        }
        Gauge(label: "fulcrum_orders_stuck").record(report.stuckOrdersCount)
        Gauge(label: "fulcrum_dead_letters").record(report.deadLetters)
        Gauge(label: "fulcrum_backorders_waiting").record(report.backordersWaiting)
        for node in report.nodes {
            Gauge(label: "fulcrum_node_utilization_ratio", dimensions: [("node", node.node)]).record(node.utilization ?? .nan)
        }
    }

    /// A read's `min_position` (a write's `Fulcrum-Log-Position`): waits,
    /// bounded, until this replica applied the log that far (`stale` after).
    private func waitForMinPosition(_ request: Request) async throws {
        guard let text = request.uri.queryParameters["min_position"] else { return }
        guard let position = UInt64(text) else {
            throw FulcrumError(.invalidArgument, "'\(text)' is not a log position", path: "min_position")
        }
        if position > service.logPosition { try await service.waitForLogPosition(position) }
    }

    private func availability(_ request: Request) async throws -> Response {
        try await waitForMinPosition(request)
        let parameters = request.uri.queryParameters
        guard let sku = parameters["sku"].map(String.init) else {
            throw FulcrumError(.invalidArgument, "the query needs sku", path: "sku")
        }
        var query = AvailabilityQuery(
            sku: sku, node: parameters["node"].map(String.init), channel: parameters["channel"].map(String.init) ?? "")
        if let on = parameters["on_ms"] {
            guard let milliseconds = Int64(on) else { throw FulcrumError(.invalidArgument, "'\(on)' is not epoch milliseconds", path: "on_ms") }
            query.on = Timestamp(millisecondsSinceEpoch: milliseconds)
        }
        if let near = parameters["near"] {
            let parts = near.split(separator: ",")
            guard parts.count == 2, let latitude = Double(parts[0]), let longitude = Double(parts[1]) else {
                throw FulcrumError(.invalidArgument, "'\(near)' is not LATITUDE,LONGITUDE", path: "near")
            }
            query.near = Location(latitude: latitude, longitude: longitude)
        }
        return Self.json(GatewayJSON.availability(try service.availableToPromise(query)))
    }

    /// KPIs over `window` (hour, day, week or month; day by default), stuck after `stuck_after_s`.
    private func insights(_ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        let text = parameters["window"].map(String.init) ?? InsightWindow.day.rawValue
        guard let window = InsightWindow(rawValue: text) else {
            throw FulcrumError(
                .invalidArgument, "'\(text)' is not a window (\(InsightWindow.allCases.map(\.rawValue).joined(separator: ", ")))",
                path: "window")
        }
        var stuckAfterSeconds = Limits.insightStuckAfterSecondsDefault
        if let stuck = parameters["stuck_after_s"] {
            guard let seconds = Int64(stuck) else {
                throw FulcrumError(.invalidArgument, "'\(stuck)' is not a number of seconds", path: "stuck_after_s")
            }
            stuckAfterSeconds = seconds
        }
        return Self.json(try service.insights(window: window, stuckAfterSeconds: stuckAfterSeconds).json)
    }

    /// `limit` from the query: 1...maximum, `default` when absent.
    static func limit(_ request: Request, default fallback: Int, maximum: Int) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return fallback }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            throw FulcrumError(.invalidArgument, "'\(text)' is not a limit in 1...\(maximum)", path: "limit")
        }
        return limit
    }

    /// This replica's view of its cluster and every replica's published position; null on a single node.
    private func replication() async throws -> Response {
        guard let status = service.replicaStatus else { return Self.json(.object(["replication": .null])) }
        let positions = (try? await service.replicaPositions()) ?? [:]
        return Self.json(.object(["replication": .orderedObject([
            ("cluster", .string(status.cluster)), ("name", .string(status.name)), ("role", .string(status.role)),
            ("term", .integer(Int64(status.term))), ("leader", status.leader.map(JSON.string) ?? .null),
            ("applied", .integer(Int64(status.applied))), ("head", .integer(Int64(status.head))),
            ("lag_entries", .integer(Int64(status.lagEntries))),
            ("replicas", .array(positions.sorted { $0.key < $1.key }.map { name, applied in
                .orderedObject([("name", .string(name)), ("applied", .integer(Int64(applied)))])
            })),
        ])]))
    }

    private func positions(_ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        let listed = try service.positions(
            node: parameters["node"].map(String.init), skuContaining: parameters["sku"].map(String.init),
            limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
        return Self.json(.object(["positions": .array(listed.map { $0.position.json($0.key) })]))
    }

    private func reservations(_ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        var state: ReservationState?
        if let text = parameters["state"] {
            guard let parsed = ReservationState.allCases.first(where: { $0.description == text }) else {
                throw FulcrumError(.invalidArgument, "'\(text)' is not a reservation state", path: "state")
            }
            state = parsed
        }
        let listed = try service.reservations(
            state: state, after: parameters["after"].map(String.init),
            limit: try Self.limit(request, default: Limits.pageItemsDefault, maximum: Limits.pageItemsMax))
        return Self.json(.object(["reservations": .array(listed.map(\.json))]))
    }

    private func availabilityBatch(_ request: Request) async throws -> Response {
        try await waitForMinPosition(request)
        let batch = try await decode(GatewayJSON.AvailabilityBatchBody.self, request)
        guard batch.queries.count <= Limits.batchItemsMax else {
            throw FulcrumError(.invalidArgument, "at most \(Limits.batchItemsMax) queries", path: "queries")
        }
        var answers: [JSON] = []
        for (index, query) in batch.queries.enumerated() {
            do {
                answers.append(GatewayJSON.availability(try service.availableToPromise(query.query)))
            } catch {
                throw error.within("queries[\(index)]")
            }
        }
        return Self.json(.object(["answers": .array(answers)]))
    }

    // MARK: Writes

    private func adjust(_ request: Request, caller: Caller) async throws -> Response {
        let body = try await decode(GatewayJSON.AdjustBody.self, request)
        let change: AdjustRequest.Change
        switch (body.set, body.delta) {
        case (let set?, nil): change = .set(set)
        case (nil, let delta?): change = .delta(delta)
        default: throw FulcrumError(.invalidArgument, "give exactly one of set and delta", path: "set")
        }
        let command = LedgerCommand.adjust(
            AdjustRequest(
                node: body.node, sku: body.sku, change: change, reason: body.reason ?? "", source: body.source ?? "",
                sourceReference: body.sourceReference ?? "", asOf: body.asOfMs.map(Timestamp.init(millisecondsSinceEpoch:))))
        return try await execute(command, key: body.idempotencyKey, caller: caller)
    }

    private func reconcile(_ request: Request) async throws -> Response {
        let body = try await decode(GatewayJSON.ReconcileBody.self, request)
        let reconciliation = try service.reconcile(
            body.counts.map(\.count), asOf: body.asOfMs.map(Timestamp.init(millisecondsSinceEpoch:)), nodes: body.nodes ?? [])
        return Self.json(reconciliation.json)
    }

    private func receipt(_ context: GatewayContext) throws -> Response {
        let id = try context.parameters.require("receipt")
        guard let receipt = try service.receipt(id) else {
            throw FulcrumError(.receiptNotFound, "no scheduled receipt \(id)", path: "receipt")
        }
        return Self.json(receipt.json)
    }

    private func reserve(_ request: Request) async throws -> Response {
        let body = try await decode(GatewayJSON.ReserveBody.self, request)
        return try await execute(.reserve(body.request), key: body.idempotencyKey, status: .created)
    }

    /// Runs a ledger command and answers its result once durable.
    private func execute(_ command: LedgerCommand, key: String?, caller: Caller? = nil, status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let result =
            if let caller {
                try await service.execute(command, idempotencyKey: key, caller: caller)
            } else {
                try await service.execute(command, idempotencyKey: key)
            }
        switch result {
        case .position(let key, let position): return Self.json(position.json(key), status: status)
        case .reservation(let reservation): return Self.json(reservation.json, status: status)
        case .receipt(let receipt): return Self.json(receipt.json, status: status)
        case .allocation(let allocation): return Self.json(allocation.json, status: status)
        case .expired, .positions, .recorded: preconditionFailure("the gateway sends no expiry, return or record commands")
        }
    }

    // MARK: Solving

    /// A path parameter, percent-decoded: order ids may hold spaces, `/`, `%`
    /// or any character, and reach the service as the RPC would send them.
    private static func pathParameter(_ context: some RequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw FulcrumError(.invalidArgument, "'\(raw)' is not a valid percent-encoded path segment", path: name)
        }
        return decoded
    }

    private func optimizerOptions(_ request: Request) throws -> OptimizeOptions {
        let parameters = request.uri.queryParameters
        var timeLimitMs: Int?
        if let limit = parameters["time_limit_ms"] {
            guard let milliseconds = Int(limit) else {
                throw FulcrumError(.invalidArgument, "'\(limit)' is not a whole number of milliseconds", path: "time_limit_ms")
            }
            timeLimitMs = milliseconds
        }
        return try OptimizeOptions(
            strategy: parameters["strategy"].map(String.init), timeLimitMs: timeLimitMs, explain: parameters["explain"] == "true")
    }

    private func optimize(_ request: Request) async throws -> Response {
        let options = try optimizerOptions(request)
        let problem = try service.decodeOptimizeRequest(json: try await body(request))
        return Self.raw(try service.optimize(problem, options: options).json())
    }

    private func optimizeAndReserve(_ request: Request) async throws -> Response {
        let options = try optimizerOptions(request)
        var ttlSeconds = ReserveRequest.defaultTTLSeconds
        if let ttl = request.uri.queryParameters["ttl_seconds"] {
            guard let seconds = Int64(ttl) else { throw FulcrumError(.invalidArgument, "'\(ttl)' is not seconds", path: "ttl_seconds") }
            ttlSeconds = seconds
        }
        let problem = try service.decodeOptimizeRequest(json: try await body(request))
        let result = try await service.optimizeAndReserve(problem, options: options, ttlSeconds: ttlSeconds)
        // The spec's response as it is, beside the reservation made for it.
        let response = try JSONSerialization.jsonObject(with: result.response.json())
        let reservation = try result.reservation.map { try JSONSerialization.jsonObject(with: Data($0.json.rendered.utf8)) }
        let object: [String: Any] = ["response": response, "reservation": reservation ?? NSNull(), "attempts": result.attempts]
        return Self.raw(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

/// What a gateway request carries beyond Hummingbird's own: who sent it.
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by `GatewayMiddleware` from the request's bearer token.
    var caller = Caller(token: "anonymous", request: "")

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Bearer-token check, scopes, and typed JSON errors for every route (and
/// for requests that match none).
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let access: AccessControl
    let metrics = OperationMetrics(protocol: "http", operations: Self.routes.values.flatMap(\.values))
    private let requestCounter = Counter()

    /// Numbers requests that bring no X-Request-Id of their own.
    final class Counter: Sendable {
        private let next = Atomic<UInt64>(0)
        func take() -> UInt64 { next.wrappingAdd(1, ordering: .relaxed).newValue }
    }

    /// Whose log position write answers carry.
    let service: FulcrumService.Service

    init(access: AccessControl, service: FulcrumService.Service) {
        self.access = access
        self.service = service
    }

    /// Set on every answered write: the log position it was answered at
    /// (a replica's; 0 on a single node), a read's `min_position` at any replica.
    static let logPositionField = HTTPField.Name("Fulcrum-Log-Position")!

    /// Probes of load balancers and orchestrators, and the operations page
    /// itself (static; its data comes from the guarded routes), need no token.
    static let openPaths: Set<String> = ["/health", "/ready", "/"]

    /// Each route's methods and their operations, named as the RPC's are
    /// (so the two protocols' series line up, and one table gives their scopes).
    static let routes: [String: [String: String]] = [
        "/": ["GET": "operations_page"], "/health": ["GET": "health"], "/ready": ["GET": "ready"],
        "/metrics": ["GET": "metrics"], "/v1/atp": ["GET": "atp"], "/v1/atp/batch": ["POST": "atp_batch"],
        "/v1/adjust": ["POST": "adjust"], "/v1/positions": ["GET": "positions"],
        "/v1/receipts": ["POST": "schedule", "GET": "receipts"], "/v1/receipts/{receipt}": ["GET": "receipt"],
        "/v1/receipts/{receipt}/receive": ["POST": "receive"], "/v1/receipts/{receipt}/reschedule": ["POST": "reschedule"], "/v1/transfers": ["POST": "transfer"],
        "/v1/reconcile": ["POST": "reconcile"], "/v1/allocations": ["POST": "allocate", "GET": "allocations"], "/v1/backorders": ["GET": "backorders"], "/v1/insights": ["GET": "insights"], "/v1/alerts": ["GET": "alerts"], "/v1/anomalies": ["GET": "anomalies"],
        "/v1/reservations": ["POST": "reserve", "GET": "reservations"],
        "/v1/reservations/{order}": ["GET": "get_reservation"], "/v1/reservations/{order}/confirm": ["POST": "confirm"],
        "/v1/reservations/{order}/ship": ["POST": "ship"], "/v1/reservations/{order}/release": ["POST": "release"],
        "/v1/optimize": ["POST": "optimize"], "/v1/optimize-and-reserve": ["POST": "optimize_and_reserve"],
        "/v1/decisions": ["GET": "decisions"], "/v1/decisions/{id}": ["GET": "decision"],
        "/v1/events": ["POST": "submit_event"], "/v1/orders": ["GET": "orders"], "/v1/orders/{order}": ["GET": "order"],
        "/v1/orders/{order}/reprocess": ["POST": "reprocess"], "/v1/audit": ["GET": "audit"],
        "/v1/profiles": ["GET": "profiles"], "/v1/profiles/reload": ["POST": "reload_profiles"],
        "/v1/skus": ["GET": "skus", "PUT": "upsert_skus"], "/v1/nodes": ["GET": "nodes"],
        "/v1/replication": ["GET": "replication"],
        "/v1/nodes/{node}": ["GET": "node", "PATCH": "update_node"],
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let arrived = DispatchTime.now().uptimeNanoseconds
        var context = context
        var response = await respond(request, context: &context, next: next)
        if request.method != .get && request.method != .head && response.status.code < 300 {
            response.headers[Self.logPositionField] = String(service.logPosition)
        }
        let operation = context.endpointPath.flatMap { Self.routes[$0]?[request.method.rawValue] } ?? "unknown"
        metrics.record(
            operation, failed: response.status.code >= 400, nanoseconds: DispatchTime.now().uptimeNanoseconds - arrived)
        return response
    }

    private func respond(_ request: Request, context: inout Context, next: (Request, Context) async throws -> Response) async
        -> Response
    {
        do {
            if !Self.openPaths.contains(request.uri.path) {
                let grant = try authenticate(request)
                let operation = context.endpointPath.flatMap { Self.routes[$0]?[request.method.rawValue] }
                if let scope = operation.flatMap({ Scope.byOperation[$0] }) { try grant.check(scope, for: operation!) }
                context.caller = Caller(token: grant.name, request: "http:" + requestID(request))
            }
            return try await next(request, context)
        } catch let error as FulcrumError {
            return Self.response(error)
        } catch let error as any HTTPResponseError {
            let allowed = Self.methods(of: request.uri.path)
            let code: FulcrumError.Code =
                switch error.status {
                case .notFound where allowed != nil: .methodNotAllowed
                case .notFound: .notFound
                case .contentTooLarge: .payloadTooLarge
                default: .invalidArgument
                }
            var response = Self.response(FulcrumError(code, "\(request.method) \(request.uri.path): \(code)", path: request.uri.path))
            if code == .methodNotAllowed, let allowed { response.headers[.allow] = allowed }
            return response
        } catch {
            return Self.response(FulcrumError(.storage, "\(error)", path: request.uri.path))
        }
    }

    /// The methods of the route `path` matches (any value in a `{parameter}`),
    /// as an Allow header, or nil: a request to a route with another method
    /// is 405, not 404.
    static func methods(of path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.first { template, _ in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == segments.count && zip(parts, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map { $0.value.keys.sorted().joined(separator: ", ") }
    }

    private func authenticate(_ request: Request) throws(FulcrumError) -> Grant {
        guard access.table.required else { return Grant.everything(name: "anonymous") }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw FulcrumError(.unauthenticated, "send Authorization: Bearer TOKEN", path: "Authorization")
        }
        do {
            return try access.authenticate(secret: String(header.dropFirst(7)))
        } catch {
            throw FulcrumError(.unauthenticated, "the bearer token is not (or no longer) one of the server's", path: "Authorization")
        }
    }

    /// The client's X-Request-Id when it is short and printable, else a number of ours.
    private func requestID(_ request: Request) -> String {
        if let given = request.headers[HTTPField.Name("X-Request-Id")!], (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        {
            return given
        }
        return String(requestCounter.take())
    }

    static func response(_ error: FulcrumError) -> Response {
        HTTPErrors.response(error)
    }
}
