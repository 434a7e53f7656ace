import ArgumentParser
import Foundation
import FulcrumCore
import FulcrumService

/// `fulcrum verify --data DIR`: refold every entry and compare with the stored
/// state. Exit 0 only when they agree; otherwise name every mismatch.
///
/// The scan runs in a child process: a file whose structure is damaged can
/// make liblmdb assert or fault, and that must end as a report, not a core dump.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Refold the ledger's entries and compare them with its balances and reservations.")

    @OptionGroup var data: DataOptions
    @Flag(help: "Also check every stored record's checksum, listing each damaged one.") var checksums = false
    @Flag(help: "Also print a digest of every stored key and value (replicas that applied the same log agree).")
    var digest = false
    @Flag(help: "Print machine-readable JSON.") var json = false
    @Flag(help: .private) var inProcess = false

    func run() throws {
        guard inProcess else { return try runInChild() }
        let report: VerificationReport
        let digestText: String?
        do {
            report = try Service.verify(directory: data.data, checksums: checksums)
            digestText = digest ? try Service.digest(directory: data.data) : nil
        } catch {
            throw fail(error, json: json)
        }
        printReport(report, json: json, digest: digestText)
        if !report.isConsistent { throw ExitCode(1) }
    }

    /// Runs this command again with `--in-process`, passing its output
    /// through; a child killed by a signal becomes a report of structural damage.
    private func runInChild() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["verify", "--data", data.data, "--in-process"] + (checksums ? ["--checksums"] : []) + (digest ? ["--digest"] : [])
            + (json ? ["--json"] : [])
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"  // the report says what matters; no thread dump
        child.environment = environment
        let errors = Pipe()
        child.standardError = errors
        try child.run()
        let stderrBytes = errors.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        let stderrText = String(decoding: stderrBytes, as: UTF8.self)
        guard child.terminationReason == .uncaughtSignal else {
            FileHandle.standardError.write(stderrBytes)
            if child.terminationStatus != 0 { throw ExitCode(child.terminationStatus) }
            return
        }
        let signal = child.terminationStatus
        // liblmdb's assertion, when that was the cause, is the first line.
        let cause = stderrText.split(separator: "\n").first.map { ": \($0)" } ?? ""
        var report = VerificationReport()
        report.mismatches = [
            "structural damage: reading \(data.data)/data.mdb stopped with signal \(signal) "
                + "(\(String(cString: strsignal(signal))))\(cause); the file's pages are damaged: "
                + "restore the ledger from a backup"
        ]
        printReport(report, json: json)
        throw ExitCode(1)
    }
}

func printReport(_ report: VerificationReport, json: Bool, digest: String? = nil) {
    if json {
        var fields: [(String, JSON)] = [
            ("consistent", .bool(report.isConsistent)), ("entries", .integer(Int64(report.entries))),
            ("positions", .integer(Int64(report.positions))), ("reservations", .integer(Int64(report.reservations))),
            ("receipts", .integer(Int64(report.receipts))), ("checked_records", .integer(Int64(report.checkedRecords))),
            ("mismatches", .array(report.mismatches.map(JSON.string))),
        ]
        if let digest { fields.append(("digest", .string(digest))) }
        print(JSON.orderedObject(fields).rendered)
        return
    }
    if let digest { print("digest: \(digest)") }
    for mismatch in report.mismatches { print("mismatch: \(mismatch)") }
    let verdict = report.isConsistent ? "consistent" : "\(report.mismatches.count) mismatches"
    print(
        "\(verdict): \(report.entries) entries refolded against \(report.positions) positions, "
            + "\(report.reservations) reservations, \(report.receipts) receipts"
            + (report.checkedRecords > 0 ? "; \(report.checkedRecords) stored records checksummed" : ""))
}

/// `fulcrum backup --data DIR --to PATH`: a consistent compacted copy, verified.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the ledger, consistently and compacted, while it is in use; then verify the copy.")

    @OptionGroup var data: DataOptions
    @Option(help: "The directory to write the copy to (created; must be empty).") var to: String
    @Flag(help: "Print machine-readable JSON.") var json = false

    func run() throws {
        do {
            let report = try Service.backup(directory: data.data, to: to)
            if !json { print("backed up \(data.data) to \(to)") }
            printReport(report, json: json)
            if !report.isConsistent { throw ExitCode(1) }
        } catch let error as FulcrumError {
            throw fail(error, json: json)
        }
    }
}

/// `fulcrum snapshot --server ADDR --to DIR`: a running server's ledger,
/// copied over the snapshot RPC (what a new replica starts from), then verified.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy a running server's ledger over the RPC (admin scope): consistent, compacted, checked; then verify the copy.")

    @OptionGroup var server: ServerOptions
    @Option(help: "The directory to write the copy to (created; must be empty).") var to: String

    func run() async throws {
        let report: VerificationReport
        do throws(FulcrumError) {
            do {
                try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
            } catch {
                throw FulcrumError(.storage, "cannot create \(to): \(error)", path: "to")
            }
            guard (try? FileManager.default.contentsOfDirectory(atPath: to))?.isEmpty == true else {
                throw FulcrumError(.invalidArgument, "the snapshot directory must be empty", path: "to")
            }
            let client = try await server.connect()
            let downloaded: (position: UInt64, sizeBytes: UInt64)
            do throws(FulcrumError) {
                downloaded = try await client.downloadSnapshot(to: to + "/data.mdb")
                await client.close()
            } catch {
                await client.close()
                throw error
            }
            report = try Service.verify(directory: to, checksums: true)
            if !server.json { print("copied \(downloaded.sizeBytes) bytes from \(server.server) to \(to) (log position \(downloaded.position))") }
        } catch {
            throw fail(error, json: server.json)
        }
        printReport(report, json: server.json)
        if !report.isConsistent { throw ExitCode(1) }
    }
}
