import FulcrumCore
import FulcrumStorage

/// Maps node and SKU names to compact 32-bit ids, for keys. Confined to the
/// writer thread. Ids are assigned once and never change, so readers may
/// cache them. Names interned by a group that fails to commit are rolled back.
struct Interner {
    private var committed: [NameKind: [String: UInt32]] = [.node: [:], .sku: [:]]
    private var pending: [NameKind: [String: UInt32]] = [.node: [:], .sku: [:]]
    private var nextCommitted: [NameKind: UInt32] = [.node: 1, .sku: 1]
    private var next: [NameKind: UInt32] = [.node: 1, .sku: 1]

    /// Loads every interned name.
    init(schema: Schema, transaction: borrowing some TransactionReading & ~Copyable) throws {
        let cursor = try transaction.cursor(schema.names)
        var record = try cursor.first()
        while let (key, value) = record {
            guard let kind = NameKind(rawValue: key[0]), value.count == 4 else {
                throw FulcrumError(.corrupt, "bad interned name record")
            }
            let id = value.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
            committed[kind]![String(decoding: key[1...], as: UTF8.self)] = id
            nextCommitted[kind] = max(nextCommitted[kind]!, id + 1)
            record = try cursor.next()
        }
        next = nextCommitted
    }

    func lookup(_ kind: NameKind, _ name: String) -> UInt32? {
        committed[kind]![name] ?? pending[kind]![name]
    }

    /// The id of `name`, assigning and storing a new one when it has none.
    mutating func intern(_ kind: NameKind, _ name: String, in transaction: borrowing WriteTransaction, schema: Schema)
        throws -> UInt32
    {
        if let id = lookup(kind, name) { return id }
        let id = next[kind]!
        guard Int(id) <= Limits.internedNamesMax else {
            throw FulcrumError(.invalidArgument, "too many distinct names", path: name)
        }
        var idBytes = ByteWriter(capacity: 4)
        idBytes.write(id)
        try transaction.put(schema.names, key: Keys.name(kind, name), value: idBytes.bytes)
        try transaction.put(schema.ids, key: Keys.id(kind, id), value: Array(name.utf8))
        pending[kind]![name] = id
        next[kind] = id + 1
        return id
    }

    mutating func commit() {
        for kind in [NameKind.node, .sku] {
            committed[kind]!.merge(pending[kind]!) { old, _ in old }
            pending[kind]!.removeAll(keepingCapacity: true)
        }
        nextCommitted = next
    }

    mutating func rollback() {
        for kind in [NameKind.node, .sku] { pending[kind]!.removeAll(keepingCapacity: true) }
        next = nextCommitted
    }
}
