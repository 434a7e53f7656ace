import CLMDB

/// An LMDB return code, wrapped like swift-system's `Errno`: a struct over the
/// C value with readable static names, so callers can `catch LMDBError.mapFull`.
/// Positive codes are POSIX errno values (ENOENT, EACCES, ENOSPC, ...).
/// One code is Fulcrum's own: `checksumMismatch`, a stored value whose
/// checksum does not match (LMDB itself checks none), with its database and key.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32
    /// The LMDB call that failed, for the message.
    public let operation: String
    /// For `checksumMismatch`: where the damaged value is stored.
    public let database: String?
    public let key: [UInt8]?

    public init(code: Int32, operation: String, database: String? = nil, key: [UInt8]? = nil) {
        self.code = code
        self.operation = operation
        self.database = database
        self.key = key
    }

    public var description: String {
        if code == Self.checksumMismatch.code {
            return "\(operation): the value stored in \(database ?? "?") under key \(Checksum.hex(key ?? [])) "
                + "fails its checksum (damaged on disk or in memory)"
        }
        return "\(operation): \(String(cString: mdb_strerror(code))) (\(code))"
    }

    // Equality and hashing by code only: `catch LMDBError.mapFull` matches any operation.
    public static func == (lhs: LMDBError, rhs: LMDBError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public static func ~= (pattern: LMDBError, error: any Error) -> Bool {
        (error as? LMDBError)?.code == pattern.code
    }

    public static let keyExists = LMDBError(code: MDB_KEYEXIST, operation: "")
    public static let notFound = LMDBError(code: MDB_NOTFOUND, operation: "")
    public static let corrupted = LMDBError(code: MDB_CORRUPTED, operation: "")
    public static let pageNotFound = LMDBError(code: MDB_PAGE_NOTFOUND, operation: "")
    public static let panic = LMDBError(code: MDB_PANIC, operation: "")
    public static let versionMismatch = LMDBError(code: MDB_VERSION_MISMATCH, operation: "")
    public static let invalid = LMDBError(code: MDB_INVALID, operation: "")
    public static let mapFull = LMDBError(code: MDB_MAP_FULL, operation: "")
    public static let databasesFull = LMDBError(code: MDB_DBS_FULL, operation: "")
    public static let readersFull = LMDBError(code: MDB_READERS_FULL, operation: "")
    public static let transactionFull = LMDBError(code: MDB_TXN_FULL, operation: "")
    public static let mapResized = LMDBError(code: MDB_MAP_RESIZED, operation: "")
    public static let incompatible = LMDBError(code: MDB_INCOMPATIBLE, operation: "")
    public static let badTransaction = LMDBError(code: MDB_BAD_TXN, operation: "")
    public static let badValueSize = LMDBError(code: MDB_BAD_VALSIZE, operation: "")
    /// Outside LMDB's range of codes (-30799...-30780) and errno's.
    public static let checksumMismatch = LMDBError(code: -30_700, operation: "")
}

/// The one place LMDB return codes become Swift errors.
@inlinable
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if code != MDB_SUCCESS {
        throw LMDBError(code: code, operation: operation())
    }
}
