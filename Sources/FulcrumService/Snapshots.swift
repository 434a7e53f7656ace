import Foundation
import FulcrumCore
import FulcrumLedger
import Synchronization

/// One answer of the snapshot RPC: a piece of a compacted copy of the
/// ledger, which a new or wiped replica starts from before tailing the log.
public struct SnapshotChunk: Sendable, Hashable {
    public var snapshot: String
    /// The last log entry the copy holds (0 on a single node).
    public var position: UInt64
    public var sizeBytes: UInt64
    /// CRC-32C (Castagnoli) of the whole copy.
    public var crc32c: UInt32
    /// Where `bytes` start in the copy.
    public var offset: UInt64
    public var bytes: [UInt8]
}

/// The snapshots a server holds while replicas download them, under
/// `<data>/snapshots/`: at most `Limits.snapshotsKeptMax`, each deleted once
/// read to its end or left unread for `Limits.snapshotIdleMilliseconds`.
final class SnapshotStore: Sendable {
    private struct Held {
        var path: String
        var position: UInt64
        var sizeBytes: UInt64
        var crc32c: UInt32
        var readAt: ContinuousClock.Instant
    }
    private struct State {
        var held: [String: Held] = [:]
        /// Copies being made: they count against the limit too.
        var making = 0
        var made = 0
    }
    private let root: String
    private let state = Mutex(State())

    init(root: String) {
        self.root = root
        try? FileManager.default.removeItem(atPath: root)  // an earlier process's copies: nobody can name them now
    }

    /// Makes a copy of `ledger` (a blocking disk copy: call off the event loop) and answers its first chunk.
    func make(from ledger: Ledger) throws(FulcrumError) -> SnapshotChunk {
        dropIdle()
        let id = try state.withLock { state throws(FulcrumError) -> String in
            guard state.held.count + state.making < Limits.snapshotsKeptMax else {
                throw FulcrumError(
                    .overloaded, "\(Limits.snapshotsKeptMax) snapshots are being downloaded; retry once one is done")
            }
            state.making += 1
            state.made += 1
            return "\(UInt64(Date().timeIntervalSince1970 * 1000))-\(state.made)"
        }
        defer { state.withLock { $0.making -= 1 } }
        let directory = root + "/" + id
        do throws(FulcrumError) {
            try ledger.backup(to: directory)
            let position = try LedgerBackup.position(directory: directory)?.applied ?? 0
            let path = directory + "/data.mdb"
            let (sizeBytes, crc32c) = try Self.measure(path)
            state.withLock {
                $0.held[id] = Held(path: path, position: position, sizeBytes: sizeBytes, crc32c: crc32c, readAt: .now)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return try chunk(id, offset: 0)
    }

    /// The chunk of snapshot `id` from `offset`; the last one deletes the copy.
    func chunk(_ id: String, offset: UInt64) throws(FulcrumError) -> SnapshotChunk {
        dropIdle()
        guard let held = state.withLock({ $0.held[id] }) else {
            throw FulcrumError(
                .notFound, "no snapshot \(id) here: it was read to its end, left unread too long, or made before a restart; ask for a new one",
                path: "snapshot")
        }
        guard offset <= held.sizeBytes else {
            throw FulcrumError(.invalidArgument, "snapshot \(id) holds \(held.sizeBytes) bytes; offset \(offset) is past its end", path: "offset")
        }
        let count = Int(min(UInt64(Limits.snapshotChunkBytes), held.sizeBytes - offset))
        let bytes: [UInt8]
        do {
            let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: held.path))
            defer { try? file.close() }
            try file.seek(toOffset: offset)
            bytes = Array(try file.read(upToCount: count) ?? Data())
        } catch {
            throw FulcrumError(.storage, "cannot read snapshot \(id): \(error)", path: "snapshot")
        }
        guard bytes.count == count else {
            throw FulcrumError(.storage, "snapshot \(id) ended early at \(offset + UInt64(bytes.count)) bytes", path: "snapshot")
        }
        let finished = offset + UInt64(count) == held.sizeBytes
        state.withLock { state in
            if finished { state.held[id] = nil } else { state.held[id]?.readAt = .now }
        }
        if finished { try? FileManager.default.removeItem(atPath: root + "/" + id) }
        return SnapshotChunk(
            snapshot: id, position: held.position, sizeBytes: held.sizeBytes, crc32c: held.crc32c, offset: offset, bytes: bytes)
    }

    private func dropIdle() {
        let idle = state.withLock { state -> [String] in
            let ids = state.held.filter { ContinuousClock.now - $0.value.readAt >= .milliseconds(Limits.snapshotIdleMilliseconds) }.map(\.key)
            for id in ids { state.held[id] = nil }
            return ids
        }
        for id in idle { try? FileManager.default.removeItem(atPath: root + "/" + id) }
    }

    /// A file's size and CRC-32C, read in chunks.
    static func measure(_ path: String) throws(FulcrumError) -> (sizeBytes: UInt64, crc32c: UInt32) {
        do {
            let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? file.close() }
            var check = CRC32C()
            var size: UInt64 = 0
            while let data = try file.read(upToCount: Limits.snapshotChunkBytes), !data.isEmpty {
                data.withUnsafeBytes { check.update($0) }
                size += UInt64(data.count)
            }
            return (size, check.value)
        } catch {
            throw FulcrumError(.storage, "cannot read \(path): \(error)", path: path)
        }
    }
}
