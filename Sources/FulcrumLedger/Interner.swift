import FulcrumCore
import FulcrumStorage

/// Maps node and SKU names to compact 32-bit ids, for keys. Confined to the
/// writer thread. Ids are assigned once and never change, so readers may
/// cache them. Names interned by a group that fails to commit are rolled back.
struct Interner {
    /// The names of one kind: ids committed, ids assigned by the open group.
    private struct Table {
        var committed: [String: UInt32] = [:]
        var pending: [String: UInt32] = [:]
        var nextCommitted: UInt32 = 1
        var next: UInt32 = 1
    }

    private var nodes = Table()
    private var skus = Table()

    private subscript(kind: NameKind) -> Table {
        get { kind == .node ? nodes : skus }
        _modify {
            if kind == .node { yield &nodes } else { yield &skus }
        }
    }

    /// Loads every interned name.
    init(schema: Schema, transaction: borrowing some TransactionReading & ~Copyable) throws {
        let cursor = try transaction.cursor(schema.names)
        var record = try cursor.first()
        while let (key, value) = record {
            guard let kind = NameKind(rawValue: key[0]), value.count == 4 else {
                throw FulcrumError(.corrupt, "bad interned name record")
            }
            let id = value.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
            self[kind].committed[String(decoding: key[1...], as: UTF8.self)] = id
            self[kind].nextCommitted = max(self[kind].nextCommitted, id + 1)
            record = try cursor.next()
        }
        nodes.next = nodes.nextCommitted
        skus.next = skus.nextCommitted
    }

    func lookup(_ kind: NameKind, _ name: String) -> UInt32? {
        let table = kind == .node ? nodes : skus
        return table.committed[name] ?? (table.pending.isEmpty ? nil : table.pending[name])
    }

    /// The id of `name`, assigning and storing a new one when it has none.
    mutating func intern(_ kind: NameKind, _ name: String, in transaction: borrowing WriteTransaction, schema: Schema)
        throws -> UInt32
    {
        if let id = lookup(kind, name) { return id }
        let id = self[kind].next
        guard Int(id) <= Limits.internedNamesMax else {
            throw FulcrumError(.invalidArgument, "too many distinct names", path: name)
        }
        var idBytes = ByteWriter(capacity: 4)
        idBytes.write(id)
        try transaction.put(schema.names, key: Keys.name(kind, name), value: idBytes.bytes)
        try transaction.put(schema.ids, key: Keys.id(kind, id), value: Names.keyBytes(name))
        self[kind].pending[name] = id
        self[kind].next = id + 1
        return id
    }

    mutating func commit() {
        for kind in [NameKind.node, .sku] where !self[kind].pending.isEmpty {
            self[kind].committed.merge(self[kind].pending) { old, _ in old }
            self[kind].pending.removeAll()
        }
        nodes.nextCommitted = nodes.next
        skus.nextCommitted = skus.next
    }

    mutating func rollback() {
        nodes.pending.removeAll()
        skus.pending.removeAll()
        nodes.next = nodes.nextCommitted
        skus.next = skus.nextCommitted
    }
}
