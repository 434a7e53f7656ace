import ArgumentParser
import FulcrumCore

/// The `fulcrum` command line: operator tools over a ledger's data directory.
@main
struct Fulcrum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulcrum",
        abstract: "Fulcrum: inventory ledger and fulfillment optimization.",
        subcommands: [
            Demo.self, Optimize.self, Return.self, Generate.self, Verify.self, Backup.self, SnapshotCommand.self, Stress.self,
            Adjust.self, AllocateCommand.self, TransferCommand.self, Receive.self, Reschedule.self, Reconcile.self, Reserve.self, ReservationCommand.self, Confirm.self, Ship.self, Release.self, ATP.self,
            Stats.self, Bench.self, Replay.self, OrderState.self, Records.self, EventCommand.self, Reprocess.self, DeadLetters.self, Backorders.self, Insights.self,
            Shim.self, Audit.self, Profiles.self, Skus.self, NodeCommand.self, Place.self, Token.self,
            Version.self,
        ]
    )
}

/// Options every command that opens a data directory shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The ledger's data directory.")
    var data: String

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data must name a directory") }
    }
}

/// Prints a client error as `{"error": {...}}` or a line, and exits non-zero.
func fail(_ error: FulcrumError, json: Bool) -> ExitCode {
    if json {
        printErrorJSON(error)
    } else {
        printError("error: \(error)")
    }
    return ExitCode(2)
}

/// The spec's error object, on standard output.
func printErrorJSON(_ error: FulcrumError) {
    print(JSON.object(["error": JSON.object([
        "code": .string(error.code.rawValue), "message": .string(error.message), "path": .string(error.path),
    ])]).rendered)
}
