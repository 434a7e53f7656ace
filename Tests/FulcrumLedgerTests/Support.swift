import Foundation
import FulcrumCore
@testable import FulcrumLedger

func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "fulcrum-ledger-\(UUID().uuidString)"
}

/// A throwaway ledger: no fsync, no background expiry sweeps, a manual clock.
func makeLedger(
    clock: ManualClock = ManualClock(), durable: Bool = false, configure: (inout Ledger.Options) -> Void = { _ in }
) throws -> Ledger {
    var options = Ledger.Options()
    options.durable = durable
    options.clock = clock
    options.expirySweepIntervalMilliseconds = nil
    configure(&options)
    return try Ledger(directory: temporaryDirectory(), options: options)
}

/// Runs a command and returns its outcome as a value (for comparisons).
func outcome(_ ledger: Ledger, _ command: LedgerCommand, key: String? = nil) async -> Result<LedgerResult, FulcrumError> {
    do {
        return .success(try await ledger.execute(command, idempotencyKey: key))
    } catch {
        return .failure(error)
    }
}

func line(_ node: String, _ sku: String, _ quantity: Int64) -> ReservationLine {
    ReservationLine(node: node, sku: sku, quantity: quantity)
}

/// The path of an executable built beside the test bundle.
func builtExecutable(_ name: String) -> String {
    if let override = ProcessInfo.processInfo.environment["FULCRUM_BIN_DIR"] { return override + "/" + name }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // On Linux the test bundle is an executable in the build directory; on
    // macOS it is a bundle two levels deeper.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path
}
