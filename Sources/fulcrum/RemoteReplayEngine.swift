import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumReplay
import FulcrumWire

/// Drives a replay through a running fulcrumd over the binary RPC. The
/// server's clock is the wall clock, so a reservation's simulated expiry is
/// a release sent at its simulated time.
///
/// Every SKU goes to the server as `NAMESPACE/SKU`, so the replay's
/// positions are its own and no live position (same node, the scenario's SKU
/// name) is ever changed; reports keep the scenario's names.
final class RemoteReplayEngine: ReplayEngine {
    private let client: FulcrumClient
    let namespace: String

    init(client: FulcrumClient, namespace: String) {
        self.client = client
        self.namespace = namespace
    }

    /// The server's name of a scenario SKU.
    func name(_ sku: String) -> String { namespace + "/" + sku }

    /// How many positions the server already holds for these (scenario) SKUs in this namespace.
    func existingPositions(skus: [String]) async throws(FulcrumError) -> Int {
        var count = 0
        for window in stride(from: 0, to: skus.count, by: Limits.batchItemsMax) {
            var batch = Fulcrum_V1_AtpBatchRequest()
            batch.queries = skus[window..<min(window + Limits.batchItemsMax, skus.count)].map { sku in
                Fulcrum_V1_AtpRequest.with { $0.sku = name(sku) }
            }
            count += try await client.atpBatch(batch).answers.reduce(0) { $0 + $1.nodes.count }
        }
        return count
    }

    func advance(to time: Timestamp) async throws(FulcrumError) {}

    func setStock(_ positions: [StockPlan.Position]) async throws(FulcrumError) {
        for window in stride(from: 0, to: positions.count, by: Limits.batchItemsMax) {
            var batch = Fulcrum_V1_AdjustBatchRequest()
            batch.items = positions[window..<min(window + Limits.batchItemsMax, positions.count)].map { position in
                var item = Fulcrum_V1_AdjustRequest()
                item.node = position.node
                item.sku = name(position.sku)
                item.set = Int64(position.onHand)
                item.reason = "scenario start"
                return item
            }
            for item in try await client.adjustBatch(batch).items {
                if case .error(let error)? = item.result { throw FulcrumError(wire: error) }
            }
        }
        for position in positions {
            var request = Fulcrum_V1_SetSafetyStockRequest()
            request.node = position.node
            request.sku = name(position.sku)
            request.quantity = Int64(position.safetyStock)
            _ = try await client.setSafetyStock(request)
        }
    }

    func adjust(_ request: AdjustRequest) async throws(FulcrumError) {
        var item = Fulcrum_V1_AdjustRequest()
        item.node = request.node
        item.sku = name(request.sku)
        if case .delta(let delta) = request.change { item.delta = delta }
        if case .set(let count) = request.change { item.set = count }
        item.reason = request.reason
        _ = try await client.adjust(item)
    }

    func available(node: String, sku: String) async throws(FulcrumError) -> Int64 {
        var request = Fulcrum_V1_AtpRequest()
        request.sku = name(sku)
        request.node = node
        return try await client.atp(request).available
    }

    func transfer(_ request: TransferRequest) async throws(FulcrumError) {
        _ = try await client.transfer(.with {
            $0.transfer = request.transfer
            $0.fromNode = request.fromNode
            $0.toNode = request.toNode
            $0.sku = name(request.sku)
            $0.quantity = request.quantity
            $0.dueMs = request.due.millisecondsSinceEpoch
        })
    }

    func schedule(_ receipt: ScheduledReceipt) async throws(FulcrumError) {
        var request = Fulcrum_V1_ScheduleRequest()
        request.receipt = receipt.receipt
        request.node = receipt.node
        request.sku = name(receipt.sku)
        request.quantity = receipt.quantity
        request.dueMs = receipt.due.millisecondsSinceEpoch
        _ = try await client.schedule(request)
    }

    func receive(receipt: String) async throws(FulcrumError) {
        var request = Fulcrum_V1_ReceiveRequest()
        request.receipt = receipt
        _ = try await client.receive(request)
    }

    func optimize(_ request: OptimizeRequest, options: OptimizeOptions) async throws(FulcrumError)
        -> [OptimizeResponse.Plan]
    {
        var named = request
        for index in named.orders.indices {
            for line in named.orders[index].lines.indices { named.orders[index].lines[line].sku = name(named.orders[index].lines[line].sku) }
        }
        for index in named.skus.indices { named.skus[index].id = name(named.skus[index].id) }
        var message = Fulcrum_V1_OptimizeRequest()
        message.problem = .init(named)
        message.strategy = options.strategy.rawValue
        message.timeLimitMs = UInt32(options.timeLimitMilliseconds)
        return try await client.optimize(message).solution.domain().plans
    }

    func reserve(_ request: ReserveRequest) async throws(FulcrumError) {
        var message = Fulcrum_V1_ReserveRequest()
        message.order = request.order
        message.ttlSeconds = request.ttlSeconds
        message.lines = request.lines.map { line in
            var wire = Fulcrum_V1_ReservationLine()
            wire.node = line.node
            wire.sku = name(line.sku)
            wire.quantity = line.quantity
            return wire
        }
        _ = try await client.reserve(message)
    }

    func confirm(order: String) async throws(FulcrumError) { _ = try await client.confirm(order: order) }

    func ship(order: String) async throws(FulcrumError) { _ = try await client.ship(order: order) }

    func expire(orders: [String]) async throws(FulcrumError) {
        for order in orders { _ = try await client.release(order: order) }
    }
}
