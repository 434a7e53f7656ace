import ArgumentParser
import FulcrumCore
import FulcrumService

/// `fulcrum verify --data DIR`: refold every entry and compare with the stored
/// state. Exit 0 only when they agree; otherwise name every mismatch.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Refold the ledger's entries and compare them with its balances and reservations.")

    @OptionGroup var data: DataOptions
    @Flag(help: "Print machine-readable JSON.") var json = false

    func run() throws {
        let report: VerificationReport
        do {
            report = try Service.verify(directory: data.data)
        } catch {
            throw fail(error, json: json)
        }
        printReport(report, json: json)
        if !report.isConsistent { throw ExitCode(1) }
    }
}

func printReport(_ report: VerificationReport, json: Bool) {
    if json {
        print(JSON.object([
            "consistent": .bool(report.isConsistent), "entries": .integer(Int64(report.entries)),
            "positions": .integer(Int64(report.positions)), "reservations": .integer(Int64(report.reservations)),
            "receipts": .integer(Int64(report.receipts)), "mismatches": .array(report.mismatches.map(JSON.string)),
        ]).rendered)
        return
    }
    for mismatch in report.mismatches { print("mismatch: \(mismatch)") }
    let verdict = report.isConsistent ? "consistent" : "\(report.mismatches.count) mismatches"
    print(
        "\(verdict): \(report.entries) entries refolded against \(report.positions) positions, "
            + "\(report.reservations) reservations, \(report.receipts) receipts")
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
