import FulcrumCore
import FulcrumStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the ledger does when stored bytes fail their checksum: the read or
/// command fails with a typed `corrupt` error naming the record (never a
/// served value), the process says so loudly on stderr, and a counter shows it.
final class Integrity: Sendable {
    let directory: String
    /// Checksum failures seen by reads, commands and the scrubber.
    let corruptRecords = Atomic<Int>(0)
    /// Records already logged, so one damaged record read a million times logs once.
    private let logged = Mutex<Set<String>>([])

    init(directory: String) { self.directory = directory }

    /// The typed error for what a storage call threw. `record` names the
    /// damaged record better than its key can (names instead of ids).
    func error(_ error: any Error, record: String? = nil) -> FulcrumError {
        if let error = error as? FulcrumError { return error }
        guard let storage = error as? LMDBError else { return FulcrumError(.storage, "\(error)", path: directory) }
        if Self.isStructuralDamage(storage) {
            report("data.mdb")
            return FulcrumError(
                .corrupt, "the file's page structure is damaged (\(storage)); stop fulcrumd and restore the ledger "
                    + "from a backup", path: directory)
        }
        if storage.code == ENOSPC || storage.code == EIO {
            return FulcrumError(
                .storage, Self.diskFailure(storage, directory: directory, freeBytes: Self.freeBytes(directory)),
                path: directory)
        }
        guard storage.code == LMDBError.checksumMismatch.code else {
            return FulcrumError(.storage, "\(error)", path: directory)
        }
        let database = storage.database ?? "?"
        let path = record.map { "\(database)/\($0)" } ?? ChecksumScan.path(database, storage.key ?? [])
        report(path)
        return FulcrumError(
            .corrupt, "the stored record \(path) fails its checksum: it is damaged and is not served; "
                + "stop fulcrumd and restore the ledger from a backup", path: path)
    }

    /// What a failed write means. A full disk often first surfaces as EIO
    /// (a page write-back failing), so the free space decides, not the code alone.
    static func diskFailure(_ error: LMDBError, directory: String, freeBytes: Int?) -> String {
        let nearlyFull = freeBytes.map { $0 < Limits.diskNearlyFullBytes } ?? false
        if error.code == ENOSPC || nearlyFull {
            let free = freeBytes.map { " (\($0) bytes free)" } ?? ""
            return "cannot write the ledger: the disk holding \(directory) is full\(free); nothing of these commands "
                + "was written, reads go on, and writes resume once there is space (\(error))"
        }
        return "cannot write the ledger: the disk holding \(directory) reported an input/output error; nothing of "
            + "these commands was written; check the disk (\(error))"
    }

    static func freeBytes(_ directory: String) -> Int? {
        var status = statvfs()
        guard statvfs(directory, &status) == 0 else { return nil }
        return Int(status.f_bavail) * Int(status.f_frsize)
    }

    /// LMDB's own findings of damage: a page of the wrong type, a page
    /// past the end, an environment it gave up on.
    static func isStructuralDamage(_ error: LMDBError) -> Bool {
        [LMDBError.corrupted, .pageNotFound, .panic].contains(error)
    }

    /// Counts a damaged record and logs it the first time.
    func report(_ path: String) {
        corruptRecords.add(1, ordering: .relaxed)
        let first = logged.withLock { logged in
            logged.count < Limits.corruptRecordsLoggedMax && logged.insert(path).inserted
        }
        guard first else { return }
        let line = "fulcrum: CORRUPT: in \(directory), the stored record \(path) fails its checksum; "
            + "it is refused on every read. Restore the ledger from a backup.\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
    }
}
