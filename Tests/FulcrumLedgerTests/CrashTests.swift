import Foundation
import FulcrumTestSupport
import FulcrumCore
import Testing
@testable import FulcrumLedger

@Suite struct CrashTests {
    /// A child applies commands as fast as it can and prints each acknowledged
    /// one; SIGKILL at a seeded random moment; on reopen every acknowledged
    /// command is there, the refold agrees, and the ledger takes new commands.
    @Test(arguments: [101, 202, 303, 404, 505] as [UInt64])
    func acknowledgedCommandsSurviveSIGKILL(seed: UInt64) async throws {
        let directory = temporaryDirectory()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: builtExecutable("fulcrum"))
        child.arguments = [
            "stress", "--data", directory, "--seed", "\(seed)", "--commands", "50000000", "--submitters", "32", "--acks",
        ]
        let pipe = Pipe()
        child.standardOutput = pipe
        child.standardError = FileHandle.nullDevice
        let output = OutputCollector(pipe.fileHandleForReading)
        try child.run()
        var random = SplitMix64(seed: seed)
        let deadline = Date().addingTimeInterval(30)
        while output.lineCount < 100 && Date() < deadline && child.isRunning {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 10...500, using: &random)))
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal, "seed \(seed): the child ended before the kill")

        let acknowledged = output.completeLines().compactMap { $0.hasPrefix("ack ") ? String($0.dropFirst(4)) : nil }
        #expect(acknowledged.count >= 100, "seed \(seed)")
        let report = try LedgerVerifier.verify(directory: directory)
        #expect(report.isConsistent, "seed \(seed): \(report.mismatches)")

        let ledger = try Ledger(directory: directory)
        let reader = try ledger.makeReader()
        let missing = try acknowledged.filter { try reader.result(idempotencyKey: $0) == nil }
        #expect(missing.isEmpty, "seed \(seed): \(missing.count) of \(acknowledged.count) acknowledged commands lost")
        _ = try await ledger.adjust(.init(node: "N0", sku: "SKU0", change: .delta(1), reason: "after the crash"))
        #expect(try ledger.verify().isConsistent)
    }
}
