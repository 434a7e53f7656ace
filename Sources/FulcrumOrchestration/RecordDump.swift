import FulcrumCore

/// The orchestrator's stored records as JSON lines, for `fulcrum records`:
/// what `mdb_dump` would show as bytes, each record decoded and its key
/// split into its parts.
public enum RecordDump {
    /// The kinds of record, as `fulcrum records --kind` names them.
    public enum Kind: String, CaseIterable, Sendable {
        case order, timeline, queue, outbox, deadLetter = "dead-letter", idempotency

        var byte: UInt8 {
            switch self {
            case .order: RecordKeys.order
            case .timeline: RecordKeys.timeline
            case .queue: RecordKeys.queue
            case .outbox: RecordKeys.outbox
            case .deadLetter: RecordKeys.deadLetter
            case .idempotency: RecordKeys.eventKey
            }
        }
    }

    /// The key prefix of a kind's records; `owner` narrows it to one order
    /// (order, timeline) or one provider (outbox, dead letters).
    public static func prefix(_ kind: Kind, owner: String?) throws(FulcrumError) -> [UInt8] {
        guard let owner else { return [kind.byte] }
        switch kind {
        case .order: return RecordKeys.order(owner)
        case .timeline: return RecordKeys.timelinePrefix(owner)
        case .outbox: return RecordKeys.outboxPrefix(owner)
        case .deadLetter: return RecordKeys.deadLetterPrefix(owner)
        case .queue, .idempotency:
            throw FulcrumError(.invalidArgument, "\(kind.rawValue) records belong to no order or provider", path: "kind")
        }
    }

    /// One record as a JSON object: its kind, its key's parts, its value.
    public static func line(key: [UInt8], value: [UInt8]) throws(FulcrumError) -> JSON {
        guard let first = key.first, let kind = Kind.allCases.first(where: { $0.byte == first }) else {
            throw FulcrumError(.corrupt, "a record key of unknown kind \(key.first.map { String($0) } ?? "(empty)")", path: "key")
        }
        let rest = Array(key.dropFirst())
        var fields: [(String, JSON)] = [("kind", .string(kind.rawValue))]
        switch kind {
        case .order:
            fields.append(("order", .string(text(rest))))
            fields.append(("value", .text(RecordCoding.text(try RecordCoding.decode(OrderRecord.self, value, what: "order")))))
        case .timeline:
            let (order, tail) = split(rest)
            guard tail.count == 12 else { throw FulcrumError(.corrupt, "a timeline key of \(key.count) bytes", path: "key") }
            fields.append(("order", .string(order)))
            fields.append(("sequence", .integer(Int64(bitPattern: number(tail[0..<8])))))
            fields.append(("slot", .integer(Int64(number(tail[8..<10])))))
            fields.append(("item", .integer(Int64(number(tail[10..<12])))))
            fields.append(("value", .text(RecordCoding.text(try RecordCoding.decode(TimelineEntry.self, value, what: "timeline")))))
        case .queue:
            fields.append(("sequence", .integer(Int64(bitPattern: number(rest[...])))))
            fields.append(("value", .text(RecordCoding.text(try RecordCoding.decode(QueuedEvent.self, value, what: "queued event")))))
        case .outbox, .deadLetter:
            let (provider, message) = split(rest)
            fields.append(("provider", .string(provider)))
            fields.append(("message", .string(text(message))))
            let decoded = kind == .outbox
                ? RecordCoding.text(try RecordCoding.decode(OutboxMessage.self, value, what: "outbox message"))
                : RecordCoding.text(try RecordCoding.decode(DeadLetter.self, value, what: "dead letter"))
            fields.append(("value", .text(decoded)))
        case .idempotency:
            fields.append(("idempotency_key", .string(text(rest))))
            fields.append(("sequence", .integer(Int64(bitPattern: number(value[...])))))
        }
        return .orderedObject(fields)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// An id and what follows the zero byte that ends it.
    private static func split(_ bytes: [UInt8]) -> (String, [UInt8]) {
        guard let zero = bytes.firstIndex(of: 0) else { return (text(bytes), []) }
        return (text(Array(bytes[..<zero])), Array(bytes[(zero + 1)...]))
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
}
