import Foundation
import FulcrumCore
import Testing
@testable import FulcrumLedger

/// What one hammering thread did, for the conservation check.
private struct ThreadTally {
    var adjustedUnits: Int64 = 0
    var shippedUnits: Int64 = 0
    var orders: [String] = []
}

@Suite struct ConcurrencyTests {
    static let keys = [PositionKey(node: "A", sku: "HOT1"), PositionKey(node: "A", sku: "HOT2"), PositionKey(node: "B", sku: "HOT1")]

    /// 16 threads hammer three hot positions with every command while a reader
    /// checks the invariants on every snapshot; at the end units are conserved
    /// and the refold agrees.
    @Test func hotSKUsNeverOversell() async throws {
        let ledger = try makeLedger(durable: false)
        for key in Self.keys {
            _ = try await ledger.adjust(.init(node: key.node, sku: key.sku, change: .set(50)))
        }
        let stop = Flag()
        let violations = Completions()
        let checker = Thread {
            let reader = try! ledger.makeReader()
            while !stop.isSet {
                for position in try! reader.positions(Self.keys) where !position.isValid {
                    violations.record(.failure(FulcrumError(.corrupt, "\(position)")))
                }
            }
        }
        checker.start()
        let threadCount = 16
        let tallies = TallyBox(count: threadCount)
        let done = DispatchGroup()
        for thread in 0..<threadCount {
            done.enter()
            Thread {
                tallies.set(thread, Self.hammer(ledger, seed: UInt64(thread)))
                done.leave()
            }.start()
        }
        done.wait()
        stop.set()
        #expect(violations.counts.2 == 0, "an invariant broke in some snapshot")

        let reader = try ledger.makeReader()
        let positions = try reader.positions(Self.keys)
        let all = tallies.all
        let adjusted = all.reduce(0) { $0 + $1.adjustedUnits }
        let shipped = all.reduce(0) { $0 + $1.shippedUnits }
        #expect(positions.reduce(0) { $0 + $1.onHand } == 150 + adjusted - shipped, "units are conserved")
        var reserved: Int64 = 0
        var committed: Int64 = 0
        for order in all.flatMap(\.orders) {
            guard let reservation = try reader.reservation(order: order) else { continue }
            let units = reservation.lines.reduce(0) { $0 + $1.quantity }
            if reservation.state == .reserved { reserved += units }
            if reservation.state == .confirmed { committed += units }
        }
        #expect(positions.reduce(0) { $0 + $1.reserved } == reserved)
        #expect(positions.reduce(0) { $0 + $1.committed } == committed)
        #expect(positions.allSatisfy { $0.isValid })
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.mismatches)")
    }

    /// One thread's blocking loop over the callback API.
    private static func hammer(_ ledger: Ledger, seed: UInt64) -> ThreadTally {
        var random = SplitMix64(seed: seed)
        var tally = ThreadTally()
        var open: [String] = []
        var confirmed: [String: Int64] = [:]
        func run(_ command: LedgerCommand) -> LedgerResult? {
            let semaphore = DispatchSemaphore(value: 0)
            let box = ResultBox()
            ledger.submit(command) { result in
                box.result = result
                semaphore.signal()
            }
            semaphore.wait()
            return try? box.result!.get()
        }
        for index in 0..<1_500 {
            let key = keys[Int.random(in: 0..<keys.count, using: &random)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0:
                let delta = Int64.random(in: -6...12, using: &random)
                if delta != 0, run(.adjust(.init(node: key.node, sku: key.sku, change: .delta(delta)))) != nil {
                    tally.adjustedUnits += delta
                }
            case 1...2 where !open.isEmpty:
                let order = open.removeLast()
                if case .reservation(let r) = run(.confirm(order: order)) {
                    confirmed[order] = r.lines.reduce(0) { $0 + $1.quantity }
                }
            case 3 where !confirmed.isEmpty:
                let (order, units) = confirmed.first!
                confirmed[order] = nil
                if run(.ship(order: order)) != nil { tally.shippedUnits += units }
            case 4 where !open.isEmpty:
                _ = run(.release(order: open.removeFirst()))
            default:
                let order = "t\(seed)-\(index)"
                var lines = [line(key.node, key.sku, Int64.random(in: 1...3, using: &random))]
                let other = keys[Int.random(in: 0..<keys.count, using: &random)]
                if other != key { lines.append(line(other.node, other.sku, 1)) }
                if run(.reserve(.init(order: order, lines: lines))) != nil {
                    open.append(order)
                    tally.orders.append(order)
                }
            }
        }
        return tally
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<LedgerResult, FulcrumError>?
}

private final class TallyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var tallies: [ThreadTally]
    init(count: Int) { tallies = Array(repeating: ThreadTally(), count: count) }
    func set(_ index: Int, _ tally: ThreadTally) { lock.withLock { tallies[index] = tally } }
    var all: [ThreadTally] { lock.withLock { tallies } }
}
