import Foundation
import FulcrumTestSupport
import FulcrumCore
import Testing
@testable import FulcrumLedger

@Suite struct LedgerCommandTests {
    @Test func adjustSetsAndMovesOnHand() async throws {
        let ledger = try makeLedger()
        #expect(try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10))).onHand == 10)
        #expect(try await ledger.adjust(.init(node: "A", sku: "X", change: .delta(-3), reason: "damaged")).onHand == 7)
        let reader = try ledger.makeReader()
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 7, reserved: 0, committed: 0, safetyStock: 0))
        #expect(try reader.position(node: "A", sku: "never") == .zero)
    }

    @Test func reservationLifeCycleMovesBalances() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.adjust(.init(node: "B", sku: "Y", change: .set(5)))
        let reader = try ledger.makeReader()
        let reserved = try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 4), line("B", "Y", 5)]))
        #expect(reserved.state == .reserved)
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 10, reserved: 4, committed: 0, safetyStock: 0))
        #expect(try reader.availableToPromise(node: "B", sku: "Y") == 0)
        #expect(try await ledger.confirm(order: "o1").state == .confirmed)
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 10, reserved: 0, committed: 4, safetyStock: 0))
        #expect(try await ledger.ship(order: "o1").state == .shipped)
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 6, reserved: 0, committed: 0, safetyStock: 0))
        #expect(try reader.reservation(order: "o1")?.state == .shipped)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func reserveIsAllOrNothing() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.adjust(.init(node: "B", sku: "Y", change: .set(1)))
        do {
            _ = try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 4), line("B", "Y", 2)]))
            Issue.record("reserved more than available")
        } catch {
            #expect(error.code == .insufficientStock)
            #expect(error.path == "lines[1].quantity")
        }
        let reader = try ledger.makeReader()
        #expect(try reader.position(node: "A", sku: "X").reserved == 0)
        #expect(try reader.reservation(order: "o1") == nil)
    }

    @Test func releaseReturnsStockFromReservedOrCommitted() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 3)]))
        _ = try await ledger.reserve(.init(order: "o2", lines: [line("A", "X", 2)]))
        _ = try await ledger.confirm(order: "o2")
        _ = try await ledger.release(order: "o1")
        _ = try await ledger.release(order: "o2")
        let reader = try ledger.makeReader()
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 10, reserved: 0, committed: 0, safetyStock: 0))
        // A released order may be reserved again.
        #expect(try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 10)])).state == .reserved)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func illegalTransitionsAreTypedAndChangeNothing() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 3)]))
        _ = try await ledger.release(order: "o1")
        let reader = try ledger.makeReader()
        let entries = try reader.counts().entries
        let cases: [(LedgerCommand, FulcrumError.Code)] = [
            (.confirm(order: "o1"), .illegalTransition),
            (.ship(order: "o1"), .illegalTransition),
            (.release(order: "o1"), .illegalTransition),
            (.confirm(order: "nope"), .reservationNotFound),
            (.ship(order: "nope"), .reservationNotFound),
        ]
        for (command, code) in cases {
            guard case .failure(let error) = await outcome(ledger, command) else {
                Issue.record("\(command) succeeded")
                continue
            }
            #expect(error.code == code, "\(command)")
        }
        _ = try await ledger.reserve(.init(order: "o2", lines: [line("A", "X", 1)]))
        _ = try await ledger.confirm(order: "o2")
        _ = try await ledger.ship(order: "o2")
        guard case .failure(let twice) = await outcome(ledger, .ship(order: "o2")) else {
            Issue.record("shipped twice")
            return
        }
        #expect(twice.code == .illegalTransition)
        #expect(try reader.counts().entries == entries + 3)
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 9, reserved: 0, committed: 0, safetyStock: 0))
    }

    @Test func safetyStockIsHeldBackFromPromising() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.setSafetyStock(.init(node: "A", sku: "X", quantity: 4))
        let reader = try ledger.makeReader()
        #expect(try reader.availableToPromise(node: "A", sku: "X") == 6)
        guard case .failure(let error) = await outcome(ledger, .reserve(.init(order: "o", lines: [line("A", "X", 7)])))
        else {
            Issue.record("reserved into safety stock")
            return
        }
        #expect(error.code == .insufficientStock)
        _ = try await ledger.setSafetyStock(.init(node: "A", sku: "X", quantity: 50))
        #expect(try reader.availableToPromise(node: "A", sku: "X") == 0, "never negative")
    }

    @Test func scheduledReceiptsCountForLaterDatesAndReceiveCloses() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        let now = clock.now()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(5)))
        _ = try await ledger.schedule(.init(.init(receipt: "PO-1", node: "A", sku: "X", quantity: 20, due: now.adding(seconds: 86_400))))
        _ = try await ledger.schedule(.init(.init(receipt: "PO-2", node: "B", sku: "X", quantity: 7, due: now.adding(seconds: 3 * 86_400))))
        let reader = try ledger.makeReader()
        #expect(try reader.availableToPromise(node: "A", sku: "X") == 5)
        #expect(try reader.availableToPromise(node: "A", sku: "X", on: now.adding(seconds: 3_600)) == 5)
        #expect(try reader.availableToPromise(node: "A", sku: "X", on: now.adding(seconds: 86_400)) == 25)
        let byNode = try reader.availableToPromise(sku: "X", on: now.adding(seconds: 4 * 86_400))
        #expect(byNode.map(\.node) == ["A", "B"] && byNode.map(\.available) == [25, 7])
        #expect(try await ledger.receive(.init(receipt: "PO-1", quantity: 18)).onHand == 23)
        #expect(try reader.receipt("PO-1") == nil)
        #expect(try reader.availableToPromise(node: "A", sku: "X", on: now.adding(seconds: 86_400)) == 23)
        guard case .failure(let again) = await outcome(ledger, .receive(.init(receipt: "PO-1"))) else {
            Issue.record("received twice")
            return
        }
        #expect(again.code == .receiptNotFound)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func lapsedReservationsExpireByTheInjectedClock() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.reserve(.init(order: "short", lines: [line("A", "X", 3)], ttlSeconds: 60))
        _ = try await ledger.reserve(.init(order: "long", lines: [line("A", "X", 4)], ttlSeconds: 600))
        #expect(try await ledger.expireDue() == [])
        clock.advance(milliseconds: 60_000)
        // Lapsed but not yet swept: it can no longer be confirmed.
        guard case .failure(let lapsed) = await outcome(ledger, .confirm(order: "short")) else {
            Issue.record("confirmed a lapsed reservation")
            return
        }
        #expect(lapsed.code == .illegalTransition)
        #expect(try await ledger.expireDue() == ["short"])
        let reader = try ledger.makeReader()
        #expect(try reader.reservation(order: "short")?.state == .expired)
        #expect(try reader.position(node: "A", sku: "X").reserved == 4)
        _ = try await ledger.confirm(order: "long")
        clock.advance(milliseconds: 600_000)
        #expect(try await ledger.expireDue() == [], "a confirmed reservation does not expire")
        #expect(try ledger.verify().isConsistent)
    }

    @Test func theWriterSweepsExpiriesOnItsOwn() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock) { $0.expirySweepIntervalMilliseconds = 10 }
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.reserve(.init(order: "o", lines: [line("A", "X", 3)], ttlSeconds: 1))
        clock.advance(milliseconds: 1_000)
        let reader = try ledger.makeReader()
        for _ in 0..<500 where try reader.position(node: "A", sku: "X").reserved != 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try reader.reservation(order: "o")?.state == .expired)
        #expect(try reader.position(node: "A", sku: "X").reserved == 0)
    }

    @Test func idempotencyKeysReturnTheFirstResultAndRefuseOtherRequests() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .delta(5)), idempotencyKey: "k1")
        let again = try await ledger.adjust(.init(node: "A", sku: "X", change: .delta(5)), idempotencyKey: "k1")
        #expect(again.onHand == 5, "applied once")
        let reserve = ReserveRequest(order: "o", lines: [line("A", "X", 2)])
        let first = try await ledger.reserve(reserve, idempotencyKey: "k2")
        clock.advance(milliseconds: 5_000)
        #expect(try await ledger.reserve(reserve, idempotencyKey: "k2") == first, "the first result, not a new one")
        guard case .failure(let conflict) = await outcome(ledger, .adjust(.init(node: "A", sku: "X", change: .delta(6))), key: "k1")
        else {
            Issue.record("a reused key with another request was accepted")
            return
        }
        #expect(conflict.code == .idempotencyConflict)
        #expect(try ledger.makeReader().position(node: "A", sku: "X") == Position(onHand: 5, reserved: 2, committed: 0, safetyStock: 0))
        #expect(try ledger.makeReader().result(idempotencyKey: "k2") == .reservation(first))
    }

    @Test func aFailingCommandFailsAloneInItsGroup() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        let groupsBefore = ledger.statistics.groups.load(ordering: .relaxed)
        let results = await withTaskGroup(of: (Int, Result<LedgerResult, FulcrumError>).self) { group in
            for index in 0..<40 {
                group.addTask {
                    // Every fifth request is malformed (zero quantity).
                    let quantity: Int64 = index % 5 == 0 ? 0 : 1
                    let request = ReserveRequest(order: "o\(index)", lines: [line("A", "X", quantity)])
                    return (index, await outcome(ledger, .reserve(request)))
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let succeeded = results.values.filter { if case .success = $0 { true } else { false } }.count
        let malformed = results.filter { $0.key % 5 == 0 }.values.allSatisfy {
            if case .failure(let error) = $0 { error.code == .invalidArgument } else { false }
        }
        #expect(succeeded == 10 && malformed)
        #expect(ledger.statistics.groups.load(ordering: .relaxed) - groupsBefore < 40, "commands were grouped")
        #expect(try ledger.makeReader().position(node: "A", sku: "X").reserved == 10)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func aFullQueueAnswersOverloadedAtOnce() async throws {
        let ledger = try makeLedger(durable: true) {
            $0.queueDepthMax = 4
            $0.groupCommandsMax = 1
        }
        let completions = Completions()
        for index in 0..<300 {
            ledger.submit(.adjust(.init(node: "A", sku: "X", change: .delta(1))), idempotencyKey: "k\(index)") {
                completions.record($0)
            }
        }
        ledger.close()
        let (acked, overloaded, other) = completions.counts
        #expect(acked + overloaded == 300 && other == 0)
        #expect(overloaded > 0)
        #expect(try ledger.makeReader().position(node: "A", sku: "X").onHand == Int64(acked))
    }

    @Test func theMapGrowsUnderConcurrentReaders() async throws {
        let ledger = try makeLedger { $0.mapSizeBytes = 256 << 10 }
        let stop = Flag()
        let reader = Thread {
            let reader = try! ledger.makeReader()
            while !stop.isSet {
                let position = try! reader.position(node: "A", sku: "S0")
                precondition(position.isValid)
            }
        }
        reader.start()
        for batch in 0..<40 {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        _ = try? await ledger.adjust(.init(node: "A", sku: "S\(batch * 100 + index)", change: .set(1), reason: String(repeating: "r", count: 200)))
                    }
                }
            }
        }
        stop.set()
        #expect(ledger.statistics.mapGrowths.load(ordering: .relaxed) > 0)
        #expect(try ledger.makeReader().counts().positions == 4_000)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func backupIsConsistentWhileTheLedgerIsInUse() async throws {
        let ledger = try makeLedger(durable: true)
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(1_000)))
        let load = Task {
            for index in 0..<300 {
                _ = try? await ledger.reserve(.init(order: "o\(index)", lines: [line("A", "X", 1)]))
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        let copy = temporaryDirectory()
        try ledger.backup(to: copy)
        await load.value
        let report = try LedgerVerifier.verify(directory: copy)
        #expect(report.isConsistent && report.entries >= 1)
        #expect(throws: FulcrumError.self) { try ledger.backup(to: copy) }  // not empty
        let cli = try LedgerBackup.copy(directory: ledger.directory, to: temporaryDirectory())
        #expect(cli.isConsistent && cli.entries == 301)
    }
}

/// Counts completions from the writer thread.
final class Completions: @unchecked Sendable {
    private let lock = NSLock()
    private var acked = 0, overloaded = 0, other = 0
    func record(_ result: Result<LedgerResult, FulcrumError>) {
        lock.lock()
        defer { lock.unlock() }
        switch result {
        case .success: acked += 1
        case .failure(let error) where error.code == .overloaded: overloaded += 1
        case .failure: other += 1
        }
    }
    var counts: (Int, Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        return (acked, overloaded, other)
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

@Suite struct LedgerLifetimeTests {
    @Test func aClosedLedgerAnswersUnavailableAndKeepsWhatItCommitted() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(3)))
        ledger.close()
        ledger.close()  // idempotent
        guard case .failure(let error) = await outcome(ledger, .adjust(.init(node: "A", sku: "X", change: .delta(1)))) else {
            Issue.record("a closed ledger took a command")
            return
        }
        #expect(error.code == .unavailable)
        #expect(try ledger.makeReader().position(node: "A", sku: "X").onHand == 3)
    }

    /// The last reference dropped inside a completion, on the writer thread,
    /// must not deadlock the writer waiting for itself.
    @Test func droppingTheLastReferenceInACompletionDoesNotDeadlock() async throws {
        let done = Flag()
        do {
            let ledger = try makeLedger()
            let box = LedgerBox(ledger)
            ledger.submit(.adjust(.init(node: "A", sku: "X", change: .set(1)))) { _ in
                box.ledger = nil  // the last reference goes here, on the writer thread
                done.set()
            }
        }
        for _ in 0..<500 where !done.isSet { try await Task.sleep(for: .milliseconds(10)) }
        #expect(done.isSet)
    }
}

final class LedgerBox: @unchecked Sendable {
    var ledger: Ledger?
    init(_ ledger: Ledger) { self.ledger = ledger }
}
