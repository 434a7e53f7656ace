import Foundation
import Testing

@testable import FulcrumCore

/// The orchestrator's stored records in the binary record style: seeded
/// random values of every record type survive encode → decode, equal values
/// store equal bytes, records stored as JSON before still read, and damaged
/// bytes are `corrupt`, never a trap.
struct RecordCodecTests {
    private struct Maker {
        var random: SplitMix64
        mutating func chance() -> Bool { random.next() % 2 == 0 }
        mutating func text() -> String {
            let words = ["DC-1", "é", "línea", "order.created", "", "a/b", "🚚", String(repeating: "x", count: 66_000)]
            return words[Int(random.next() % UInt64(random.next() % 50 == 0 ? words.count : words.count - 1))]
        }
        mutating func maybeText() -> String? { chance() ? text() : nil }
        mutating func number() -> Int64 { Int64(bitPattern: random.next()) >> Int64(random.next() % 64) }
        mutating func count(_ most: UInt64 = 4) -> Int { Int(random.next() % (most + 1)) }
        mutating func textMap() -> [String: String] {
            Dictionary((0..<count()).map { _ in (text(), text()) }, uniquingKeysWith: { first, _ in first })
        }
        mutating func address() -> Address {
            Address(
                latitude: chance() ? Double(number() % 90) + 0.25 : nil, longitude: chance() ? -Double(number() % 180) : nil,
                region: maybeText(), country: maybeText(), postalCode: maybeText(), city: maybeText())
        }
        mutating func intake() -> OrderIntake {
            OrderIntake(
                id: text(), source: text(), shipTo: address(), shippingMethod: maybeText(),
                lines: (0..<count()).map { _ in .init(id: text(), sku: text(), quantity: number()) }, attributes: textMap(),
                pickupNode: maybeText())
        }
        mutating func order() -> OrderRecord {
            var order = OrderRecord(intake(), at: Timestamp(millisecondsSinceEpoch: number()))
            order.state = text()
            for index in order.lines.indices {
                order.lines[index].state = text()
                order.lines[index].allocations = Dictionary(
                    (0..<count()).map { _ in (text(), number()) }, uniquingKeysWith: { first, _ in first })
            }
            order.sourceNode = maybeText()
            order.sourceKind = maybeText()
            order.profile = maybeText()
            order.pickupNode = maybeText()
            order.shipComplete = chance() ? chance() : nil
            order.maxShipments = chance() ? Int(number()) : nil
            order.priority = chance() ? Double(number()) / 7 : nil
            order.fill = chance() ? count(9) + 1 : nil
            order.fulfillmentOrders = (0..<count()).map { _ in
                .init(
                    id: text(), node: text(), lines: (0..<count()).map { _ in .init(line: text(), sku: text(), quantity: number()) },
                    state: text(), tracking: maybeText())
            }
            order.returns = (0..<count()).map { _ in
                .init(
                    id: text(), lines: (0..<count()).map { _ in .init(sku: text(), quantity: number()) }, state: text(), node: maybeText(),
                    received: (0..<count()).map { _ in .init(sku: text(), quantity: number(), disposition: maybeText()) })
            }
            order.failure = chance()
                ? .init(step: text(), code: text(), message: text(), resumeStep: maybeText(), atMs: number()) : nil
            order.waiting = (0..<count()).map { _ in .init(step: text(), messages: (0..<count()).map { _ in text() }, fields: textMap()) }
            order.updatedMs = number()
            return order
        }
        mutating func event() -> BusinessEvent {
            BusinessEvent(
                name: text(), order: text(), fields: textMap(), intake: chance() ? intake() : nil,
                returnLines: chance() ? (0..<count()).map { _ in .init(sku: text(), quantity: number()) } : nil, source: text(),
                atMs: number())
        }
        mutating func message() -> OutboxMessage {
            OutboxMessage(
                id: text(), provider: text(), topic: text(), order: text(), step: text(), fulfillmentOrder: maybeText(), body: text(),
                createdMs: number())
        }
        mutating func entry() -> TimelineEntry {
            let kinds: [TimelineEntry.Kind] = [.event, .transition, .policy, .filter, .action, .provider, .error, .reprocess, .rejected]
            return TimelineEntry(
                atMs: number(), entity: text(), kind: kinds[count(8)], step: maybeText(), text: text(), code: maybeText())
        }
    }

    private func roundTrip<T: StoredRecord & Decodable & Equatable>(_ value: T) throws -> Bool {
        let bytes = RecordCoding.encode(value)
        return try RecordCoding.decode(T.self, bytes, what: "record") == value && RecordCoding.encode(value) == bytes
    }

    @Test(arguments: 1...60 as ClosedRange<UInt64>)
    func everyRecordTypeSurvives(seed: UInt64) throws {
        var maker = Maker(random: SplitMix64(seed: seed))
        let order = maker.order()
        #expect(try roundTrip(order))
        #expect(try roundTrip(maker.event()))
        #expect(try roundTrip(maker.message()))
        #expect(try roundTrip(maker.entry()))
        #expect(try roundTrip(DeadLetter(message: maker.message(), reason: maker.text(), atMs: maker.number())))
        // A map's order in memory never changes the stored bytes.
        var rebuilt = order
        rebuilt.attributes = Dictionary(order.attributes.sorted { $0.key > $1.key }, uniquingKeysWith: { first, _ in first })
        #expect(RecordCoding.encode(rebuilt) == RecordCoding.encode(order))
    }

    /// Records stored as JSON (before the binary style) read as the same values.
    @Test func recordsStoredAsJSONStillRead() throws {
        var maker = Maker(random: SplitMix64(seed: 77))
        for _ in 0..<20 {
            let order = maker.order()
            let entry = maker.entry()
            let message = maker.message()
            #expect(try RecordCoding.decode(OrderRecord.self, Array(Self.legacyJSON(order).utf8), what: "order") == order)
            #expect(try RecordCoding.decode(TimelineEntry.self, Array(Self.legacyJSON(entry).utf8), what: "timeline") == entry)
            #expect(try RecordCoding.decode(OutboxMessage.self, Array(Self.legacyJSON(message).utf8), what: "outbox") == message)
        }
    }

    /// Orders stored in format 1, before `profile` and `pickup_node` were
    /// added, end without them and read as having none; format 2 reads them
    /// and ends before `curbside`, 3 and 4 end before `channel`, 5 and 6 before `fill`.
    @Test func ordersStoredBeforeTheirProfileFieldStillRead() throws {
        var maker = Maker(random: SplitMix64(seed: 78))
        var order = maker.order()
        order.profile = nil
        order.pickupNode = nil
        order.channel = nil
        order.fill = nil
        order.returns = []  // their format changed in 4: `returnsStoredBeforeDispositionsStillRead`
        let stored = RecordCoding.encode(order)
        #expect(stored.first == 7 && stored.suffix(5) == [0, 0, 0, 0, 0], "format 7; an absent optional is one zero byte, five end the record")
        let formatOne = [1] + stored.dropFirst().dropLast(5)
        #expect(try RecordCoding.decode(OrderRecord.self, formatOne, what: "order") == order)
        let formatTwo = [2] + stored.dropFirst().dropLast(3)
        #expect(try RecordCoding.decode(OrderRecord.self, formatTwo, what: "order") == order)
        for format: UInt8 in [3, 4] {
            #expect(try RecordCoding.decode(OrderRecord.self, [format] + stored.dropFirst().dropLast(2), what: "order") == order)
        }
        for format: UInt8 in [5, 6] {
            #expect(try RecordCoding.decode(OrderRecord.self, [format] + stored.dropFirst().dropLast(1), what: "order") == order)
        }
        #expect(throws: FulcrumError.self) { try RecordCoding.decode(OrderRecord.self, Array(stored.dropLast(5)), what: "order") }
        order.profile = "express"
        order.channel = "marketplace"
        order.fill = 3
        let read = try RecordCoding.decode(OrderRecord.self, RecordCoding.encode(order), what: "order")
        #expect(read.profile == "express" && read.channel == "marketplace" && read.reservation == "\(order.id)/fill-3")
    }

    /// Backorders stored before `on_shortage` (format 6) read as waiting
    /// whole, or as preorders when they have receipts; a stored policy
    /// Fulcrum does not know is `corrupt`, never a silent default.
    @Test func backordersStoredBeforeTheirPolicyStillRead() throws {
        let backorder = Backorder(
            order: "B-1", step: "source", priority: 2, sinceMs: 5, shortages: ["S": 3], availableWhenTried: ["S": 1],
            onShortage: .shipAvailable)
        let stored = RecordCoding.encode(backorder)
        #expect(try RecordCoding.decodeBinary(Backorder.self, stored, what: "backorder") == backorder)
        let policyBytes = 4 + "ship_available".utf8.count
        let formatSix = [6] + stored.dropFirst().dropLast(policyBytes)
        #expect(try RecordCoding.decodeBinary(Backorder.self, Array(formatSix), what: "backorder").onShortage == .backorder)
        var promised = backorder
        promised.receipts = ["PO-1": 9]
        promised.onShortage = .preorder
        let promisedSix = [6] + RecordCoding.encode(promised).dropFirst().dropLast(4 + "preorder".utf8.count)
        #expect(try RecordCoding.decodeBinary(Backorder.self, Array(promisedSix), what: "backorder") == promised)
        let unknown = Array(stored.dropLast(policyBytes)) + [4, 0, 0, 0] + Array("wait".utf8)
        #expect(throws: FulcrumError.self) { try RecordCoding.decodeBinary(Backorder.self, unknown, what: "backorder") }
    }

    /// Returns stored in format 3, before dispositions and received lines, read as having none.
    @Test func returnsStoredBeforeDispositionsStillRead() throws {
        var writer = ByteWriter()
        writer.write(UInt8(3))
        writer.write(text: "O-1/R-1")
        writer.write(UInt32(1))
        writer.write(text: "CAP-RED")
        writer.write(Int64(2))
        writer.write(text: "located")
        writer.write(optional: "DC-EAST")
        let old = try RecordCoding.decodeBinary(OrderRecord.Return.self, writer.bytes, what: "return")
        #expect(old == OrderRecord.Return(id: "O-1/R-1", lines: [.init(sku: "CAP-RED", quantity: 2)], state: "located", node: "DC-EAST"))
        var received = old
        received.received = [.init(sku: "CAP-RED", quantity: 2, disposition: "refurbish")]
        #expect(try RecordCoding.decodeBinary(OrderRecord.Return.self, RecordCoding.encode(received), what: "return") == received)
    }

    /// SKUs stored in formats 1 and 2, before `flags`, read as having none.
    @Test func skusStoredBeforeTheirFlagsStillRead() throws {
        let flagged = SKU(id: "A", weightKilograms: 2, category: "bulky", flags: ["hazmat", "oversize"])
        let stored = RecordCoding.encode(flagged)
        #expect(try RecordCoding.decode(SKU.self, stored, what: "sku") == flagged)
        var plain = flagged
        plain.flags = []
        let formatTwo = [2] + RecordCoding.encode(plain).dropFirst().dropLast(4)  // no flag count
        #expect(try RecordCoding.decode(SKU.self, formatTwo, what: "sku") == plain)
    }

    /// What `RecordCoding.encode` wrote before the binary style.
    private static func legacyJSON(_ value: some Encodable) -> String { RecordCoding.text(value) }

    /// Every truncation and a sample of byte flips of a stored order: an
    /// answer or `corrupt`, never a trap or a hang.
    @Test func damagedBytesAreCorrupt() throws {
        var maker = Maker(random: SplitMix64(seed: 3))
        var order = maker.order()
        order.lines = [.init(id: "1", sku: "A", quantity: 2, state: "open")]
        let bytes = RecordCoding.encode(order)
        for length in 1..<bytes.count {
            #expect(throws: FulcrumError.self) { try RecordCoding.decode(OrderRecord.self, Array(bytes[..<length]), what: "order") }
        }
        #expect(throws: FulcrumError.self) { try RecordCoding.decode(OrderRecord.self, bytes + [0], what: "order") }
        var random = SplitMix64(seed: 9)
        for _ in 0..<2_000 {
            var flipped = bytes
            let index = 1 + Int(random.next() % UInt64(bytes.count - 1))
            flipped[index] ^= UInt8(1 << (random.next() % 8))
            do {
                _ = try RecordCoding.decode(OrderRecord.self, flipped, what: "order")
            } catch {
                #expect(error.code == .corrupt)
            }
        }
    }
}
