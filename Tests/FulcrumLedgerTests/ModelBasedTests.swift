import Foundation
import FulcrumCore
import Testing
@testable import FulcrumLedger

/// A command's outcome, compared by error code only.
enum Outcome: Equatable {
    case success(LedgerResult)
    case failure(FulcrumError.Code)

    init(_ result: Result<LedgerResult, FulcrumError>) {
        switch result {
        case .success(let value): self = .success(value)
        case .failure(let error): self = .failure(error.code)
        }
    }
}

/// A plain in-memory ledger written from the rules alone, sharing no code with
/// the real one: the oracle of the model-based test.
struct ModelLedger {
    var positions: [PositionKey: Position] = [:]
    var reservations: [String: Reservation] = [:]
    var receipts: [String: ScheduledReceipt] = [:]
    /// Allocations by "node/sku/channel" (node `*` for every node).
    var allocations: [String: Allocation] = [:]
    var keys: [String: (LedgerCommand, LedgerResult)] = [:]
    /// Every on-hand change, when it was made: a count's `asOf` keeps the later ones.
    var onHandChanges: [(at: Timestamp, key: PositionKey, quantity: Int64)] = []

    mutating func apply(_ command: LedgerCommand, key: String?, now: Timestamp) -> Outcome {
        if let key {
            if let (first, result) = keys[key] {
                return first == command ? .success(result) : .failure(.idempotencyConflict)
            }
        }
        let result = applyFresh(command, now: now)
        if let key, case .success(let value) = result { keys[key] = (command, value) }
        return result
    }

    private mutating func applyFresh(_ command: LedgerCommand, now: Timestamp) -> Outcome {
        let before = positions
        let outcome = applyRules(command, now: now)
        for (key, position) in positions where position.onHand != (before[key] ?? .zero).onHand {
            onHandChanges.append((now, key, position.onHand - (before[key] ?? .zero).onHand))
        }
        return outcome
    }

    private mutating func applyRules(_ command: LedgerCommand, now: Timestamp) -> Outcome {
        switch command {
        case .adjust(let request):
            let key = PositionKey(node: request.node, sku: request.sku)
            var position = positions[key] ?? .zero
            switch request.change {
            case .set(let quantity):
                if quantity < 0 { return .failure(.invalidArgument) }
                position.onHand = quantity
                if let asOf = request.asOf {
                    position.onHand += onHandChanges.filter { $0.key == key && $0.at > asOf }.reduce(0) { $0 + $1.quantity }
                }
            case .delta(let quantity):
                if quantity == 0 || request.asOf != nil { return .failure(.invalidArgument) }
                position.onHand += quantity
            }
            if position.onHand < position.reserved + position.committed { return .failure(.insufficientStock) }
            positions[key] = position
            return .success(.position(key, position))
        case .returnToStock(let request):
            if request.lines.isEmpty || request.lines.contains(where: { $0.quantity < 1 })
                || Set(request.lines.map { "\($0.sku) \($0.disposition)" }).count != request.lines.count
            {
                return .failure(.invalidArgument)
            }
            let refurbished = request.lines.filter { $0.disposition == .refurbish }.map { line in
                ScheduledReceipt(
                    receipt: "\(request.returnID)/\(line.sku)", node: request.node, sku: line.sku, quantity: line.quantity,
                    due: request.refurbishDue)
            }
            if refurbished.contains(where: { receipts[$0.receipt] != nil }) { return .failure(.receiptExists) }
            var changed: [PositionKey: Position] = [:]
            for line in request.lines {
                let key = PositionKey(node: request.node, sku: line.sku)
                var position = positions[key] ?? .zero
                if line.disposition == .restock { position.onHand += line.quantity }
                positions[key] = position
                changed[key] = position
            }
            for receipt in refurbished { receipts[receipt.receipt] = receipt }
            return .success(.positions(changed))
        case .transfer(let request):
            if request.quantity < 1 || request.fromNode == request.toNode { return .failure(.invalidArgument) }
            if receipts[request.transfer] != nil { return .failure(.receiptExists) }
            let from = PositionKey(node: request.fromNode, sku: request.sku)
            var position = positions[from] ?? .zero
            if position.onHand - position.reserved - position.committed < request.quantity {
                return .failure(.insufficientStock)
            }
            position.onHand -= request.quantity
            positions[from] = position
            let receipt = ScheduledReceipt(
                receipt: request.transfer, node: request.toNode, sku: request.sku, quantity: request.quantity,
                due: request.due, fromNode: request.fromNode)
            receipts[request.transfer] = receipt
            return .success(.receipt(receipt))
        case .setSafetyStock(let request):
            if request.quantity < 0 { return .failure(.invalidArgument) }
            let key = PositionKey(node: request.node, sku: request.sku)
            positions[key, default: .zero].safetyStock = request.quantity
            return .success(.position(key, positions[key]!))
        case .schedule(let request):
            if request.receipt.quantity < 1 { return .failure(.invalidArgument) }
            if receipts[request.receipt.receipt] != nil { return .failure(.receiptExists) }
            receipts[request.receipt.receipt] = request.receipt
            return .success(.receipt(request.receipt))
        case .reschedule(let request):
            guard receipts[request.receipt] != nil else { return .failure(.receiptNotFound) }
            receipts[request.receipt]!.due = request.due
            return .success(.receipt(receipts[request.receipt]!))
        case .receive(let request):
            guard let receipt = receipts[request.receipt] else { return .failure(.receiptNotFound) }
            let quantity = request.quantity ?? receipt.quantity
            if quantity < 0 { return .failure(.invalidArgument) }
            let promised = receipt.promises.values.reduce(0, +)
            if quantity < promised { return .failure(.insufficientStock) }
            receipts[request.receipt] = nil
            let key = PositionKey(node: receipt.node, sku: receipt.sku)
            positions[key, default: .zero].onHand += quantity
            // Every preorder promised this receipt now holds its units like any other line.
            for (order, units) in receipt.promises {
                var reservation = reservations[order]!
                if reservation.state == .confirmed {
                    positions[key]!.committed += units
                } else {
                    positions[key]!.reserved += units
                }
                for index in reservation.lines.indices where reservation.lines[index].receipt == receipt.receipt {
                    reservation.lines[index].receipt = ""
                }
                reservations[order] = reservation
            }
            return .success(.position(key, positions[key]!))
        case .reserve(let request):
            return reserve(request, now: now)
        case .allocate(let allocation):
            switch allocation.amount {
            case .quantity(let units) where units < 0: return .failure(.invalidArgument)
            case .shareBasisPoints(let points) where points < 0 || points > 10_000: return .failure(.invalidArgument)
            default: break
            }
            let id = "\(allocation.node)/\(allocation.sku)/\(allocation.channel)"
            let zero = allocation.amount == .quantity(0) || allocation.amount == .shareBasisPoints(0)
            allocations[id] = zero ? nil : allocation
            return .success(.allocation(allocation))
        case .confirm(let order): return transition(order, to: .confirmed, now: now)
        case .ship(let order): return transition(order, to: .shipped, now: now)
        case .release(let order): return transition(order, to: .released, now: now)
        case .expireDue:
            let due = reservations.values.filter { $0.state == .reserved && $0.expiresAt <= now }
                .sorted { ($0.expiresAt, $0.order) < ($1.expiresAt, $1.order) }.map(\.order)
            for order in due { _ = transition(order, to: .expired, now: now) }
            return .success(.expired(due))
        }
    }

    private mutating func reserve(_ request: ReserveRequest, now: Timestamp) -> Outcome {
        let keys = request.lines.map(\.key)
        if request.lines.isEmpty || Set(keys).count != keys.count || request.lines.contains(where: { $0.quantity < 1 })
            || request.ttlSeconds < 1
        {
            return .failure(.invalidArgument)
        }
        if let existing = reservations[request.order],
            [ReservationState.reserved, .confirmed].contains(existing.state)
        {
            return .failure(.reservationExists)
        }
        for line in request.lines {
            if line.receipt.isEmpty {
                if available(line.key, to: request.channel, now: now) < line.quantity { return .failure(.insufficientStock) }
                continue
            }
            // A preorder: units of a receipt at the line's node and SKU not yet promised.
            guard let receipt = receipts[line.receipt] else { return .failure(.receiptNotFound) }
            if receipt.node != line.node || receipt.sku != line.sku { return .failure(.invalidArgument) }
            if receipt.quantity - receipt.promises.values.reduce(0, +) < line.quantity { return .failure(.insufficientStock) }
        }
        for line in request.lines {
            if line.receipt.isEmpty {
                positions[line.key, default: .zero].reserved += line.quantity
            } else {
                receipts[line.receipt]!.promises[request.order] = line.quantity
            }
        }
        let reservation = Reservation(
            order: request.order, state: .reserved, lines: request.lines, createdAt: now,
            expiresAt: now.adding(seconds: request.ttlSeconds), updatedAt: now, channel: request.channel)
        reservations[request.order] = reservation
        return .success(.reservation(reservation))
    }

    /// What a reservation of `channel` may take at `key`: every allocation in
    /// force sets aside its units less what its channel's live reservations
    /// hold there; the channel gets its own remainder and, unless it may not
    /// overflow, what no allocation sets aside.
    func available(_ key: PositionKey, to channel: String, now: Timestamp) -> Int64 {
        let position = positions[key] ?? .zero
        let free = max(0, position.onHand - position.reserved - position.committed - position.safetyStock)
        var inForce: [String: Allocation] = [:]
        for allocation in allocations.values where allocation.sku == key.sku && (allocation.expiresAt.map { now < $0 } ?? true) {
            if allocation.node == key.node || (allocation.node == "*" && inForce[allocation.channel] == nil) {
                inForce[allocation.channel] = allocation
            }
        }
        var setAside: [String: Int64] = [:]
        for (name, allocation) in inForce {
            let units: Int64
            switch allocation.amount {
            case .quantity(let quantity): units = quantity
            case .shareBasisPoints(let points): units = position.onHand * points / 10_000
            }
            let held = reservations.values.filter { $0.channel == name && ($0.state == .reserved || $0.state == .confirmed) }
                .flatMap(\.lines).filter { $0.key == key && $0.receipt.isEmpty }.reduce(0) { $0 + $1.quantity }
            setAside[name] = max(0, units - held)
        }
        let open = max(0, free - setAside.values.reduce(0, +))
        guard let own = inForce[channel] else { return open }
        return min(free, setAside[channel]! + (own.overflow ? open : 0))
    }

    private mutating func transition(_ order: String, to target: ReservationState, now: Timestamp)
        -> Outcome
    {
        guard var reservation = reservations[order] else { return .failure(.reservationNotFound) }
        let lapsed = reservation.expiresAt <= now
        let legal: Bool =
            switch (reservation.state, target) {
            case (.reserved, .confirmed): !lapsed
            case (.confirmed, .shipped): !reservation.lines.contains { !$0.receipt.isEmpty }
            case (.reserved, .released), (.reserved, .expired), (.confirmed, .released): true
            default: false
            }
        if !legal { return .failure(.illegalTransition) }
        for line in reservation.lines where !line.receipt.isEmpty {
            // A preorder keeps its promise when confirmed, and gives it back when released or expired.
            if target == .released || target == .expired { receipts[line.receipt]!.promises[order] = nil }
        }
        for line in reservation.lines where line.receipt.isEmpty {
            var position = positions[line.key] ?? .zero
            switch (reservation.state, target) {
            case (.reserved, .confirmed) where !lapsed:
                position.reserved -= line.quantity
                position.committed += line.quantity
            case (.confirmed, .shipped):
                position.committed -= line.quantity
                position.onHand -= line.quantity
            case (.reserved, .released), (.reserved, .expired): position.reserved -= line.quantity
            case (.confirmed, .released): position.committed -= line.quantity
            default: return .failure(.illegalTransition)
            }
            positions[line.key] = position
        }
        reservation.state = target
        reservation.updatedAt = now
        reservations[order] = reservation
        return .success(.reservation(reservation))
    }
}

/// Generates small random command streams over few names, so that orders,
/// receipts and idempotency keys collide often.
struct CommandGenerator {
    var random: SplitMix64
    let clock: ManualClock

    mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
    mutating func quantity(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &random) }

    mutating func next() -> (LedgerCommand, String?) {
        let key: String? = Int.random(in: 0..<5, using: &random) == 0 ? pick(["k0", "k1", "k2", "k3"]) : nil
        let node = pick(["N0", "N1", "N2"])
        let sku = pick(["S0", "S1", "S2", "S3"])
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<10:
            let change: AdjustRequest.Change = Bool.random(using: &random) ? .set(quantity(-1...30)) : .delta(quantity(-10...15))
            // A count may be as of a while ago (rarely, wrongly, with a delta).
            let asOf: Timestamp? =
                Int.random(in: 0..<3, using: &random) == 0 ? clock.now().adding(seconds: -quantity(0...120)) : nil
            let source = pick(["", "wms"])
            return (
                .adjust(
                    .init(
                        node: node, sku: sku, change: change, reason: pick(["", "count"]), source: source,
                        sourceReference: source.isEmpty ? "" : "F1", asOf: asOf)), key
            )
        case 10..<16:
            let to = pick(["N0", "N1", "N2"])
            let due = clock.now().adding(seconds: quantity(0...2 * 86_400))
            return (
                .transfer(
                    .init(transfer: pick(["R0", "R1", "R2"]), fromNode: node, toNode: to, sku: sku, quantity: quantity(0...12), due: due)),
                key
            )
        case 16..<18:
            var lines: [ReturnToStockRequest.Line] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                lines.append(.init(sku: pick(["S0", "S1", "S2", "S3"]), quantity: quantity(0...6), disposition: pick(Disposition.allCases)))
            }
            let due = clock.now().adding(seconds: quantity(0...3 * 86_400))
            return (.returnToStock(.init(returnID: pick(["R", "RR"]), node: node, lines: lines, refurbishDue: due)), key)
        case 18..<20:
            return (.setSafetyStock(.init(node: node, sku: sku, quantity: quantity(-1...4))), key)
        case 20..<27:
            let due = clock.now().adding(seconds: quantity(-86_400...3 * 86_400))
            // Mostly at the receipt's own position, so that preorders of it often fit.
            let index = Int.random(in: 0..<3, using: &random)
            let canonical = Int.random(in: 0..<10, using: &random) < 7
            let receipt = ScheduledReceipt(
                receipt: "R\(index)", node: canonical ? "N\(index)" : node, sku: canonical ? "S\(index)" : sku,
                quantity: quantity(0...20), due: due)
            return (.schedule(.init(receipt)), key)
        case 27..<29:
            // Late (or early): ATP by date counts it from its new date.
            let due = clock.now().adding(seconds: quantity(-86_400...3 * 86_400))
            return (.reschedule(.init(receipt: pick(["R0", "R1", "R2"]), due: due)), key)
        case 29..<32:
            let received: Int64? = Bool.random(using: &random) ? nil : quantity(-1...25)
            return (.receive(.init(receipt: pick(["R0", "R1", "R2"]), quantity: received)), key)
        case 32..<37:
            let amount: Allocation.Amount =
                Bool.random(using: &random) ? .quantity(quantity(-1...10)) : .shareBasisPoints(quantity(-1...4) * 2_500)
            let expiresAt: Timestamp? = Bool.random(using: &random) ? nil : clock.now().adding(seconds: quantity(0...200))
            return (
                .allocate(
                    Allocation(
                        sku: sku, node: pick(["N0", "N1", "*"]), channel: pick(["web", "market"]), amount: amount,
                        overflow: Bool.random(using: &random), expiresAt: expiresAt)), key
            )
        case 37..<62:
            var lines: [ReservationLine] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                if Int.random(in: 0..<3, using: &random) == 0 {
                    // A preorder of a receipt, mostly at its position.
                    let index = Int.random(in: 0..<3, using: &random)
                    let canonical = Int.random(in: 0..<10, using: &random) < 8
                    var preorder = line(
                        canonical ? "N\(index)" : pick(["N0", "N1", "N2"]), canonical ? "S\(index)" : pick(["S0", "S1", "S2", "S3"]),
                        quantity(0...6))
                    preorder.receipt = "R\(index)"
                    lines.append(preorder)
                } else {
                    lines.append(line(pick(["N0", "N1", "N2"]), pick(["S0", "S1", "S2", "S3"]), quantity(0...8)))
                }
            }
            let order = pick(["O0", "O1", "O2", "O3", "O4", "O5"])
            return (
                .reserve(.init(order: order, lines: lines, ttlSeconds: quantity(0...120), channel: pick(["", "web", "market"]))),
                key
            )
        case 62..<72: return (.confirm(order: pick(["O0", "O1", "O2", "O3", "O4", "O5", "O9"])), key)
        case 72..<80: return (.ship(order: pick(["O0", "O1", "O2", "O3", "O4", "O5"])), key)
        case 80..<90: return (.release(order: pick(["O0", "O1", "O2", "O3", "O4", "O5"])), key)
        default: return (.expireDue, key)
        }
    }
}

@Suite struct ModelBasedTests {
    static let sequencesPerBatch = 250
    static let commandsPerSequence = 30

    /// 8 batches × 250 seeded sequences × 30 commands: after every command the
    /// results, every balance, ATP by date and every reservation must equal the model's.
    @Test(arguments: 0..<8)
    func ledgerMatchesTheModel(batch: Int) async throws {
        for sequence in 0..<Self.sequencesPerBatch {
            let seed = UInt64(batch * Self.sequencesPerBatch + sequence)
            try await runSequence(seed: seed)
        }
    }

    private func runSequence(seed: UInt64) async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        // 2,000 ledgers a run: leave no directories behind.
        defer { try? FileManager.default.removeItem(atPath: ledger.directory) }
        let reader = try ledger.makeReader()
        var generator = CommandGenerator(random: SplitMix64(seed: seed), clock: clock)
        var model = ModelLedger()
        for step in 0..<Self.commandsPerSequence {
            if Int.random(in: 0..<4, using: &generator.random) == 0 {
                clock.advance(milliseconds: Int64.random(in: 0...90_000, using: &generator.random))
            }
            let (command, key) = generator.next()
            let expected = model.apply(command, key: key, now: clock.now())
            let actual = Outcome(await outcome(ledger, command, key: key))
            try #require(actual == expected, "seed \(seed) step \(step): \(command) key \(key ?? "-")")
            try compareState(model, reader, clock: clock, context: "seed \(seed) step \(step)")
        }
        let report = try ledger.verify()
        try #require(report.isConsistent, "seed \(seed): \(report.mismatches)")
    }

    private func compareState(_ model: ModelLedger, _ reader: LedgerReader, clock: ManualClock, context: String) throws {
        let keys = ["N0", "N1", "N2"].flatMap { node in ["S0", "S1", "S2", "S3"].map { PositionKey(node: node, sku: $0) } }
        let actual = try reader.positions(keys)
        for (key, position) in zip(keys, actual) {
            try #require(position == model.positions[key] ?? .zero, "\(context): \(key)")
        }
        let horizon = clock.now().adding(seconds: 86_400)
        for key in keys.prefix(4) {
            let incoming = model.receipts.values.filter { $0.node == key.node && $0.sku == key.sku && $0.due <= horizon }
            let open = incoming.reduce(0) { $0 + $1.quantity - $1.promises.values.reduce(0, +) }
            let expected = model.available(key, to: "", now: clock.now()) + open
            try #require(try reader.availableToPromise(node: key.node, sku: key.sku, on: horizon) == expected, "\(context): ATP \(key)")
        }
        for key in keys {
            for channel in ["", "web", "market"] {
                let expected = model.available(key, to: channel, now: clock.now())
                let actual = try reader.availableToPromise(node: key.node, sku: key.sku, channel: channel)
                try #require(actual == expected, "\(context): ATP \(key) to '\(channel)'")
            }
        }
        for receipt in ["R0", "R1", "R2", "R/S0", "R/S1", "RR/S2", "RR/S3"] {
            try #require(try reader.receipt(receipt) == model.receipts[receipt], "\(context): receipt \(receipt)")
        }
        for order in ["O0", "O1", "O2", "O3", "O4", "O5"] {
            // Reads show a lapsed reservation as expired (at its deadline) before any sweep records it.
            var expected = model.reservations[order]
            if let stored = expected, stored.state == .reserved, stored.expiresAt <= clock.now() {
                expected?.state = .expired
                expected?.updatedAt = stored.expiresAt
            }
            try #require(try reader.reservation(order: order) == expected, "\(context): \(order)")
        }
    }
}
