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
        case readWrite(durable: Bool, mapSizeBytes: Int, readersMax: Int)
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
                schema = try Schema(environment: environment, create: false, writable: false)
            case .readWrite(let durable, let mapSizeBytes, let readersMax):
                environment = try Environment(
                    path: directory,
                    options: .init(mapSizeBytes: mapSizeBytes, maxReaders: UInt32(readersMax), durable: durable))
                // An existing file must already hold every database: a foreign
                // LMDB file is refused, not extended.
                schema = try Schema(environment: environment, create: !exists, writable: true)
            }
        } catch LMDBError.invalid {
            throw notALedger(directory, "data.mdb is not an LMDB file")
        } catch LMDBError.notFound {
            throw notALedger(directory, "it has none of the ledger's databases")
        } catch LMDBError.versionMismatch {
            throw notALedger(directory, "data.mdb was written by an incompatible LMDB")
        } catch {
            throw FulcrumError(.storage, error.description, path: directory)
        }
        try checkFormat(environment: environment, schema: schema, directory: directory, create: !exists)
        lock?.recordOwner(directory: directory)
        return (environment, schema, lock)
    }

    private static func checkFormat(environment: Environment, schema: Schema, directory: String, create: Bool)
        throws(FulcrumError)
    {
        do {
            if create {
                let transaction = try WriteTransaction(environment)
                try transaction.put(schema.meta, key: Schema.formatKey, value: Schema.formatRecord())
                try transaction.commit()
                return
            }
            let transaction = try ReadTransaction(environment)
            guard let stored = try transaction.value(schema.meta, key: Schema.formatKey) else {
                throw notALedger(directory, "it has no format record")
            }
            guard stored == Schema.formatRecord() else {
                throw notALedger(directory, "its format record is not version \(Schema.formatVersion) of this ledger")
            }
        } catch let error as FulcrumError {
            throw error
        } catch {
            throw FulcrumError(.storage, "\(error)", path: directory)
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
