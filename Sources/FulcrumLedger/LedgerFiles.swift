import FulcrumCore
import FulcrumStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening a ledger's data directory: the one place that decides whether a
/// directory is a ledger, a new ledger, or something else.
enum LedgerFiles {
    enum Mode {
        /// The writer's mode: create the directory and the ledger when absent.
        /// `metaSync` false: a replica's commits skip the meta page's sync (its log replays what a crash undoes).
        case readWrite(durable: Bool, metaSync: Bool = true, mapSizeBytes: Int, readersMax: Int)
        /// Tools (verify, backup): the ledger must exist; nothing is written.
        case readOnly
    }

    /// Opens the environment; in `readWrite` mode, first takes the
    /// directory's lock (returned: the caller holds it while it writes).
    static func open(directory: String, mode: Mode) throws(FulcrumError) -> (Environment, Schema, DirectoryLock?) {
        let dataFile = directory + "/data.mdb"
        let exists = fileExists(dataFile)
        switch mode {
        case .readOnly:
            guard exists else { throw notALedger(directory, "it has no data.mdb") }
        case .readWrite:
            if !exists {
                try makeDirectory(directory)
                guard isEmptyDirectory(directory) else {
                    throw notALedger(directory, "it is not empty and has no data.mdb")
                }
            }
        }
        var lock: DirectoryLock?
        if case .readWrite = mode { lock = try DirectoryLock.acquire(directory: directory) }
        let environment: Environment
        let schema: Schema
        do {
            switch mode {
            case .readOnly:
                // Map size 0: LMDB uses the size recorded in the file.
                environment = try Environment(path: directory, options: .init(mapSizeBytes: 0, readOnly: true))
                try refuseTruncated(environment, dataFile: dataFile, directory: directory)
                schema = try Schema(environment: environment, create: false, writable: false)
            case .readWrite(let durable, let metaSync, let mapSizeBytes, let readersMax):
                environment = try Environment(
                    path: directory,
                    options: .init(mapSizeBytes: mapSizeBytes, maxReaders: UInt32(readersMax), durable: durable, metaSync: metaSync))
                try refuseTruncated(environment, dataFile: dataFile, directory: directory)
                // An existing file must already hold every database: a foreign
                // LMDB file is refused, not extended.
                schema = try Schema(environment: environment, create: !exists, writable: true)
            }
        } catch let error as FulcrumError {
            throw error
        } catch LMDBError.invalid {
            throw notALedger(directory, "data.mdb is not an LMDB file")
        } catch LMDBError.notFound {
            throw notALedger(directory, "it has none of the ledger's databases")
        } catch LMDBError.versionMismatch {
            throw notALedger(directory, "data.mdb was written by an incompatible LMDB")
        } catch let error as LMDBError where Integrity.isStructuralDamage(error) {
            throw structuralDamage(error, directory: directory)
        } catch {
            throw FulcrumError(.storage, "\(error)", path: directory)
        }
        try checkFormat(environment: environment, schema: schema, directory: directory, create: !exists, writable: lock != nil)
        lock?.recordOwner(directory: directory)
        return (environment, schema, lock)
    }

    /// A data.mdb shorter than the pages its meta page says are in use has
    /// lost its tail (a bad copy, a full disk under another tool): refuse it
    /// before any page is read through the map, where it would be a SIGBUS.
    private static func refuseTruncated(_ environment: Environment, dataFile: String, directory: String)
        throws(FulcrumError)
    {
        var status = stat()
        guard stat(dataFile, &status) == 0 else { return }
        let needed = environment.usedBytes
        guard Int(status.st_size) < needed else { return }
        throw FulcrumError(
            .corrupt,
            "\(dataFile) is truncated: it holds \(status.st_size) bytes but its pages in use end at \(needed) bytes; "
                + "restore the directory from a backup",
            path: directory)
    }

    private static func checkFormat(
        environment: Environment, schema: Schema, directory: String, create: Bool, writable: Bool
    ) throws(FulcrumError) {
        do {
            if create {
                let transaction = try WriteTransaction(environment)
                try transaction.put(schema.meta, key: Schema.formatKey, value: Schema.formatRecord())
                try transaction.commit()
                return
            }
            let stored = try ReadTransaction(environment).storedValue(schema.meta, key: Schema.formatKey)
            guard let stored else { throw notALedger(directory, "it has no format record") }
            if stored == Schema.formatRecord(version: 1) {
                guard writable else {
                    throw notALedger(
                        directory, "it is in format 1, from before checksums; start fulcrumd on it once to upgrade it")
                }
                try upgradeFromVersion1(environment: environment, schema: schema)
                return
            }
            let transaction = try ReadTransaction(environment)
            guard try transaction.value(schema.meta, key: Schema.formatKey) == Schema.formatRecord() else {
                throw notALedger(directory, "its format record is not version \(Schema.formatVersion) of this ledger")
            }
        } catch let error as FulcrumError {
            throw error
        } catch LMDBError.checksumMismatch {
            throw notALedger(directory, "its format record fails its checksum")
        } catch let error as LMDBError where Integrity.isStructuralDamage(error) {
            throw structuralDamage(error, directory: directory)
        } catch {
            throw FulcrumError(.storage, "\(error)", path: directory)
        }
    }

    private static func structuralDamage(_ error: LMDBError, directory: String) -> FulcrumError {
        FulcrumError(
            .corrupt, "data.mdb's page structure is damaged (\(error)); restore the ledger from a backup", path: directory)
    }

    /// Rewrites every value of a format-1 ledger with its checksum, and the
    /// format record last, in one transaction: a crash leaves format 1 whole.
    private static func upgradeFromVersion1(environment: Environment, schema: Schema) throws(LMDBError) {
        let transaction = try WriteTransaction(environment)
        for database in schema.all {
            var after: [UInt8]? = nil
            // A chunk is read, then rewritten: puts move pages under a live cursor.
            while case let chunk = try transaction.records(
                database, after: after, limit: Limits.storageChunkRecordsMax, verifying: false), let last = chunk.last
            {
                for (key, value) in chunk where !(database == schema.meta && key == Schema.formatKey) {
                    try transaction.put(database, key: key, value: value)
                }
                after = last.key
            }
        }
        try canonicalizeKeys(schema: schema, in: transaction)
        try transaction.put(schema.meta, key: Schema.formatKey, value: Schema.formatRecord())
        try transaction.commit()
    }

    /// Format 1 keyed names by the bytes first sent; format 2 by their NFC
    /// bytes (`Names.keyBytes`). Re-keys what differs; where both forms were
    /// stored, the first in key order keeps the name.
    private static func canonicalizeKeys(schema: Schema, in transaction: borrowing WriteTransaction) throws(LMDBError) {
        let textKeyed: [(Database, prefixBytes: Int)] = [
            (schema.names, 1), (schema.reservations, 0), (schema.receipts, 0), (schema.idempotency, 0),
            (schema.expiries, 8),
        ]
        for (database, prefixBytes) in textKeyed {
            var moves: [(from: [UInt8], to: [UInt8], value: [UInt8])] = []
            var after: [UInt8]? = nil
            while case let chunk = try transaction.records(database, after: after, limit: Limits.storageChunkRecordsMax),
                let last = chunk.last
            {
                for (key, value) in chunk where key.count > prefixBytes && key.contains(where: { $0 >= 0x80 }) {
                    let canonical = Array(key.prefix(prefixBytes))
                        + Names.keyBytes(String(decoding: key.dropFirst(prefixBytes), as: UTF8.self))
                    if canonical != key { moves.append((key, canonical, value)) }
                }
                after = last.key
            }
            for move in moves {
                try transaction.delete(database, key: move.from)
                if try transaction.value(database, key: move.to) == nil {
                    try transaction.put(database, key: move.to, value: move.value)
                }
            }
        }
    }

    private static func notALedger(_ directory: String, _ why: String) -> FulcrumError {
        FulcrumError(.notALedger, "\(directory) is not a Fulcrum ledger: \(why)", path: directory)
    }

    static func fileExists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    static func isEmptyDirectory(_ path: String) -> Bool {
        guard let directory = opendir(path) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { return false }
        }
        return true
    }

    /// `mkdir -p`.
    static func makeDirectory(_ path: String) throws(FulcrumError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FulcrumError(.storage, "cannot create \(prefix): \(String(cString: strerror(errno)))", path: path)
            }
        }
    }
}
