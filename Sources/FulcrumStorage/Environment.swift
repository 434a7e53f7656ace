import CLMDB

/// A named LMDB database inside an `Environment`. A plain handle: valid for as
/// long as the environment that opened it.
public struct Database: Sendable, Hashable {
    @usableFromInline let dbi: MDB_dbi
    /// The name it was opened by, for messages.
    public let name: String
}

/// Owns one `MDB_env`: opens it, closes it in `deinit`, and nothing else does.
///
/// Transactions keep their environment alive, so it can never be closed under a
/// live transaction. Thread-safe as LMDB documents it: any number of read
/// transactions on any threads (the environment is opened with `MDB_NOTLS`),
/// one write transaction at a time, begun and ended on one thread.
public final class Environment: @unchecked Sendable {
    /// How to open an environment. Every LMDB option is passed explicitly.
    public struct Options: Sendable {
        public var mapSizeBytes: Int
        public var maxDatabases: UInt32
        public var maxReaders: UInt32
        /// Open without write access (backup, verify and inspection tools).
        public var readOnly: Bool
        /// When false, commits skip fsync (`MDB_NOSYNC`): for throwaway ledgers
        /// in tests and replays, never for a server's data.
        public var durable: Bool
        /// When false, a commit syncs the data but not the meta page
        /// (`MDB_NOMETASYNC`): atomicity and consistency are kept, and a
        /// system crash may undo the last transaction. For replicas, whose
        /// cluster's log holds the durable copy and replays it.
        public var metaSync: Bool

        public init(
            mapSizeBytes: Int, maxDatabases: UInt32 = 16, maxReaders: UInt32 = 1024,
            readOnly: Bool = false, durable: Bool = true, metaSync: Bool = true
        ) {
            self.mapSizeBytes = mapSizeBytes
            self.maxDatabases = maxDatabases
            self.maxReaders = maxReaders
            self.readOnly = readOnly
            self.durable = durable
            self.metaSync = metaSync
        }
    }

    let handle: OpaquePointer
    public let path: String
    public let options: Options

    /// Opens the environment in the existing directory `path`.
    /// On any failure the half-made handle is closed here, exactly once.
    public init(path: String, options: Options) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: MDB_PANIC, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, options.mapSizeBytes), "mdb_env_set_mapsize")
            // MDB_NOTLS: a read transaction is not tied to its thread, so a reader
            //   object can be used from any thread and reader slots never leak.
            // MDB_NOSYNC only for non-durable (test/replay) ledgers.
            var flags = UInt32(MDB_NOTLS)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if !options.durable { flags |= UInt32(MDB_NOSYNC) }
            if !options.metaSync { flags |= UInt32(MDB_NOMETASYNC) }
            try check(mdb_env_open(env, path, flags, 0o644), "mdb_env_open(\(path))")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.options = options
        // Clear reader slots left by processes that died holding them.
        var dead: Int32 = 0
        mdb_reader_check(env, &dead)
    }

    deinit {
        mdb_env_close(handle)
    }

    /// Opens (and with `create`, creates) a named database. Call once at start,
    /// before other transactions, as LMDB requires for `mdb_dbi_open`.
    public func openDatabase(_ name: String, create: Bool) throws(LMDBError) -> Database {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, create ? 0 : UInt32(MDB_RDONLY), &txn), "mdb_txn_begin")
        var dbi: MDB_dbi = 0
        let code = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        guard code == MDB_SUCCESS else {
            mdb_txn_abort(txn)
            throw LMDBError(code: code, operation: "mdb_dbi_open(\(name))")
        }
        // Committing (even a read-only transaction) makes the handle visible to all.
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return Database(dbi: dbi, name: name)
    }

    /// The bytes the file must hold: up to the end of the last page the newest
    /// meta page says is in use. A shorter file is truncated, and reading it
    /// through the map would end in SIGBUS, so callers check before any read.
    public var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return (info.me_last_pgno + 1) * Int(stat.ms_psize)
    }

    /// The current map size in bytes.
    public var mapSizeBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Grows the map. The caller guarantees that no transaction of this process
    /// is live (LMDB remaps the file and would pull pages from under a reader).
    public func setMapSize(bytes: Int) throws(LMDBError) {
        try check(mdb_env_set_mapsize(handle, bytes), "mdb_env_set_mapsize(\(bytes))")
    }

    /// Writes a consistent copy to the existing empty directory `path`,
    /// compacted (free pages omitted), while other transactions go on.
    public func copy(to path: String) throws(LMDBError) {
        try check(mdb_env_copy2(handle, path, UInt32(MDB_CP_COMPACT)), "mdb_env_copy2(\(path))")
    }
}
