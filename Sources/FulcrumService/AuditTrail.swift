import FulcrumCore
import FulcrumLedger
import Synchronization

/// Keys of the audit trail in the ledger's records database: "a", the
/// time in milliseconds, this process's random tag and a counter, all
/// big-endian, so the trail reads in time order and two processes (one
/// after a restart) never write the same key.
final class AuditKeys: Sendable {
    static let prefix: UInt8 = 0x61  // "a"
    private let clock: any Clock
    private let tag = UInt32.random(in: .min ... .max)
    private let counter = Atomic<UInt32>(0)

    init(clock: any Clock) { self.clock = clock }

    func next() -> (key: [UInt8], atMilliseconds: Int64) {
        let now = clock.now().millisecondsSinceEpoch
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return ([Self.prefix] + bigEndian(UInt64(max(0, now))) + bigEndian(tag) + bigEndian(count), now)
    }

    /// The id an entry shows: its key after the prefix, in hex.
    static func id(of key: [UInt8]) -> String {
        SHA256.hex(key.dropFirst())
    }

    static func key(of id: String) throws(FulcrumError) -> [UInt8] {
        let hex = Array(id.utf8)
        guard hex.count == 32 else { throw FulcrumError(.invalidArgument, "not an audit entry's id", path: "after") }
        var key = [prefix]
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw FulcrumError(.invalidArgument, "not an audit entry's id", path: "after")
            }
            key.append(byte)
        }
        return key
    }

    private func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
}

/// The audit trail: every inventory change and admin action with the token
/// that asked for it, written in the same transaction as the change.
extension Service {
    /// `submit` for a caller: an inventory change carries its audit entry,
    /// durable with it or not at all.
    public func submit(
        _ command: LedgerCommand, idempotencyKey: String? = nil, caller: Caller,
        completion: @escaping @Sendable (Result<LedgerResult, FulcrumError>) -> Void
    ) {
        guard let records = attachedRecords(command, caller: caller) else {
            return ledger.submit(command, idempotencyKey: idempotencyKey, completion: completion)
        }
        ledger.submit(command, idempotencyKey: idempotencyKey, attaching: records, completion: completion)
    }

    /// `execute` for a caller (see `submit(_:idempotencyKey:caller:completion:)`).
    public func execute(_ command: LedgerCommand, idempotencyKey: String? = nil, caller: Caller) async throws(FulcrumError)
        -> LedgerResult
    {
        guard let records = attachedRecords(command, caller: caller) else {
            return try await ledger.execute(command, idempotencyKey: idempotencyKey)
        }
        return try await ledger.execute(command, idempotencyKey: idempotencyKey, attaching: records)
    }

    /// Records an admin action that is not a ledger command (a dead letter
    /// replayed, tokens or certificates reloaded); durable when this returns.
    public func recordAudit(operation: String, subject: String, detail: String, caller: Caller) async throws(FulcrumError) {
        try await ledger.write(auditBatch(operation: operation, subject: subject, detail: detail, caller: caller))
    }

    /// The trail, newest first, from just before `before` (an entry's id) when given.
    public func auditTrail(before: String? = nil, limit: Int) throws(FulcrumError) -> [AuditEntry] {
        guard (1...Limits.pageItemsMax).contains(limit) else {
            throw FulcrumError(.invalidArgument, "limit is 1 to \(Limits.pageItemsMax)", path: "limit")
        }
        let after = try before.map { (id) throws(FulcrumError) in try AuditKeys.key(of: id) }
        return try records(prefix: [AuditKeys.prefix], after: after, limit: limit, reverse: true).map {
            (record) throws(FulcrumError) in
            var entry = try AuditEntry.decode(record.value)
            entry.id = AuditKeys.id(of: record.key)
            return entry
        }
    }

    /// The command's audit entry and counters, when it has either.
    private func attachedRecords(_ command: LedgerCommand, caller: Caller) -> RecordBatch? {
        withCommandCounters(
            command,
            command.auditLine.map { auditBatch(operation: $0.operation, subject: $0.subject, detail: $0.detail, caller: caller) })
    }

    func auditBatch(operation: String, subject: String, detail: String, caller: Caller) -> RecordBatch {
        let (key, at) = auditKeys.next()
        let entry = AuditEntry(
            id: AuditKeys.id(of: key), atMilliseconds: at, caller: caller, operation: operation, subject: subject, detail: detail)
        var batch = RecordBatch()
        batch.put(key, entry.encoded())
        return batch
    }
}
