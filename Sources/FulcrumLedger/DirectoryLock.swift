import Foundation
import FulcrumCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive claim of one process on a ledger's data directory: an
/// `flock` on the directory itself (so a directory that turns out not to be a
/// ledger is left untouched), and, once the ledger opened, the owner's pid in
/// `fulcrum.pid` for the next process's refusal. LMDB's own lock
/// file admits one writer per environment but several processes, and each
/// would keep its own caches (name ids, positions) that the other's writes
/// make wrong; this lock admits one process. The kernel drops it when the
/// process dies, kill -9 included, so a crash never leaves a stale lock.
final class DirectoryLock: Sendable {
    static let pidFileName = "fulcrum.pid"
    /// Tries (20 ms apart) before a held lock is called another process's.
    static let lockAttemptsMax = 25

    /// The descriptor holding the lock, until released (one owner, closed once).
    private let descriptor: Mutex<Int32?>

    private init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Takes the lock of `directory`, or throws `locked` naming the pid that holds it.
    static func acquire(directory: String) throws(FulcrumError) -> DirectoryLock {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FulcrumError(.storage, "cannot open \(directory): \(String(cString: strerror(errno)))", path: directory)
        }
        // A child this process is spawning holds a copy of the descriptor
        // until its exec closes it (O_CLOEXEC): a lock just released may look
        // held for that instant, so a few short retries come first.
        var attempts = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK, attempts < lockAttemptsMax {
            attempts += 1
            usleep(20_000)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(fd)
            guard reason == EWOULDBLOCK else {
                throw FulcrumError(.storage, "cannot lock \(directory): \(String(cString: strerror(reason)))", path: directory)
            }
            let holder = (try? String(contentsOfFile: directory + "/" + pidFileName, encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            throw FulcrumError(
                .locked,
                "\(directory) is in use by another process\(holder.map { " (pid \($0))" } ?? ""); one process serves a data directory",
                path: directory)
        }
        return DirectoryLock(descriptor: fd)
    }

    /// Writes this process's pid beside the ledger it holds (best effort: the lock is what counts).
    func recordOwner(directory: String) {
        try? Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.pidFileName), options: .atomic)
    }

    /// Gives the directory back. Idempotent.
    func release() {
        descriptor.withLock { fd in
            guard let held = fd else { return }
            close(held)  // closing the descriptor drops the flock
            fd = nil
        }
    }

    deinit {
        release()
    }
}
