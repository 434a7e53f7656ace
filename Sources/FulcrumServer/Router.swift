import Foundation
import FulcrumCore
import FulcrumService
import FulcrumWire
import NIOCore
import SwiftProtobuf
import Synchronization

/// Decodes a request's payload, runs it on the service, and answers through
/// its `Responder`. Reads answer at once on the event loop; writes answer
/// when the ledger's group commit is durable; solves run off the event loop.
struct Router: Sendable {
    let service: Service
    let state: ServerState

    func route(_ frame: Frame, _ responder: Responder, caller: Caller) {
        do throws(FulcrumError) {
            switch frame.opcode {
            case .health: responder.succeed(health())
            case .stats: responder.succeed(try stats())
            case .atp:
                let request = try Fulcrum_V1_AtpRequest(payload: frame.payload)
                guard readable(after: request.minPosition, frame, responder, caller) else { break }
                responder.succeed(Fulcrum_V1_AtpResponse(try service.availableToPromise(AvailabilityQuery(request))))
            case .atpBatch:
                let request = try Fulcrum_V1_AtpBatchRequest(payload: frame.payload)
                guard readable(after: request.minPosition, frame, responder, caller) else { break }
                responder.succeed(try atpBatch(request))
            case .adjust:
                let request = try Fulcrum_V1_AdjustRequest(payload: frame.payload)
                submit(try LedgerCommand(request, path: ""), key: request.idempotencyKey, caller, responder)
            case .adjustBatch: try adjustBatch(try Fulcrum_V1_AdjustBatchRequest(payload: frame.payload), caller, responder)
            case .schedule:
                let request = try Fulcrum_V1_ScheduleRequest(payload: frame.payload)
                let receipt = ScheduledReceipt(
                    receipt: request.receipt, node: request.node, sku: request.sku, quantity: request.quantity,
                    due: Timestamp(millisecondsSinceEpoch: request.dueMs))
                submit(.schedule(ScheduleRequest(receipt)), key: request.idempotencyKey, caller, responder)
            case .receive:
                let request = try Fulcrum_V1_ReceiveRequest(payload: frame.payload)
                let command = LedgerCommand.receive(
                    ReceiveRequest(receipt: request.receipt, quantity: request.quantity == 0 ? nil : request.quantity))
                submit(command, key: request.idempotencyKey, caller, responder)
            case .reschedule:
                let request = try Fulcrum_V1_RescheduleRequest(payload: frame.payload)
                let command = LedgerCommand.reschedule(
                    RescheduleRequest(receipt: request.receipt, due: Timestamp(millisecondsSinceEpoch: request.dueMs)))
                submit(command, key: request.idempotencyKey, caller, responder)
            case .transfer:
                let request = try Fulcrum_V1_TransferRequest(payload: frame.payload)
                submit(LedgerCommand(request), key: request.idempotencyKey, caller, responder)
            case .reconcile:
                let request = try Fulcrum_V1_ReconcileRequest(payload: frame.payload)
                let reconciliation = try service.reconcile(
                    request.counts.map { StockCount(node: $0.node, sku: $0.sku, quantity: $0.quantity) },
                    asOf: request.asOfMs == 0 ? nil : Timestamp(millisecondsSinceEpoch: request.asOfMs), nodes: request.nodes)
                responder.succeed(Fulcrum_V1_ReconcileResponse(reconciliation))
            case .allocate:
                let request = try Fulcrum_V1_AllocateRequest(payload: frame.payload)
                let allocation = try Fulcrum_V1_Allocation.with {
                    $0.sku = request.sku
                    $0.node = request.node
                    $0.channel = request.channel
                    if request.hasQuantity { $0.quantity = request.quantity }
                    if request.hasShareBasisPoints { $0.shareBasisPoints = request.shareBasisPoints }
                    $0.overflow = request.hasOverflow ? request.overflow : true
                    $0.expiresMs = request.expiresMs
                }.domain()
                submit(.allocate(allocation), key: request.idempotencyKey, caller, responder)
            case .allocations:
                let request = try Fulcrum_V1_AllocationsRequest(payload: frame.payload)
                let allocations = try service.allocations(
                    sku: request.sku.isEmpty ? nil : request.sku, channel: request.channel.isEmpty ? nil : request.channel,
                    limit: try Self.pageLimit(request.limit))
                responder.succeed(Fulcrum_V1_AllocationsResponse.with { $0.allocations = allocations.map(Fulcrum_V1_Allocation.init) })
            case .setSafetyStock:
                let request = try Fulcrum_V1_SetSafetyStockRequest(payload: frame.payload)
                let command = LedgerCommand.setSafetyStock(
                    SetSafetyStockRequest(node: request.node, sku: request.sku, quantity: request.quantity))
                submit(command, key: request.idempotencyKey, caller, responder)
            case .reserve:
                let request = try Fulcrum_V1_ReserveRequest(payload: frame.payload)
                submit(LedgerCommand(request), key: request.idempotencyKey, caller, responder)
            case .getReservation:
                let request = try Fulcrum_V1_OrderRequest(payload: frame.payload)
                guard readable(after: request.minPosition, frame, responder, caller) else { break }
                guard let reservation = try service.reservation(order: request.order) else {
                    throw FulcrumError(.reservationNotFound, "no reservation for order \(request.order)", path: "order")
                }
                responder.succeed(Fulcrum_V1_ReservationResponse.with { $0.reservation = .init(reservation) })
            case .confirm, .ship, .release:
                let request = try Fulcrum_V1_OrderRequest(payload: frame.payload)
                let command: LedgerCommand =
                    switch frame.opcode {
                    case .confirm: .confirm(order: request.order)
                    case .ship: .ship(order: request.order)
                    default: .release(order: request.order)
                    }
                submit(command, key: request.idempotencyKey, caller, responder)
            case .optimize: optimize(try Fulcrum_V1_OptimizeRequest(payload: frame.payload), responder)
            case .optimizeAndReserve:
                optimizeAndReserve(try Fulcrum_V1_OptimizeAndReserveRequest(payload: frame.payload), responder)
            case .submitEvent, .getOrder, .reprocess, .pullOutbox, .acknowledge, .deadLetters, .replayDeadLetter, .backorders, .insights:
                try OrchestrationRoutes(service: service).route(frame, responder, caller: caller)
            case .audit: responder.succeed(try audit(try Fulcrum_V1_AuditRequest(payload: frame.payload)))
            case .profiles:
                _ = try Fulcrum_V1_ProfilesRequest(payload: frame.payload)
                responder.succeed(Fulcrum_V1_ProfilesResponse(service.profiles))
            case .skus:
                _ = try Fulcrum_V1_SkusRequest(payload: frame.payload)
                let skus = try service.skus()
                responder.succeed(Fulcrum_V1_SkusResponse.with { $0.skus = skus.map(Fulcrum_V1_Sku.init) })
            case .upsertSkus:
                let request = try Fulcrum_V1_SkusRequest(payload: frame.payload)
                let service = self.service
                Task {
                    do throws(FulcrumError) {
                        let skus = request.skus.map(\.domain)
                        _ = try await service.upsert(skus, caller: caller)
                        responder.succeed(Fulcrum_V1_SkusResponse.with { $0.skus = skus.map(Fulcrum_V1_Sku.init) })
                    } catch {
                        responder.fail(error)
                    }
                }
            case .nodes:
                let request = try Fulcrum_V1_NodesRequest(payload: frame.payload)
                let statuses =
                    request.node.isEmpty
                    ? try service.nodeStatuses()
                    : [try service.nodeStatus(request.node, changesMax: request.limit == 0 ? Limits.pageItemsDefault : Int(request.limit))]
                responder.succeed(Fulcrum_V1_NodesResponse.with { $0.nodes = statuses.map(Fulcrum_V1_NodeStatus.init) })
            case .updateNode:
                let request = try Fulcrum_V1_UpdateNodeRequest(payload: frame.payload)
                let service = self.service
                Task {
                    do throws(FulcrumError) {
                        let status = try await service.updateNode(request.node, request.domain, caller: caller)
                        responder.succeed(Fulcrum_V1_NodesResponse.with { $0.nodes = [.init(status)] })
                    } catch {
                        responder.fail(error)
                    }
                }
            case .reloadProfiles:
                _ = try Fulcrum_V1_ProfilesRequest(payload: frame.payload)
                let service = self.service
                Task {
                    do throws(FulcrumError) {
                        responder.succeed(Fulcrum_V1_ProfilesResponse(try await service.reloadProfiles(caller: caller)))
                    } catch {
                        responder.fail(error)
                    }
                }
            case .snapshot:
                let request = try Fulcrum_V1_SnapshotRequest(payload: frame.payload)
                let service = self.service
                Task {
                    do throws(FulcrumError) {
                        let chunk = try service.snapshot(request.snapshot.isEmpty ? nil : request.snapshot, offset: request.offset)
                        responder.succeed(Fulcrum_V1_SnapshotResponse(chunk))
                    } catch {
                        responder.fail(error)
                    }
                }
            default:
                throw FulcrumError(.unknownOperation, "opcode \(frame.opcode.rawValue) is not an operation", path: "opcode")
            }
        } catch {
            responder.fail(error)
        }
    }

    private func health() -> Fulcrum_V1_HealthResponse {
        .with {
            $0.ready = !state.draining.load(ordering: .relaxed)
            $0.version = FulcrumVersion.string
            $0.uptimeMs = (NIODeadline.now() - state.started).nanoseconds.magnitude / 1_000_000
        }
    }

    private func stats() throws(FulcrumError) -> Fulcrum_V1_StatsResponse {
        let counts = try service.counts()
        let writer = service.writer
        return .with {
            $0.positions = UInt64(counts.positions)
            $0.reservations = UInt64(counts.reservations)
            $0.entries = UInt64(counts.entries)
            $0.receipts = UInt64(counts.receipts)
            $0.writerGroups = UInt64(writer.groups)
            $0.writerCommands = UInt64(writer.commands)
            $0.writerRejected = UInt64(writer.rejected)
            $0.writerQueueDepth = UInt64(writer.queueDepth)
            let connections = state.connections.counts
            $0.connections = UInt64(connections.pending + connections.admitted)
            $0.requests = state.requests.load(ordering: .relaxed)
            $0.requestsFailed = state.requestsFailed.load(ordering: .relaxed)
            $0.optimizeRetries = service.optimizeRetries
            $0.eventsQueued = UInt64(service.eventsQueued)
            let integrity = service.integrity
            $0.corruptRecords = UInt64(integrity.corruptRecords)
            $0.scrubbedRecords = UInt64(integrity.scrubbedRecords)
            if let replica = service.replicaStatus { $0.replication = .init(replica) }
        }
    }

    private func audit(_ request: Fulcrum_V1_AuditRequest) throws(FulcrumError) -> Fulcrum_V1_AuditResponse {
        let entries = try service.auditTrail(
            before: request.before.isEmpty ? nil : request.before, limit: request.limit == 0 ? 100 : Int(request.limit))
        return .with { $0.entries = entries.map(Fulcrum_V1_AuditEntry.init) }
    }

    /// Whether a read may be answered now: this replica applied the log
    /// through `minPosition` (always so for 0). Else the frame is routed
    /// again once it has (bounded: `stale`), off the hot path, and false.
    private func readable(after minPosition: UInt64, _ frame: Frame, _ responder: Responder, _ caller: Caller) -> Bool {
        guard minPosition > service.logPosition else { return true }
        Task { [self] in
            do throws(FulcrumError) {
                try await service.waitForLogPosition(minPosition)
                route(frame, responder, caller: caller)
            } catch {
                responder.fail(error)
            }
        }
        return false
    }

    private func atpBatch(_ request: Fulcrum_V1_AtpBatchRequest) throws(FulcrumError) -> Fulcrum_V1_AtpBatchResponse {
        try Self.checkBatch(request.queries.count, path: "queries")
        var response = Fulcrum_V1_AtpBatchResponse()
        response.answers.reserveCapacity(request.queries.count)
        for (index, query) in request.queries.enumerated() {
            do {
                response.answers.append(.init(try service.availableToPromise(AvailabilityQuery(query))))
            } catch {
                throw error.within("queries[\(index)]")
            }
        }
        return response
    }

    /// Each item is its own ledger command; the answer lists every item's
    /// position or error, in order, once the last is durable.
    private func adjustBatch(_ request: Fulcrum_V1_AdjustBatchRequest, _ caller: Caller, _ responder: Responder)
        throws(FulcrumError)
    {
        try Self.checkBatch(request.items.count, path: "items")
        let results = BatchResults(count: request.items.count, service: service)
        for (index, item) in request.items.enumerated() {
            let path = "items[\(index)]"
            let command: LedgerCommand
            do {
                command = try LedgerCommand(item, path: path)
            } catch {
                results.set(index, .failure(error), then: responder)
                continue
            }
            service.submit(command, idempotencyKey: idempotencyKey(item.idempotencyKey), caller: caller) { result in
                let item = result.mapError { $0.within(path) }
                results.set(index, item, then: responder)
            }
        }
    }

    /// A list's `limit` (0: the default page), within `Limits.pageItemsMax`.
    private static func pageLimit(_ limit: UInt32) throws(FulcrumError) -> Int {
        guard limit <= Limits.pageItemsMax else {
            throw FulcrumError(.invalidArgument, "limit \(limit) is above \(Limits.pageItemsMax)", path: "limit")
        }
        return limit == 0 ? Limits.pageItemsDefault : Int(limit)
    }

    private static func checkBatch(_ count: Int, path: String) throws(FulcrumError) {
        guard count >= 1, count <= Limits.batchItemsMax else {
            throw FulcrumError(.invalidArgument, "\(count) items; a batch holds 1 to \(Limits.batchItemsMax)", path: path)
        }
    }

    /// Queues a ledger command; the answer is written once it is durable.
    private func submit(_ command: LedgerCommand, key: String, _ caller: Caller, _ responder: Responder) {
        service.submit(command, idempotencyKey: idempotencyKey(key), caller: caller) { result in
            let logPosition = service.logPosition  // read after the write applied
            responder.complete { () throws(FulcrumError) in Self.payload(of: try result.get(), logPosition: logPosition) }
        }
    }

    static func payload(of result: LedgerResult, logPosition: UInt64) -> ByteBuffer {
        switch result {
        case .position(let key, let position):
            Fulcrum_V1_PositionResponse.with {
                $0.position = .init(key, position)
                $0.logPosition = logPosition
            }.payload()
        case .reservation(let reservation):
            Fulcrum_V1_ReservationResponse.with {
                $0.reservation = .init(reservation)
                $0.logPosition = logPosition
            }.payload()
        case .receipt(let receipt):
            Fulcrum_V1_ScheduleResponse.with {
                $0.receipt = receipt.receipt
                $0.node = receipt.node
                $0.sku = receipt.sku
                $0.quantity = receipt.quantity
                $0.dueMs = receipt.due.millisecondsSinceEpoch
                $0.fromNode = receipt.fromNode
                $0.promised = receipt.promised
                $0.logPosition = logPosition
            }.payload()
        case .allocation(let allocation):
            Fulcrum_V1_AllocationResponse.with {
                $0.allocation = .init(allocation)
                $0.logPosition = logPosition
            }.payload()
        case .expired, .positions, .recorded:
            preconditionFailure("no opcode runs expireDue or returnToStock, or writes records alone")
        }
    }

    private func optimize(_ request: Fulcrum_V1_OptimizeRequest, _ responder: Responder) {
        let service = self.service
        Task {
            do throws(FulcrumError) {
                let options = try Self.options(
                    strategy: request.strategy, timeLimitMilliseconds: request.timeLimitMs,
                    explain: request.explain)
                let problem = try Self.problem(request.problem, service)
                let response = try service.optimize(problem, options: options)
                responder.succeed(Fulcrum_V1_OptimizeResponse.with { $0.solution = .init(response) })
            } catch {
                responder.fail(error)
            }
        }
    }

    private func optimizeAndReserve(_ request: Fulcrum_V1_OptimizeAndReserveRequest, _ responder: Responder) {
        let service = self.service
        Task {
            do throws(FulcrumError) {
                let options = try Self.options(
                    strategy: request.strategy, timeLimitMilliseconds: request.timeLimitMs, explain: false)
                let problem = try Self.problem(request.problem, service)
                let ttlSeconds = request.ttlSeconds == 0 ? ReserveRequest.defaultTTLSeconds : request.ttlSeconds
                let result = try await service.optimizeAndReserve(problem, options: options, ttlSeconds: ttlSeconds)
                responder.succeed(Fulcrum_V1_OptimizeAndReserveResponse.with {
                    $0.solution = .init(result.response)
                    if let reservation = result.reservation { $0.reservations = [.init(reservation)] }
                    $0.attempts = UInt32(result.attempts)
                    $0.logPosition = service.logPosition
                })
            } catch {
                responder.fail(error)
            }
        }
    }

    /// The request a message carries, validated; one without nodes is solved
    /// on the server's network, which is not checked again.
    private static func problem(_ message: Fulcrum_V1_OptimizeProblem, _ service: Service) throws(FulcrumError)
        -> OptimizeRequest
    {
        // The network's nodes (read with today's capacity left) only when the request names none.
        let request = try message.domain(defaultNodes: message.nodes.isEmpty ? try service.defaultNodes() : nil)
        try service.validate(request, usesNetwork: message.nodes.isEmpty)
        return request
    }

    /// The RPC's zero values mean "not given".
    private static func options(strategy: String, timeLimitMilliseconds: UInt32, explain: Bool) throws(FulcrumError)
        -> OptimizeOptions
    {
        try OptimizeOptions(
            strategy: strategy.isEmpty ? nil : strategy,
            timeLimitMs: timeLimitMilliseconds == 0 ? nil : Int(timeLimitMilliseconds), explain: explain)
    }
}

/// Collects a bulk request's per-item results from the writer thread.
private final class BatchResults: Sendable {
    private let results: Mutex<(items: [Result<LedgerResult, FulcrumError>?], missing: Int)>
    private let service: Service

    init(count: Int, service: Service) {
        results = Mutex((Array(repeating: nil, count: count), count))
        self.service = service
    }

    func set(_ index: Int, _ result: Result<LedgerResult, FulcrumError>, then responder: Responder) {
        let complete: [Result<LedgerResult, FulcrumError>?]? = results.withLock { state in
            precondition(state.items[index] == nil, "each item completes once")
            state.items[index] = result
            state.missing -= 1
            return state.missing == 0 ? state.items : nil
        }
        guard let complete else { return }
        responder.succeed(Fulcrum_V1_AdjustBatchResponse.with { response in
            response.items = complete.map { result in
                .with {
                    switch result! {
                    case .success(.position(let key, let position)): $0.position = .init(key, position)
                    case .success(let other): preconditionFailure("adjust returns a position, not \(other)")
                    case .failure(let error): $0.error = error.wire
                    }
                }
            }
            response.logPosition = service.logPosition
        })
    }
}
