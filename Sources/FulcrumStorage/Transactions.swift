import CLMDB

/// Read access shared by read and write transactions.
public protocol TransactionReading: ~Copyable {
    /// The live `MDB_txn`; valid only while the transaction value lives.
    var handle: OpaquePointer { get }
}

extension TransactionReading where Self: ~Copyable {
    /// Calls `body` with the value stored under `key` (its checksum checked
    /// and stripped), or returns nil when there is none. The buffer points
    /// into the map: it must not escape `body`.
    @inlinable
    public func withValue<R>(
        _ database: Database, key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(LMDBError) -> R? {
        guard let stored = try withStoredValue(database, key: key, { $0 }) else { return nil }
        guard let value = Checksum.verified(key: key, stored: stored) else {
            throw LMDBError(
                code: LMDBError.checksumMismatch.code, operation: "mdb_get", database: database.name, key: Array(key))
        }
        return body(value)
    }

    /// The stored bytes under `key`, trailer included and unchecked: for
    /// telling ledger formats apart and for the scrubber's own checks.
    @inlinable
    public func withStoredValue<R>(
        _ database: Database, key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(LMDBError) -> R? {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var value = MDB_val()
        let code = mdb_get(handle, database.dbi, &keyValue, &value)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "mdb_get")
        return body(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }

    /// A copy of the value stored under `key`, or nil.
    public func value(_ database: Database, key: [UInt8]) throws(LMDBError) -> [UInt8]? {
        let result = key.withUnsafeBytes { key in
            Result { () throws(LMDBError) -> [UInt8]? in try withValue(database, key: key) { Array($0) } }
        }
        return try result.get()
    }

    /// A copy of the stored bytes under `key`, trailer included and unchecked, or nil.
    public func storedValue(_ database: Database, key: [UInt8]) throws(LMDBError) -> [UInt8]? {
        let result = key.withUnsafeBytes { key in
            Result { () throws(LMDBError) -> [UInt8]? in try withStoredValue(database, key: key) { Array($0) } }
        }
        return try result.get()
    }

    /// Opens a cursor over `database`; it is closed when the `Cursor` value ends,
    /// which must be before this transaction ends. A `verifying` cursor checks
    /// and strips each value's checksum; otherwise it returns stored bytes as they are.
    public func cursor(_ database: Database, verifying: Bool = true) throws(LMDBError) -> Cursor {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, database.dbi, &cursor), "mdb_cursor_open")
        return Cursor(handle: cursor!, database: verifying ? database : nil)
    }

    /// Up to `limit` records of `database` in key order, after `after`
    /// (exclusive) or from the first; for passes over a whole database a
    /// bounded chunk at a time.
    public func records(_ database: Database, after: [UInt8]?, limit: Int, verifying: Bool = true)
        throws(LMDBError) -> [Cursor.Record]
    {
        let cursor = try cursor(database, verifying: verifying)
        var record: Cursor.Record?
        if let after {
            record = try cursor.seek(atLeast: after)
            if record?.key == after { record = try cursor.next() }
        } else {
            record = try cursor.first()
        }
        var chunk: [Cursor.Record] = []
        while let found = record, chunk.count < limit {
            chunk.append(found)
            if chunk.count < limit { record = try cursor.next() }
        }
        return chunk
    }

    /// The number of entries in `database`.
    public func count(_ database: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, database.dbi, &stat), "mdb_stat")
        return stat.ms_entries
    }
}

/// Owns one read-only `MDB_txn`: a consistent snapshot that never blocks the
/// writer and takes no lock. `deinit` aborts it. Not thread-safe: use it from
/// one thread at a time (any thread, thanks to `MDB_NOTLS`).
///
/// `reset()` and `renew()` keep the reader slot between snapshots, so a
/// long-lived reader pays neither a slot search nor an allocation per read.
public struct ReadTransaction: ~Copyable, TransactionReading {
    public let handle: OpaquePointer
    let environment: Environment
    private var isActive = true

    public init(_ environment: Environment) throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(environment.handle, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)")
        self.handle = txn!
        self.environment = environment
    }

    /// Releases the snapshot but keeps the transaction object for `renew()`.
    public mutating func reset() {
        precondition(isActive, "reset of a reset read transaction")
        mdb_txn_reset(handle)
        isActive = false
    }

    /// Takes a fresh snapshot of the latest committed state.
    public mutating func renew() throws(LMDBError) {
        precondition(!isActive, "renew of an active read transaction")
        try check(mdb_txn_renew(handle), "mdb_txn_renew")
        isActive = true
    }

    deinit {
        mdb_txn_abort(handle)
    }
}

/// Owns one read-write `MDB_txn`. `commit()` and `abort()` consume it; if it is
/// dropped, `deinit` aborts it. It must begin and end on the same thread and
/// never cross an `await`: the ledger's single writer thread is its only user.
public struct WriteTransaction: ~Copyable, TransactionReading {
    private var liveHandle: OpaquePointer?
    let environment: Environment

    public var handle: OpaquePointer {
        guard let liveHandle else { preconditionFailure("use of an ended write transaction") }
        return liveHandle
    }

    public init(_ environment: Environment) throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(environment.handle, nil, 0, &txn), "mdb_txn_begin(write)")
        self.liveHandle = txn
        self.environment = environment
    }

    /// Stores `value` under `key`, replacing what was there.
    public func put(_ database: Database, key: [UInt8], value: [UInt8]) throws(LMDBError) {
        try put(database, key: key, value: value, flags: 0)
    }

    /// Stores `value` under a key greater than every key already there
    /// (`MDB_APPEND`: no search, pages filled completely).
    public func append(_ database: Database, key: [UInt8], value: [UInt8]) throws(LMDBError) {
        try put(database, key: key, value: value, flags: UInt32(MDB_APPEND))
    }

    /// Reserves room for the value and its checksum in the page (`MDB_RESERVE`)
    /// and writes both there: no intermediate copy.
    private func put(_ database: Database, key: [UInt8], value: [UInt8], flags: UInt32) throws(LMDBError) {
        let code = key.withUnsafeBytes { keyBytes in
            value.withUnsafeBytes { valueBytes in
                var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var dataValue = MDB_val(mv_size: valueBytes.count + Checksum.trailerBytes, mv_data: nil)
                let code = mdb_put(handle, database.dbi, &keyValue, &dataValue, flags | UInt32(MDB_RESERVE))
                guard code == MDB_SUCCESS, let destination = dataValue.mv_data else { return code }
                if let source = valueBytes.baseAddress { destination.copyMemory(from: source, byteCount: valueBytes.count) }
                let trailer = Checksum.of(key: keyBytes, value: valueBytes).littleEndian
                withUnsafeBytes(of: trailer) { (destination + valueBytes.count).copyMemory(from: $0.baseAddress!, byteCount: 4) }
                return code
            }
        }
        try check(code, "mdb_put")
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ database: Database, key: [UInt8]) throws(LMDBError) -> Bool {
        let code = key.withUnsafeBytes { keyBytes in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            return mdb_del(handle, database.dbi, &keyValue, nil)
        }
        if code == MDB_NOTFOUND { return false }
        try check(code, "mdb_del")
        return true
    }

    /// Makes the changes durable (fsync, unless the environment is not durable).
    /// LMDB frees the transaction whether or not the commit succeeds.
    public consuming func commit() throws(LMDBError) {
        let txn = handle
        liveHandle = nil
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    /// Discards every change.
    public consuming func abort() {
        mdb_txn_abort(handle)
        liveHandle = nil
    }

    deinit {
        if let liveHandle { mdb_txn_abort(liveHandle) }
    }
}

/// Owns one `MDB_cursor`; closes it in `deinit`. Keys and values are returned as
/// copies, so nothing points into the map after the call.
public struct Cursor: ~Copyable {
    @usableFromInline let handle: OpaquePointer
    /// The database whose checksums this cursor checks; nil for a raw cursor.
    @usableFromInline let verifying: Database?

    init(handle: OpaquePointer, database: Database?) {
        self.handle = handle
        self.verifying = database
    }

    deinit { mdb_cursor_close(handle) }

    public typealias Record = (key: [UInt8], value: [UInt8])

    public func first() throws(LMDBError) -> Record? { try move(MDB_FIRST, to: nil) }
    public func next() throws(LMDBError) -> Record? { try move(MDB_NEXT, to: nil) }
    public func last() throws(LMDBError) -> Record? { try move(MDB_LAST, to: nil) }
    public func previous() throws(LMDBError) -> Record? { try move(MDB_PREV, to: nil) }
    /// The first record whose key is greater than or equal to `key`.
    public func seek(atLeast key: [UInt8]) throws(LMDBError) -> Record? { try move(MDB_SET_RANGE, to: key) }

    /// Calls `body` with the next record's key and value (checksum checked
    /// and stripped when verifying), or returns nil at the end. The buffers
    /// point into the map: they must not escape `body`. Inlinable, so that
    /// callers' bodies are specialized (no generic metadata per record).
    @inlinable
    public func withNext<R>(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> R)
        throws(LMDBError) -> R?
    {
        try visit(MDB_NEXT, to: nil, body)
    }

    /// As `withNext`, at the first record whose key is at least `key`.
    @inlinable
    public func withRecord<R>(
        atLeast key: [UInt8], _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> R
    ) throws(LMDBError) -> R? {
        try visit(MDB_SET_RANGE, to: key, body)
    }

    private func move(_ operation: MDB_cursor_op, to target: [UInt8]?) throws(LMDBError) -> Record? {
        try visit(operation, to: target) { key, value in (Array(key), Array(value)) }
    }

    @inlinable
    func visit<R>(
        _ operation: MDB_cursor_op, to target: [UInt8]?, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R
    ) throws(LMDBError) -> R? {
        var target = target ?? []
        var failedKey: [UInt8]?
        let (code, result) = target.withUnsafeMutableBytes { targetBytes in
            var key = MDB_val(mv_size: targetBytes.count, mv_data: targetBytes.baseAddress)
            var value = MDB_val()
            let code = mdb_cursor_get(handle, &key, &value, operation)
            guard code == MDB_SUCCESS else { return (code, R?.none) }
            let keyBytes = UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)
            var stored = UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
            if verifying != nil {
                guard let value = Checksum.verified(key: keyBytes, stored: stored) else {
                    failedKey = Array(keyBytes)
                    return (LMDBError.checksumMismatch.code, R?.none)
                }
                stored = value
            }
            return (code, R?.some(body(keyBytes, stored)))
        }
        if code == MDB_NOTFOUND { return nil }
        if code == LMDBError.checksumMismatch.code {
            throw LMDBError(code: code, operation: "mdb_cursor_get", database: verifying?.name, key: failedKey)
        }
        try check(code, "mdb_cursor_get")
        return result
    }
}
