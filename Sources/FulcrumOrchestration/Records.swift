import Foundation
import FulcrumCore
import FulcrumLedger

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
    static let providerAcknowledged = "provider.acknowledged"
    /// A provider gave up on a message (fields `provider`, `message`, `reason`).
    static let providerDeadLettered = "provider.dead_lettered"
    /// Resume a failed journey (field `step`).
    static let reprocess = "order.reprocess"
}

/// An accepted event waiting to be processed (or part-way through): durable
/// from acceptance until every step listening to it has run.
struct QueuedEvent: Codable, Sendable, Hashable {
    var sequence: UInt64
    var event: BusinessEvent
    /// Steps already applied: after a restart they are not run again.
    var completedSteps: [String] = []
}

/// One line of an order's timeline.
public struct TimelineEntry: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case event, transition, policy, filter, action, provider, error, reprocess
    }
    public var atMs: Int64
    /// `order:ID`, `fulfillment_order:ID/FO-1`, `return:ID/R-1`, ...
    public var entity: String
    public var kind: Kind
    public var step: String?
    public var text: String
    /// The error code of an `error` entry.
    public var code: String?
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
}

/// A message a provider could not deliver, kept until the order is reprocessed.
public struct DeadLetter: Codable, Sendable, Hashable {
    public var message: OutboxMessage
    public var reason: String
    public var atMs: Int64
}

/// Key layout of the orchestrator's records in the ledger's `records`
/// database. One byte of kind first; numbers big-endian so keys sort by them.
enum RecordKeys {
    static let queue: UInt8 = 0x71  // "q" + sequence → QueuedEvent
    static let eventKey: UInt8 = 0x6B  // "k" + idempotency key → sequence
    static let order: UInt8 = 0x6F  // "o" + order id → OrderRecord
    static let timeline: UInt8 = 0x74  // "t" + order id + 0 + sequence + slot + item → TimelineEntry
    static let outbox: UInt8 = 0x78  // "x" + provider + 0 + message id → OutboxMessage
    static let deadLetter: UInt8 = 0x64  // "d" + provider + 0 + message id → DeadLetter

    static func queued(_ sequence: UInt64) -> [UInt8] { [queue] + bigEndian(sequence) }
    static func idempotency(_ key: String) -> [UInt8] { [eventKey] + Array(key.utf8) }
    static func order(_ id: String) -> [UInt8] { [order] + Array(id.utf8) }
    static func timelinePrefix(_ order: String) -> [UInt8] { [timeline] + Array(order.utf8) + [0] }
    static func timeline(_ order: String, sequence: UInt64, slot: UInt16, item: UInt16) -> [UInt8] {
        timelinePrefix(order) + bigEndian(sequence) + bigEndian(slot) + bigEndian(item)
    }
    static func outboxPrefix(_ provider: String) -> [UInt8] { [outbox] + Array(provider.utf8) + [0] }
    static func outbox(_ provider: String, _ message: String) -> [UInt8] { outboxPrefix(provider) + Array(message.utf8) }
    static func deadLetterPrefix(_ provider: String) -> [UInt8] { [deadLetter] + Array(provider.utf8) + [0] }
    static func deadLetter(_ provider: String, _ message: String) -> [UInt8] {
        deadLetterPrefix(provider) + Array(message.utf8)
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func sequence(ofQueued key: [UInt8]) -> UInt64? {
        guard key.count == 9, key[0] == queue else { return nil }
        return key[1...].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A message id that sorts in creation order: `SEQUENCE-SLOT-INDEX` in fixed-width hex.
    static func messageID(sequence: UInt64, slot: UInt16, index: Int) -> String {
        String(format: "%016llx-%04x-%04x", sequence, slot, index)
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
