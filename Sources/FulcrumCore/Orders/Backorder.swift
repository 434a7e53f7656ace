/// An order waiting whole for stock (a step's `on_shortage: backorder`):
/// which step sources it again, and what it lacks.
public struct Backorder: Sendable, Hashable {
    public var order: String
    /// The step that backordered it, and runs again when stock arrives.
    public var step: String
    /// Higher first when stock is short for several.
    public var priority: Double
    /// When it was first backordered: first come, first served within priority.
    public var sinceMs: Int64
    /// Units short per SKU when it was last tried.
    public var shortages: [String: Int64]
    /// Units available per SKU (every node) when it was last tried: it is
    /// tried again only once availability moved past that.
    public var availableWhenTried: [String: Int64]
    /// A preorder's receipts and their due dates (ms) as its order last
    /// heard: a receipt that moves is news for the order.
    public var receipts: [String: Int64]

    public init(
        order: String, step: String, priority: Double, sinceMs: Int64, shortages: [String: Int64], availableWhenTried: [String: Int64],
        receipts: [String: Int64] = [:]
    ) {
        self.receipts = receipts
        self.order = order
        self.step = step
        self.priority = priority
        self.sinceMs = sinceMs
        self.shortages = shortages
        self.availableWhenTried = availableWhenTried
    }
}

extension Backorder: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: order)
        writer.write(text: step)
        writer.write(priority)
        writer.write(sinceMs)
        writer.write(shortages)
        writer.write(availableWhenTried)
        writer.write(receipts)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(
            order: try reader.readText(), step: try reader.readText(), priority: try reader.readDouble(), sinceMs: try reader.read(),
            shortages: try reader.readQuantityMap(), availableWhenTried: try reader.readQuantityMap(),
            receipts: reader.format >= 6 ? try reader.readQuantityMap() : [:])
    }

    /// As the gateway, the CLI and the operations page show it.
    public var json: JSON {
        .orderedObject([
            ("order", .string(order)), ("step", .string(step)), ("priority", .number(priority)), ("since_ms", .integer(sinceMs)),
            ("shortages", .orderedObject(shortages.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
        ])
    }
}

