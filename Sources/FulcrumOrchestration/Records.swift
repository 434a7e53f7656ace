import Foundation
import FulcrumCore
import FulcrumLedger

/// An accepted event waiting to be processed (or part-way through): durable
/// from acceptance until every step listening to it has run.
struct QueuedEvent: Codable, Sendable, Hashable {
    var sequence: UInt64
    var event: BusinessEvent
    /// Steps already applied: after a restart they are not run again.
    var completedSteps: [String] = []
}

extension QueuedEvent: StoredRecord {
    func write(to writer: inout ByteWriter) {
        writer.write(sequence)
        event.write(to: &writer)
        writer.write(completedSteps)
    }

    init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(sequence: try reader.read(), event: try BusinessEvent(from: &reader), completedSteps: try reader.readTexts())
    }
}

/// Key layout of the orchestrator's records in the ledger's `records`
/// database. One byte of kind first; numbers big-endian so keys sort by
/// them; ids by their NFC bytes (`Names.keyBytes`), as the ledger's are.
enum RecordKeys {
    static let queue: UInt8 = 0x71  // "q" + sequence → QueuedEvent
    static let eventKey: UInt8 = 0x6B  // "k" + idempotency key → sequence
    static let order: UInt8 = 0x6F  // "o" + order id → OrderRecord
    static let timeline: UInt8 = 0x74  // "t" + order id + 0 + sequence + slot + item → TimelineEntry
    static let outbox: UInt8 = 0x78  // "x" + provider + 0 + message id → OutboxMessage
    static let deadLetter: UInt8 = 0x64  // "d" + provider + 0 + message id → DeadLetter

    static func queued(_ sequence: UInt64) -> [UInt8] { [queue] + bigEndian(sequence) }
    static func idempotency(_ key: String) -> [UInt8] { [eventKey] + Names.keyBytes(key) }
    static func order(_ id: String) -> [UInt8] { [order] + Names.keyBytes(id) }
    static func timelinePrefix(_ order: String) -> [UInt8] { [timeline] + Names.keyBytes(order) + [0] }
    static func timeline(_ order: String, sequence: UInt64, slot: UInt16, item: UInt16) -> [UInt8] {
        timelinePrefix(order) + bigEndian(sequence) + bigEndian(slot) + bigEndian(item)
    }
    static func outboxPrefix(_ provider: String) -> [UInt8] { [outbox] + Names.keyBytes(provider) + [0] }
    static func outbox(_ provider: String, _ message: String) -> [UInt8] { outboxPrefix(provider) + Names.keyBytes(message) }
    static func deadLetterPrefix(_ provider: String) -> [UInt8] { [deadLetter] + Names.keyBytes(provider) + [0] }
    static func deadLetter(_ provider: String, _ message: String) -> [UInt8] {
        deadLetterPrefix(provider) + Names.keyBytes(message)
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

/// A dead letter being replayed, as the reprocess event carries it: the
/// message the resumed step sends again for the same provider, topic and
/// fulfillment order takes the letter's id instead of a new one.
struct ReplayedMessage {
    static let idField = "replay_message"
    static let providerField = "replay_provider"
    static let topicField = "replay_topic"
    static let fulfillmentOrderField = "replay_fulfillment_order"

    let id: String
    let provider: String
    let topic: String
    let fulfillmentOrder: String

    init?(_ fields: [String: String]) {
        guard let id = fields[Self.idField], let provider = fields[Self.providerField], let topic = fields[Self.topicField]
        else { return nil }
        self.id = id
        self.provider = provider
        self.topic = topic
        fulfillmentOrder = fields[Self.fulfillmentOrderField] ?? ""
    }

    /// The replayed id, when this message is the replayed one.
    func id(provider: String, topic: String, fulfillmentOrder: String?) -> String? {
        provider == self.provider && topic == self.topic && (fulfillmentOrder ?? "") == self.fulfillmentOrder ? id : nil
    }
}
