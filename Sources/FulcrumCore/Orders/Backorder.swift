/// An order waiting for stock (a step's `on_shortage`: `backorder` waits
/// whole, `preorder` for its receipts, `ship_available` for the rest of it):
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
    /// How it waits: `backorder` (whole), `preorder` or `ship_available`
    /// (the rest, sourced again as soon as any short SKU gains units).
    public var onShortage: ShortagePolicy

    public init(
        order: String, step: String, priority: Double, sinceMs: Int64, shortages: [String: Int64], availableWhenTried: [String: Int64],
        receipts: [String: Int64] = [:], onShortage: ShortagePolicy
    ) {
        self.receipts = receipts
        self.onShortage = onShortage
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
        writer.write(text: onShortage.rawValue)
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        let order = try reader.readText()
        let step = try reader.readText()
        let priority = try reader.readDouble()
        let sinceMs: Int64 = try reader.read()
        let shortages = try reader.readQuantityMap()
        let availableWhenTried = try reader.readQuantityMap()
        let receipts = reader.format >= 6 ? try reader.readQuantityMap() : [:]
        var onShortage: ShortagePolicy = receipts.isEmpty ? .backorder : .preorder
        if reader.format >= 7 {
            let text = try reader.readText()
            guard let policy = ShortagePolicy(rawValue: text) else {
                throw FulcrumError(.corrupt, "'\(text)' is not a shortage policy", path: "backorder.on_shortage")
            }
            onShortage = policy
        }
        self.init(
            order: order, step: step, priority: priority, sinceMs: sinceMs, shortages: shortages,
            availableWhenTried: availableWhenTried, receipts: receipts, onShortage: onShortage)
    }

    /// As the gateway, the CLI and the operations page show it.
    public var json: JSON {
        .orderedObject([
            ("order", .string(order)), ("step", .string(step)), ("priority", .number(priority)), ("since_ms", .integer(sinceMs)),
            ("on_shortage", .string(onShortage.rawValue)),
            ("shortages", .orderedObject(shortages.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
        ])
    }
}

