import FulcrumCore
import Synchronization
import Testing

@Suite struct ByteCodecTests {
    @Test func roundTripsIntegersAndStrings() throws {
        var writer = ByteWriter()
        writer.write(UInt8(7))
        writer.write(Int64(-42))
        writer.write(UInt32.max)
        writer.write("nœud-é")
        let decoded = try writer.bytes.decode("test") { (reader) throws(FulcrumError) in
            (try reader.read(UInt8.self), try reader.read(Int64.self), try reader.read(UInt32.self),
             try reader.readString())
        }
        #expect(decoded.0 == 7 && decoded.1 == -42 && decoded.2 == .max && decoded.3 == "nœud-é")
    }

    @Test func truncatedAndTrailingBytesAreCorrupt() {
        var writer = ByteWriter()
        writer.write("abc")
        let truncated = Array(writer.bytes.dropLast())
        #expect(throws: FulcrumError.self) {
            try truncated.decode("x") { (reader) throws(FulcrumError) in try reader.readString() }
        }
        let trailing = writer.bytes + [0]
        do {
            _ = try trailing.decode("x") { (reader) throws(FulcrumError) in try reader.readString() }
            Issue.record("trailing bytes were accepted")
        } catch {
            #expect(error.code == .corrupt)
        }
    }
}

@Suite struct NamesTests {
    @Test func acceptsOrdinaryIds() throws {
        try Names.validate("DC-EAST", path: "node")
        try Names.validate(String(repeating: "x", count: Limits.nameBytesMax), path: "node")
    }

    @Test(arguments: ["", String(repeating: "x", count: Limits.nameBytesMax + 1), "tab\there", "nl\n"])
    func rejectsBadIds(_ name: String) {
        do {
            try Names.validate(name, path: "lines[0].node")
            Issue.record("accepted \(name.debugDescription)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.path == "lines[0].node")
        }
    }

    @Test(arguments: [Int64(0), -1, Limits.quantityMax + 1])
    func rejectsBadQuantities(_ quantity: Int64) {
        #expect(throws: FulcrumError.self) { try Names.validateQuantity(quantity, path: "quantity") }
    }
}

@Suite struct LimitsTests {
    @Test func limitsRelate() {
        // A queue holds at least one whole group.
        #expect(Limits.writerQueueDepthMax >= Limits.groupCommandsMax)
        // A reservation's total cannot overflow Int64.
        #expect(Limits.quantityMax.multipliedReportingOverflow(by: Int64(Limits.reservationLinesMax)).overflow == false)
        // A name fits the 2-byte length prefix of the codec.
        #expect(Limits.nameBytesMax <= Int(UInt16.max) && Limits.reasonBytesMax <= Int(UInt16.max))
        #expect(Limits.reservationLinesMax <= Int(UInt16.max))
        #expect(Limits.mapSizeBytesInitial <= Limits.mapSizeBytesMax)
    }

    @Test func splitMixIsDeterministic() {
        var a = SplitMix64(seed: 9)
        var b = SplitMix64(seed: 9)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    }
}

@Suite struct FieldNamesTests {
    static let orderLine = ["id", "sku", "quantity", "no_split"]
    static let shipTo = ["latitude", "longitude", "region", "country", "postal_code", "city"]

    /// Old, abbreviated and misspelt names point at the field meant.
    @Test(arguments: [
        ("qty", orderLine, "quantity"), ("lat", shipTo, "latitude"), ("lon", shipTo, "longitude"),
        ("lng", shipTo, "longitude"), ("postalcode", shipTo, "postal_code"), ("no-split", orderLine, "no_split"),
        ("quantiy", orderLine, "quantity"), ("ttl_secs", ["order", "lines", "ttl_seconds"], "ttl_seconds"),
        ("shipcomplete", ["id", "ship_to", "ship_complete", "lines"], "ship_complete"),
        ("reasn", ["node", "sku", "set", "delta", "reason"], "reason"),
    ])
    func suggestsTheFieldMeant(name: String, known: [String], meant: String) {
        #expect(FieldNames.unknownFieldMessage(name, known: known) == "unknown field '\(name)' (did you mean '\(meant)'?)")
    }

    @Test func aFarNameGetsNoHint() {
        #expect(FieldNames.unknownFieldMessage("colour", known: Self.orderLine) == "unknown field 'colour'")
        #expect(FieldNames.unknownFieldMessage("x", known: Self.shipTo) == "unknown field 'x'")
    }
}

@Suite struct ErrorPathTests {
    /// An item's error keeps a well-formed path whatever the inner path was (never `items[0].`).
    @Test func errorsInsideContainersJoinTheirPaths() {
        let inner = FulcrumError(.insufficientStock, "short")
        #expect(inner.within("items[0]").path == "items[0]")
        #expect(FulcrumError(.invalidArgument, "x", path: "sku").within("items[2]").path == "items[2].sku")
        #expect(FulcrumError(.invalidArgument, "x", path: "[1].sku").within("lines").path == "lines[1].sku")
    }
}

/// The two budgets of `ConnectionTable`: who is shed, who is refused.
@Suite struct ConnectionTableTests {
    final class Closed: Sendable {
        let names = Mutex<[String]>([])
        func close(_ name: String) -> @Sendable () -> Void { { self.names.withLock { $0.append(name) } } }
        var all: [String] { names.withLock { $0 } }
    }

    @Test func pendingNewcomersShedTheOldestPending() {
        let closed = Closed()
        let table = ConnectionTable(budget: .init(pendingMax: 2, admittedMax: 2), what: "test", log: { _ in })
        let first = table.open(close: closed.close("first"))
        _ = table.open(close: closed.close("second"))
        #expect(table.admit(first))
        _ = table.open(close: closed.close("third"))
        #expect(closed.all.isEmpty)  // the admitted one left room among the pending
        _ = table.open(close: closed.close("fourth"))
        #expect(closed.all == ["second"])
        #expect(table.counts == (pending: 2, admitted: 1))
        #expect(table.shed == 1)
    }

    @Test func admittedNewcomersShedTheIdlestOrAreRefusedWhenAllAreBusy() throws {
        let closed = Closed()
        let table = ConnectionTable(budget: .init(pendingMax: 4, admittedMax: 2), what: "test", log: { _ in })
        let busy = table.open(close: closed.close("busy"))
        let idle = table.open(close: closed.close("idle"))
        #expect(table.admit(busy) && table.admit(idle))
        busy.inFlight.store(1, ordering: .relaxed)
        busy.lastActiveNanoseconds.store(0, ordering: .relaxed)  // idle longest, but busy
        let newcomer = table.open(close: closed.close("newcomer"))
        #expect(table.admit(newcomer))
        #expect(closed.all == ["idle"])
        newcomer.inFlight.store(1, ordering: .relaxed)
        let refused = table.open(close: closed.close("refused"))
        #expect(!table.admit(refused))
        #expect(closed.all == ["idle"])
        #expect(table.counts == (pending: 0, admitted: 2))
    }
}
