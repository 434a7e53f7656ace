import Foundation
import FulcrumTestSupport
import FulcrumCore
@testable import FulcrumLedger

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

