import Foundation
import FulcrumCore
import FulcrumService
import FulcrumWire

// Ledger and service values as wire messages, and wire requests as ledger
// commands. Empty strings and zero numbers are proto3's "absent".

extension Fulcrum_V1_AtpResponse {
    init(_ availability: Availability) {
        self.init()
        sku = availability.sku
        available = availability.available
        nodes = availability.nodes.map { entry in
            .with {
                $0.node = entry.node
                $0.available = entry.available
                $0.distanceKm = entry.distanceKilometers ?? 0
            }
        }
    }
}

extension AvailabilityQuery {
    init(_ request: Fulcrum_V1_AtpRequest) {
        self.init(
            sku: request.sku, node: request.node.isEmpty ? nil : request.node,
            on: request.onMs == 0 ? nil : Timestamp(millisecondsSinceEpoch: request.onMs),
            near: request.hasNear_p
                ? .init(latitude: request.nearLatitude, longitude: request.nearLongitude) : nil,
            channel: request.channel)
    }
}

/// An empty idempotency key means none.
func idempotencyKey(_ key: String) -> String? { key.isEmpty ? nil : key }

extension LedgerCommand {
    init(_ request: Fulcrum_V1_AdjustRequest, path: String) throws(FulcrumError) {
        let change: AdjustRequest.Change
        switch request.change {
        case .set(let quantity): change = .set(quantity)
        case .delta(let quantity): change = .delta(quantity)
        case nil: throw FulcrumError(.invalidArgument, "one of set or delta is required", path: path.isEmpty ? "change" : "\(path).change")
        }
        self = .adjust(
            AdjustRequest(
                node: request.node, sku: request.sku, change: change, reason: request.reason, source: request.source,
                sourceReference: request.sourceReference,
                asOf: request.asOfMs == 0 ? nil : Timestamp(millisecondsSinceEpoch: request.asOfMs)))
    }

    init(_ request: Fulcrum_V1_TransferRequest) {
        self = .transfer(
            TransferRequest(
                transfer: request.transfer, fromNode: request.fromNode, toNode: request.toNode, sku: request.sku,
                quantity: request.quantity, due: Timestamp(millisecondsSinceEpoch: request.dueMs)))
    }

    init(_ request: Fulcrum_V1_ReserveRequest) {
        self = .reserve(ReserveRequest(
            order: request.order,
            lines: request.lines.map { ReservationLine(node: $0.node, sku: $0.sku, quantity: $0.quantity, receipt: $0.receipt) },
            ttlSeconds: request.ttlSeconds == 0 ? ReserveRequest.defaultTTLSeconds : request.ttlSeconds,
            channel: request.channel))
    }
}

extension Fulcrum_V1_ReconcileResponse {
    init(_ reconciliation: Reconciliation) {
        self.init()
        matched = UInt32(reconciliation.matched)
        differences = reconciliation.differences.map { difference in
            .with {
                $0.node = difference.node
                $0.sku = difference.sku
                $0.quantity = difference.quantity
                $0.ledgerQuantity = difference.ledgerQuantity
                $0.difference = difference.difference
            }
        }
    }
}

// Business events in, outbox messages out (the journeys' opcodes).

extension BusinessEvent {
    init(_ request: Fulcrum_V1_SubmitEventRequest) {
        let intake: OrderIntake? = request.hasIntake ? OrderIntake(request.intake) : nil
        self.init(
            name: request.event, order: request.order, fields: request.fields, intake: intake,
            returnLines: request.returnLines.isEmpty
                ? nil
                : request.returnLines.map {
                    .init(sku: $0.sku, quantity: $0.quantity, disposition: $0.disposition.isEmpty ? nil : $0.disposition)
                },
            source: request.source.isEmpty ? "rpc" : request.source)
    }
}

extension OrderIntake {
    init(_ intake: Fulcrum_V1_OrderIntake) {
        func text(_ value: String) -> String? { value.isEmpty ? nil : value }
        self.init(
            id: intake.id, source: intake.source.isEmpty ? "rpc" : intake.source, shipTo: intake.shipTo.address,
            shippingMethod: text(intake.shippingMethod),
            lines: intake.lines.map { .init(id: $0.id, sku: $0.sku, quantity: $0.quantity) }, attributes: intake.attributes,
            pickupNode: intake.hasPickupNode ? intake.pickupNode : nil, curbside: intake.curbside,
            channel: intake.hasChannel ? intake.channel : nil)
    }
}

extension Fulcrum_V1_OutboxMessage {
    init(_ message: OutboxMessage) {
        self.init()
        id = message.id
        provider = message.provider
        topic = message.topic
        order = message.order
        step = message.step
        fulfillmentOrder = message.fulfillmentOrder ?? ""
        body = message.body
        createdMs = message.createdMs
    }
}

extension Fulcrum_V1_Replication {
    init(_ status: ReplicaStatus) {
        self = .with {
            $0.cluster = status.cluster
            $0.name = status.name
            $0.role = status.role
            $0.term = status.term
            $0.leader = status.leader ?? ""
            $0.applied = status.applied
            $0.head = status.head
            $0.lagEntries = status.lagEntries
        }
    }
}

extension Fulcrum_V1_SnapshotResponse {
    init(_ chunk: SnapshotChunk) {
        self = .with {
            $0.snapshot = chunk.snapshot
            $0.position = chunk.position
            $0.sizeBytes = chunk.sizeBytes
            $0.crc32C = chunk.crc32c
            $0.offset = chunk.offset
            $0.chunk = Data(chunk.bytes)
        }
    }
}
