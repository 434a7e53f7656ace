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
    /// Stock a backordered order waits for is available: its step runs again (field `step`).
    package static let stockArrived = "order.stock_arrived"
    /// A preorder's receipt was rescheduled (raised by fulcrumd's backorder sweep).
    package static let preorderRescheduled = "order.preorder_rescheduled"
    /// A sourcing step promised the order units of scheduled receipts.
    package static let orderPreordered = "order.preordered"
    /// A sourcing step could not fill the order and it waits whole.
    package static let orderBackordered = "order.backordered"
    /// A shipment group of an order went on (with `order.reserved`) and the rest of it waits.
    package static let orderPartiallyBackordered = "order.partially_backordered"
    /// An order line began waiting for stock (fields `line`, `sku`, `quantity`: the units short).
    package static let orderLineBackordered = "order_line.backordered"
    /// A line that waited for stock or receipts has its units reserved (fields `line`, `sku`, `quantity`).
    package static let orderLineReserved = "order_line.reserved"
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

/// Stored records: the binary record style (`StoredRecord`) after a format
/// byte, and JSON for people and webhooks. Records written before the binary
/// style are JSON documents; they still read, and are written back binary.
public enum RecordCoding {
    /// The first byte of a binary record (a JSON record starts with `{`):
    /// its format's version. 2 added an order's `profile` and an order's and
    /// an intake's `pickup_node`, 3 a SKU's `flags` and an order's and an
    /// intake's `curbside`, 4 a return line's `disposition` and a return's
    /// `received` lines, 5 an order's and an intake's `channel`, 6 a
    /// backorder's `receipts`, 7 an order's `fill` and a backorder's
    /// `on_shortage`; 1 to 6 still read.
    static let binaryFormat: UInt8 = 0x07
    static let binaryFormats: ClosedRange<UInt8> = 0x01...binaryFormat

    public static func encode(_ record: some StoredRecord) -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(binaryFormat)
        record.write(to: &writer)
        return writer.bytes
    }

    public static func decode<T: StoredRecord & Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String)
        throws(FulcrumError) -> T
    {
        guard let format = bytes.first, binaryFormats.contains(format) else { return try decodeJSON(type, bytes, what: what) }
        return try decodeBinary(type, bytes, what: what)
    }

    /// A record of a kind only ever stored in the binary style.
    public static func decodeBinary<T: StoredRecord>(_ type: T.Type, _ bytes: [UInt8], what: String)
        throws(FulcrumError) -> T
    {
        guard let format = bytes.first, binaryFormats.contains(format) else {
            throw FulcrumError(.corrupt, "stored \(what) has no known format", path: what)
        }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(FulcrumError) -> T in
                var reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[1...]), format: format)
                let value = try T(from: &reader)
                try reader.expectEnd(what)
                return value
            }
        }
        do {
            return try result.get()
        } catch {
            throw FulcrumError(.corrupt, "stored \(what) does not decode: \(error.message)", path: what)
        }
    }

    /// A record written before the binary style.
    private static func decodeJSON<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws(FulcrumError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch {
            throw FulcrumError(.corrupt, "stored \(what) does not decode: \(error)", path: what)
        }
    }

    /// A value as JSON text for people and webhooks: compact, keys sorted, snake_case.
    public static func text(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Records are plain values of finite numbers: encoding cannot fail.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
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
