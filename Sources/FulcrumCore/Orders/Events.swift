import Foundation

/// A business event: something that happened to an order (or an entity
/// under it) that journeys react to.
public struct BusinessEvent: Codable, Sendable, Hashable {
    public var name: String
    public var order: String
    /// Small named values: `fulfillment_order`, `tracking`, `return`, `message`, ...
    public var fields: [String: String]
    /// The order itself, for `order.created`.
    public var intake: OrderIntake?
    /// The units coming back, for `return.requested`.
    public var returnLines: [OrderRecord.Return.Line]?
    /// Who raised it: `rpc`, a shim's name, or `step:ID`.
    public var source: String
    public var atMs: Int64

    public init(
        name: String, order: String, fields: [String: String] = [:], intake: OrderIntake? = nil,
        returnLines: [OrderRecord.Return.Line]? = nil, source: String, atMs: Int64 = 0
    ) {
        self.name = name
        self.order = order
        self.fields = fields
        self.intake = intake
        self.returnLines = returnLines
        self.source = source
        self.atMs = atMs
    }

    /// The event that creates an order.
    public static let orderCreated = "order.created"
    /// A provider acknowledged a message (fields `provider`, `message`).
    package static let providerAcknowledged = "provider.acknowledged"
    /// A provider gave up on a message (fields `provider`, `message`, `reason`).
    package static let providerDeadLettered = "provider.dead_lettered"
    /// Resume a failed journey (field `step`).
    package static let reprocess = "order.reprocess"
}

/// One line of an order's timeline.
public struct TimelineEntry: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case event, transition, policy, filter, action, provider, error, reprocess
        /// An event that did not fit the order (an unknown or already shipped
        /// fulfillment order, a return beyond what shipped): nothing applied.
        case rejected
    }
    public var atMs: Int64
    /// `order:ID`, `fulfillment_order:ID/FO-1`, `return:ID/R-1`, ...
    public var entity: String
    public var kind: Kind
    public var step: String?
    public var text: String
    /// The error code of an `error` entry.
    public var code: String?

    package init(atMs: Int64, entity: String, kind: Kind, step: String? = nil, text: String, code: String? = nil) {
        self.atMs = atMs
        self.entity = entity
        self.kind = kind
        self.step = step
        self.text = text
        self.code = code
    }
}

/// A message for a provider, waiting in its outbox until a shim delivers it.
public struct OutboxMessage: Codable, Sendable, Hashable {
    public var id: String
    public var provider: String
    /// `fulfillment_order.created`, `order.shipped`, ...
    public var topic: String
    public var order: String
    public var step: String
    public var fulfillmentOrder: String?
    /// The JSON body a webhook sends.
    public var body: String
    public var createdMs: Int64

    package init(id: String, provider: String, topic: String, order: String, step: String, fulfillmentOrder: String? = nil, body: String, createdMs: Int64) {
        self.id = id
        self.provider = provider
        self.topic = topic
        self.order = order
        self.step = step
        self.fulfillmentOrder = fulfillmentOrder
        self.body = body
        self.createdMs = createdMs
    }
}

/// A message a provider could not deliver, kept until the order is reprocessed.
public struct DeadLetter: Codable, Sendable, Hashable {
    public var message: OutboxMessage
    public var reason: String
    public var atMs: Int64

    package init(message: OutboxMessage, reason: String, atMs: Int64) {
        self.message = message
        self.reason = reason
        self.atMs = atMs
    }
}

/// JSON for stored records: compact, keys sorted, snake_case, so equal values
/// store equal bytes. The same documents go over the wire (GetOrder) and the gateway.
public enum RecordCoding {
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Records are plain values of finite numbers: encoding cannot fail.
        return Array(try! encoder.encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws(FulcrumError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch {
            throw FulcrumError(.corrupt, "stored \(what) does not decode: \(error)", path: what)
        }
    }

    /// The same value as JSON text for people and webhooks.
    public static func text(_ value: some Encodable) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }
}

/// An accepted event's number, and whether its idempotency key had been seen.
public struct EventSubmission: Sendable, Hashable {
    public var sequence: UInt64
    public var duplicate: Bool

    package init(sequence: UInt64, duplicate: Bool) {
        self.sequence = sequence
        self.duplicate = duplicate
    }
}
