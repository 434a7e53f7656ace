import FulcrumCore

/// Writes to the ledger's `records` database on behalf of a module above the
/// ledger (the orchestrator's events, orders and timelines), committed by the
/// ledger's writer in its group transaction: durable when acknowledged, and
/// atomic with a ledger command when attached to one (`Ledger.execute(_:attaching:)`).
///
/// Keys are the caller's (it namespaces them by prefix). Guards are checked
/// inside the transaction before anything is written, so a batch whose guard
/// fails changes nothing: compare-and-set without a lock. Counters
/// (`add(_:_:)`) are read and summed inside the transaction, so concurrent
/// batches adding to one key all count, in whatever order they commit.
public struct RecordBatch: Hashable, Sendable {
    /// A condition on one key: absent (`value == nil`) or holding exactly `value`.
    public struct Guard: Hashable, Sendable {
        public var key: [UInt8]
        public var value: [UInt8]?
        public init(key: [UInt8], value: [UInt8]?) {
            self.key = key
            self.value = value
        }
    }

    public var guards: [Guard] = []
    /// Key → new value, or nil to delete the key (absent keys are fine).
    public var writes: [(key: [UInt8], value: [UInt8]?)] = []
    /// Key → amount added to the counter it holds (an Int64, 8 bytes
    /// little-endian; absent counts as 0), applied after `writes`.
    public var additions: [(key: [UInt8], amount: Int64)] = []

    public init() {}

    /// The bytes of a counter holding `value`.
    public static func counter(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    /// A counter's value, or nil when `bytes` is not one.
    public static func counterValue(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 8 else { return nil }
        return bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
    }

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) { writes.append((key, value)) }
    public mutating func delete(_ key: [UInt8]) { writes.append((key, nil)) }
    public mutating func add(_ key: [UInt8], _ amount: Int64) { additions.append((key, amount)) }

    /// `other`'s guards, writes and additions after these.
    public mutating func append(_ other: RecordBatch) {
        guards += other.guards
        writes += other.writes
        additions += other.additions
    }
    public mutating func expectAbsent(_ key: [UInt8]) { guards.append(Guard(key: key, value: nil)) }
    public mutating func expect(_ key: [UInt8], equals value: [UInt8]) { guards.append(Guard(key: key, value: value)) }

    public static func == (lhs: RecordBatch, rhs: RecordBatch) -> Bool {
        lhs.guards == rhs.guards && lhs.writes.elementsEqual(rhs.writes) { $0.key == $1.key && $0.value == $1.value }
            && lhs.additions.elementsEqual(rhs.additions) { $0.key == $1.key && $0.amount == $1.amount }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(guards)
        for write in writes {
            hasher.combine(write.key)
            hasher.combine(write.value)
        }
        for addition in additions {
            hasher.combine(addition.key)
            hasher.combine(addition.amount)
        }
    }

    /// The largest key LMDB stores with its default page size.
    public static let keyBytesMax = 511
    /// The largest value one record may hold.
    public static let valueBytesMax = 1 << 20

    func validate() throws(FulcrumError) {
        for (index, guardKey) in guards.enumerated() where guardKey.key.isEmpty || guardKey.key.count > Self.keyBytesMax {
            throw FulcrumError(.invalidArgument, "record keys are 1 to \(Self.keyBytesMax) bytes", path: "guards[\(index)]")
        }
        for (index, write) in writes.enumerated() {
            guard !write.key.isEmpty, write.key.count <= Self.keyBytesMax else {
                throw FulcrumError(.invalidArgument, "record keys are 1 to \(Self.keyBytesMax) bytes", path: "writes[\(index)]")
            }
            guard (write.value?.count ?? 0) <= Self.valueBytesMax else {
                throw FulcrumError(
                    .invalidArgument, "a record holds at most \(Self.valueBytesMax) bytes", path: "writes[\(index)]")
            }
        }
        for (index, addition) in additions.enumerated() where addition.key.isEmpty || addition.key.count > Self.keyBytesMax {
            throw FulcrumError(.invalidArgument, "record keys are 1 to \(Self.keyBytesMax) bytes", path: "additions[\(index)]")
        }
    }
}
