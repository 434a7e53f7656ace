/// A value the orchestrator stores in the ledger's `records` database, in the
/// ledger's own record style (`ByteWriter`): fixed-width little-endian
/// numbers, length-prefixed texts, maps in key order so that equal values
/// store equal bytes (a conditional write compares them).
public protocol StoredRecord {
    func write(to writer: inout ByteWriter)
    init(from reader: inout ByteReader) throws(FulcrumError)
}

extension ByteWriter {
    /// A text of any length: a UInt32 byte count and its UTF-8 bytes.
    @inlinable
    public mutating func write(text: String) {
        var text = text
        text.withUTF8 { bytes in
            write(UInt32(bytes.count))
            storage.append(contentsOf: bytes)
        }
    }

    public mutating func write(optional text: String?) {
        write(UInt8(text == nil ? 0 : 1))
        if let text { write(text: text) }
    }

    public mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }

    public mutating func write(optional value: Double?) {
        write(UInt8(value == nil ? 0 : 1))
        if let value { write(value) }
    }

    public mutating func write(optional value: Int64?) {
        write(UInt8(value == nil ? 0 : 1))
        if let value { write(value) }
    }

    public mutating func write(optional value: Bool?) { write(UInt8(value.map { $0 ? 2 : 1 } ?? 0)) }

    public mutating func write(_ map: [String: String]) {
        write(UInt32(map.count))
        for key in map.keys.sorted() {
            write(text: key)
            write(text: map[key]!)
        }
    }

    public mutating func write(_ map: [String: Int64]) {
        write(UInt32(map.count))
        for key in map.keys.sorted() {
            write(text: key)
            write(map[key]!)
        }
    }

    public mutating func write(_ texts: [String]) {
        write(UInt32(texts.count))
        for text in texts { write(text: text) }
    }

    public mutating func write<Record: StoredRecord>(_ records: [Record]) {
        write(UInt32(records.count))
        for record in records { record.write(to: &self) }
    }

    public mutating func write<Record: StoredRecord>(optional record: Record?) {
        write(UInt8(record == nil ? 0 : 1))
        record?.write(to: &self)
    }
}

extension ByteReader {
    public mutating func readText() throws(FulcrumError) -> String { try readUTF8(count: Int(try read(UInt32.self))) }

    /// A flag byte before an optional value: 0 absent, 1 present.
    mutating func isPresent() throws(FulcrumError) -> Bool {
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        case let flag: throw FulcrumError(.corrupt, "presence flag \(flag) at byte \(offset - 1)")
        }
    }

    public mutating func readOptionalText() throws(FulcrumError) -> String? { try isPresent() ? try readText() : nil }

    public mutating func readBool() throws(FulcrumError) -> Bool {
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        case let flag: throw FulcrumError(.corrupt, "boolean \(flag) at byte \(offset - 1)")
        }
    }

    public mutating func readDouble() throws(FulcrumError) -> Double { Double(bitPattern: try read(UInt64.self)) }
    public mutating func readOptionalDouble() throws(FulcrumError) -> Double? { try isPresent() ? try readDouble() : nil }
    public mutating func readOptionalInt64() throws(FulcrumError) -> Int64? { try isPresent() ? try read(Int64.self) : nil }

    public mutating func readOptionalBool() throws(FulcrumError) -> Bool? {
        switch try read(UInt8.self) {
        case 0: return nil
        case 1: return false
        case 2: return true
        case let flag: throw FulcrumError(.corrupt, "optional boolean \(flag) at byte \(offset - 1)")
        }
    }

    /// A count of items, each at least one byte: a count the remaining bytes
    /// cannot hold is corrupt before anything is allocated for it.
    mutating func readCount() throws(FulcrumError) -> Int {
        let count = Int(try read(UInt32.self))
        guard count <= buffer.count - position else { throw truncated() }
        return count
    }

    public mutating func readTextMap() throws(FulcrumError) -> [String: String] {
        let count = try readCount()
        var map: [String: String] = Dictionary(minimumCapacity: count)
        for _ in 0..<count { map[try readText()] = try readText() }
        return map
    }

    public mutating func readQuantityMap() throws(FulcrumError) -> [String: Int64] {
        let count = try readCount()
        var map: [String: Int64] = Dictionary(minimumCapacity: count)
        for _ in 0..<count { map[try readText()] = try read(Int64.self) }
        return map
    }

    public mutating func readTexts() throws(FulcrumError) -> [String] {
        let count = try readCount()
        var texts: [String] = []
        texts.reserveCapacity(count)
        for _ in 0..<count { texts.append(try readText()) }
        return texts
    }

    public mutating func readRecords<Record: StoredRecord>(_: Record.Type = Record.self) throws(FulcrumError) -> [Record] {
        let count = try readCount()
        var records: [Record] = []
        records.reserveCapacity(count)
        for _ in 0..<count { records.append(try Record(from: &self)) }
        return records
    }

    public mutating func readOptionalRecord<Record: StoredRecord>(_: Record.Type = Record.self) throws(FulcrumError) -> Record? {
        try isPresent() ? try Record(from: &self) : nil
    }
}

extension Address: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(optional: latitude)
        writer.write(optional: longitude)
        writer.write(optional: region)
        writer.write(optional: country)
        writer.write(optional: postalCode)
        writer.write(optional: city)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            latitude: try reader.readOptionalDouble(), longitude: try reader.readOptionalDouble(),
            region: try reader.readOptionalText(), country: try reader.readOptionalText(),
            postalCode: try reader.readOptionalText(), city: try reader.readOptionalText())
    }
}

extension OrderIntake.Line: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(text: sku)
        writer.write(quantity)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(id: try reader.readText(), sku: try reader.readText(), quantity: try reader.read())
    }
}

extension OrderIntake: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(text: source)
        shipTo.write(to: &writer)
        writer.write(optional: shippingMethod)
        writer.write(lines)
        writer.write(attributes)
        writer.write(optional: pickupNode)
        writer.write(curbside)
        writer.write(optional: channel)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            id: try reader.readText(), source: try reader.readText(), shipTo: try Address(from: &reader),
            shippingMethod: try reader.readOptionalText(), lines: try reader.readRecords(), attributes: try reader.readTextMap(),
            pickupNode: reader.format >= 2 ? try reader.readOptionalText() : nil,
            curbside: reader.format >= 3 ? try reader.readBool() : false,
            channel: reader.format >= 5 ? try reader.readOptionalText() : nil)
    }
}

extension OrderRecord.LineRecord: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(text: sku)
        writer.write(quantity)
        writer.write(text: state)
        writer.write(allocations)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            id: try reader.readText(), sku: try reader.readText(), quantity: try reader.read(), state: try reader.readText(),
            allocations: try reader.readQuantityMap())
    }
}

extension OrderRecord.FulfillmentOrder.Line: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: line)
        writer.write(text: sku)
        writer.write(quantity)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(line: try reader.readText(), sku: try reader.readText(), quantity: try reader.read())
    }
}

extension OrderRecord.FulfillmentOrder: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(text: node)
        writer.write(lines)
        writer.write(text: state)
        writer.write(optional: tracking)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            id: try reader.readText(), node: try reader.readText(), lines: try reader.readRecords(),
            state: try reader.readText(), tracking: try reader.readOptionalText())
    }
}

extension OrderRecord.Return.Line: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: sku)
        writer.write(quantity)
        writer.write(optional: disposition)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            sku: try reader.readText(), quantity: try reader.read(),
            disposition: reader.format >= 4 ? try reader.readOptionalText() : nil)
    }
}

extension OrderRecord.Return: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(lines)
        writer.write(text: state)
        writer.write(optional: node)
        writer.write(received)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            id: try reader.readText(), lines: try reader.readRecords(), state: try reader.readText(),
            node: try reader.readOptionalText(), received: reader.format >= 4 ? try reader.readRecords() : [])
    }
}

extension OrderRecord.Failure: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: step)
        writer.write(text: code)
        writer.write(text: message)
        writer.write(optional: resumeStep)
        writer.write(atMs)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            step: try reader.readText(), code: try reader.readText(), message: try reader.readText(),
            resumeStep: try reader.readOptionalText(), atMs: try reader.read())
    }
}

extension OrderRecord.Waiting: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: step)
        writer.write(messages)
        writer.write(fields)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(step: try reader.readText(), messages: try reader.readTexts(), fields: try reader.readTextMap())
    }
}

extension OrderRecord: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(text: source)
        writer.write(text: state)
        shipTo.write(to: &writer)
        writer.write(optional: shippingMethod)
        writer.write(lines)
        writer.write(attributes)
        writer.write(optional: sourceNode)
        writer.write(optional: sourceKind)
        writer.write(optional: shipComplete)
        writer.write(optional: maxShipments.map(Int64.init))
        writer.write(optional: priority)
        writer.write(fulfillmentOrders)
        writer.write(returns)
        writer.write(optional: failure)
        writer.write(waiting)
        writer.write(createdMs)
        writer.write(updatedMs)
        writer.write(optional: profile)
        writer.write(optional: pickupNode)
        writer.write(optional: curbside)
        writer.write(optional: channel)
        writer.write(optional: fill.map(Int64.init))
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        id = try reader.readText()
        source = try reader.readText()
        state = try reader.readText()
        shipTo = try Address(from: &reader)
        shippingMethod = try reader.readOptionalText()
        lines = try reader.readRecords()
        attributes = try reader.readTextMap()
        sourceNode = try reader.readOptionalText()
        sourceKind = try reader.readOptionalText()
        shipComplete = try reader.readOptionalBool()
        maxShipments = try reader.readOptionalInt64().map { Int($0) }
        priority = try reader.readOptionalDouble()
        fulfillmentOrders = try reader.readRecords()
        returns = try reader.readRecords()
        failure = try reader.readOptionalRecord()
        waiting = try reader.readRecords()
        createdMs = try reader.read()
        updatedMs = try reader.read()
        profile = reader.format >= 2 ? try reader.readOptionalText() : nil
        pickupNode = reader.format >= 2 ? try reader.readOptionalText() : nil
        curbside = reader.format >= 3 ? try reader.readOptionalBool() : nil
        channel = reader.format >= 5 ? try reader.readOptionalText() : nil
        fill = reader.format >= 7 ? try reader.readOptionalInt64().map { Int($0) } : nil
    }
}

extension TimelineEntry: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(atMs)
        writer.write(text: entity)
        writer.write(text: kind.rawValue)
        writer.write(optional: step)
        writer.write(text: text)
        writer.write(optional: code)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        let atMs: Int64 = try reader.read()
        let entity = try reader.readText()
        let name = try reader.readText()
        guard let kind = Kind(rawValue: name) else { throw FulcrumError(.corrupt, "unknown timeline entry kind '\(name)'") }
        self.init(
            atMs: atMs, entity: entity, kind: kind, step: try reader.readOptionalText(), text: try reader.readText(),
            code: try reader.readOptionalText())
    }
}

extension BusinessEvent: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: name)
        writer.write(text: order)
        writer.write(fields)
        writer.write(optional: intake)
        writer.write(UInt8(returnLines == nil ? 0 : 1))
        if let returnLines { writer.write(returnLines) }
        writer.write(text: source)
        writer.write(atMs)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            name: try reader.readText(), order: try reader.readText(), fields: try reader.readTextMap(),
            intake: try reader.readOptionalRecord(), returnLines: try reader.isPresent() ? try reader.readRecords() : nil,
            source: try reader.readText(), atMs: try reader.read())
    }
}

extension OutboxMessage: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(text: provider)
        writer.write(text: topic)
        writer.write(text: order)
        writer.write(text: step)
        writer.write(optional: fulfillmentOrder)
        writer.write(text: body)
        writer.write(createdMs)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            id: try reader.readText(), provider: try reader.readText(), topic: try reader.readText(),
            order: try reader.readText(), step: try reader.readText(), fulfillmentOrder: try reader.readOptionalText(),
            body: try reader.readText(), createdMs: try reader.read())
    }
}

extension DeadLetter: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        message.write(to: &writer)
        writer.write(text: reason)
        writer.write(atMs)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(message: try OutboxMessage(from: &reader), reason: try reader.readText(), atMs: try reader.read())
    }
}

extension SKU: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: id)
        writer.write(weightKilograms)
        writer.write(optional: category)
        writer.write(flags)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            id: try reader.readText(), weightKilograms: try reader.readDouble(), category: try reader.readOptionalText(),
            flags: reader.format >= 3 ? try reader.readTexts() : [])
    }
}
