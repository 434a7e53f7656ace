import Foundation
import FulcrumCore
import Testing

/// The fast optimize-request reader against the reference (Foundation's
/// `JSONDecoder` and the `Decodable` conformances) on the same bytes: both
/// accept or both decline, and what both accept is the same request.
@Suite struct JSONReaderTests {
    /// Every field of the contract, nulls where optional, escapes, and the
    /// leniencies Foundation allows (trailing commas, a repeated key).
    static let everyField = #"""
        {"profile": "express", "orders": [
          {"id": "o-\u00e9\"1", "priority": 2.5, "ship_complete": true, "max_shipments": 2,
           "ship_to": {"latitude": 40.7128, "longitude": -74.006, "region": "NE", "country": "US",
                       "postal_code": "10001", "city": "New York"},
           "lines": [{"id": "l1", "sku": "SKU-1", "quantity": 3, "no_split": true},
                     {"id": "l2", "sku": "SKU-\ud83d\ude00", "quantity": 1e2},]},
          {"id": "o2", "pickup_node": "ST-1", "priority": null, "max_shipments": null,
           "ship_to": {"latitude": 0, "longitude": 1E-3, "city": null}, "lines": [{"id": "l", "sku": "SKU-1", "quantity": 1, "quantity": 9}]}],
         "nodes": [
          {"id": "DC-1", "kind": "warehouse", "latitude": 39.95, "longitude": -75.16, "region": "NE",
           "enabled": true, "can_ship": true, "cost_per_shipment": 1.5, "cost_per_unit": 0.25, "capacity_units": 1000},
          {"id": "ST-1", "kind": "store", "latitude": 40.0, "longitude": -74.0, "enabled": false, "can_ship": null,
           "capacity_units": null, "kind": "vendor"}],
         "skus": [{"id": "SKU-1", "weight_kg": 0.3, "category": "hazmat"}, {"id": "SKU-2", "category": null}],
         "inventory": [{"node": "DC-1", "sku": "SKU-1", "available": 10}, {"\u006eode": "ST-1", "sku": "SKU-1", "available": 0}],
         "rates": {"per_shipment": 4, "per_km": 0.01, "per_kg_km": null},
         "rules": {"max_shipments_per_order": 3, "max_distance_km": 800.5, "backorder_penalty": 250,
                   "min_available": 1, "safety_stock": 2,
                   "exclude": [{"node": "DC-9"}, {"kind": "3pl", "sku_category": "hazmat"}, {"region": "W", "node": null}]}}
        """#

    private func fast(_ text: String, defaultNodes: [Node]? = nil) -> OptimizeRequest? {
        fast(Array(text.utf8), defaultNodes: defaultNodes)
    }

    private func fast(_ bytes: [UInt8], defaultNodes: [Node]? = nil) -> OptimizeRequest? {
        bytes.withUnsafeBytes { OptimizeRequest.read(json: $0, defaultNodes: defaultNodes) }
    }

    private func reference(_ bytes: [UInt8], defaultNodes: [Node]? = nil) -> OptimizeRequest? {
        try? OptimizeRequest.decodeWithFoundation(json: Data(bytes), defaultNodes: defaultNodes)
    }

    @Test func everyFieldReadsAsTheReferenceDoes() throws {
        let bytes = Array(Self.everyField.utf8)
        let expected = try #require(reference(bytes))
        let read = try #require(fast(bytes))
        #expect(read == expected)
        // Spot checks that the reference itself read what the text says.
        #expect(read.orders[0].id == "o-é\"1" && read.orders[0].lines[1].sku == "SKU-😀")
        #expect(read.orders[1].lines[0].quantity == 1, "the first of a repeated key wins")
        #expect(read.nodes[1].kind == .store && read.rates.perKilogramKilometer == Rates().perKilogramKilometer)
    }

    @Test func generatedRequestsReadAsTheReferenceDoes() throws {
        var workload = SyntheticWorkload(seed: 11, nodeCount: 100, skuCount: 200, stockedPercent: 100)
        for index in 0..<20 {
            let request = workload.request(orderCount: 1 + index % 4, linesPerOrder: 5, firstOrder: index * 4)
            let bytes = Array(request.json())
            let read = try #require(fast(bytes))
            #expect(read == reference(bytes))
            #expect(read == request, "the encoder's output reads back as the request")
        }
    }

    @Test func defaultNodesStandInOnlyForAnAbsentField() {
        let nodes = [Node(id: "N", location: Location(latitude: 1, longitude: 2))]
        let request = #"{"orders": []}"#
        #expect(fast(request, defaultNodes: nodes)?.nodes == nodes)
        #expect(fast(request) == nil && reference(Array(request.utf8)) == nil)
        let null = #"{"orders": [], "nodes": null}"#
        #expect(fast(null, defaultNodes: nodes) == nil && reference(Array(null.utf8), defaultNodes: nodes) == nil)
    }

    /// Inputs at the edges of the grammar and of Foundation's own rules.
    @Test(arguments: [
        #"{"orders": [], "nodes": []}"#, "\u{FEFF}{\"orders\": [], \"nodes\": []}", #"{"orders": [], "nodes": [],}"#,
        #"{"orders": [,], "nodes": []}"#, #"{"orders": [], "nodes": [],,}"#, #"{,"orders": [], "nodes": []}"#,
        #"{"orders": [], "nodes": []} x"#, "{\"orders\": [], \"nodes\": []} \n\t\r", "{\"orders\": [], \"nodes\": []}\u{0B}",
        #"{"orders": [], "nodes": [], "profile": "a\u0000b"}"#, #"{"orders": [], "nodes": [], "profile": "\ud800"}"#,
        #"{"orders": [], "nodes": [], "profile": "\udc00x"}"#, #"{"orders": [], "nodes": [], "profile": "a\x"}"#,
        #"{"orders": [], "nodes": [], "profile": 1}"#, #"{"orders": [], "nodes": [], "Profile": "x"}"#,
        #"{"orders": [], "nodes": [], "profile": "a", "profile": 1}"#, #"{"orders": [], "nodes": [], "profile": 1, "profile": "a"}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 1e400}}"#, #"{"orders": [], "nodes": [], "rates": {"per_km": 1e-400}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 3e-324}}"#, #"{"orders": [], "nodes": [], "rates": {"per_km": 0.000e-999}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 01}}"#, #"{"orders": [], "nodes": [], "rates": {"per_km": -}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 1.}}"#, #"{"orders": [], "nodes": [], "rates": {"per_km": +1}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 1.7976931348623157e308}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 1.7976931348623159e308}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 123456789012345678901234567890}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 0.30000000000000004441}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": 9007199254740993}}"#,
        #"{"orders": [], "nodes": [], "rates": {"per_km": -0}}"#, #"{"orders": [], "nodes": [], "rates": {"per_km": NaN}}"#,
        #"{"orders": [], "nodes": [], "rules": {"min_available": 1.5}}"#,
        #"{"orders": [], "nodes": [], "rules": {"min_available": 9007199254740994}}"#,
        #"{"orders": [], "nodes": [], "rules": {"exclude": [{}]}}"#, #"{"orders": [], "nodes": [], "rules": {"exclude": [{"kind": "shop"}]}}"#,
        #"{"orders": [], "nodes": [], "skus": null, "inventory": null, "rates": null, "rules": null, "profile": null}"#,
        #"[]"#, "", #"{"orders": [] /* x */, "nodes": []}"#,
    ])
    func edgesAgree(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(fast(bytes) == reference(bytes), "\(text)")
    }

    @Test func rawControlCharactersAndBadUTF8AreDeclinedByBoth() {
        for bad: [UInt8] in [[0x01], [0x09], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80]] {
            let bytes = Array(#"{"orders": [], "nodes": [], "profile": "a"#.utf8) + bad + Array(#""}"#.utf8)
            #expect(fast(bytes) == nil && reference(bytes) == nil, "\(bad)")
        }
    }

    /// Foundation's nesting limit holds for a value the reader only skips.
    @Test func nestingAtFoundationsLimit() {
        for depth in [Limits.jsonDepthMax - 2, Limits.jsonDepthMax - 1, Limits.jsonDepthMax] {
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let text = #"{"orders": [], "nodes": [], "profile": null, "profile": "# + nested + "}"
            let bytes = Array(text.utf8)
            #expect((fast(bytes) == nil) == (reference(bytes) == nil), "depth \(depth)")
        }
    }

    /// Seeded mutations of the full request: flipped, dropped, inserted and
    /// repeated bytes and ranges. Both readers must agree on every one.
    @Test func mutatedInputsAgree() {
        let original = Array(Self.everyField.utf8)
        let alphabet = Array(#"{}[],:"\0123456789.eE-+ ntrufalsxu"#.utf8) + [0xC3, 0xA9, 0x00, 0x1F, 0xFF]
        var random = SplitMix64(seed: 20261201)
        var accepted = 0
        var disagreements: [String] = []
        for _ in 0..<4_000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 6 {
                case 0: bytes[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                case 3: bytes[at] ^= UInt8(1 << (random.next() % 8))
                case 4:
                    let end = min(bytes.count, at + 1 + Int(random.next() % 24))
                    bytes.removeSubrange(at..<end)
                default:
                    let end = min(bytes.count, at + 1 + Int(random.next() % 24))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
                if bytes.isEmpty { bytes = [0x20] }
            }
            let read = fast(bytes)
            let expected = reference(bytes)
            if read != expected, !Self.hasZeroWithExponent(bytes) {
                disagreements.append(String(decoding: bytes, as: UTF8.self))
            }
            if expected != nil { accepted += 1 }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(3))")
        #expect(accepted > 100, "the mutations must leave some inputs valid to compare values")
    }

    /// Foundation's `JSONDecoder` refuses some zeros with an exponent that
    /// RFC 8259 allows (`0e5`, `0E1`, `-0.0e3`, while it takes `0e-5` and
    /// `0.0e5`); the reader takes them all, as the grammar says.
    static func hasZeroWithExponent(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.range(of: #"(^|[^0-9.eE+-])-?0(\.0+)?[eE]"#, options: .regularExpression) != nil
    }

    @Test func foundationsZeroExponentQuirkIsTheOnlyAllowance() {
        #expect(fast(#"{"orders": [], "nodes": [], "rates": {"per_km": 0e5}}"#)?.rates.perKilometer == 0)
        #expect(Self.hasZeroWithExponent(Array(#"{"a": 0e5}"#.utf8)))
        #expect(!Self.hasZeroWithExponent(Array(#"{"a": 10e5, "b": 1.0e5}"#.utf8)))
    }

    /// Bad input still gets the reference's typed error, path and all.
    @Test func errorsAreTheReferences() {
        let text = #"{"orders": [{"id": "a", "ship_to": {"latitude": 1, "longitude": 2}, "lines": [{"id": "l", "sku": "S", "qty": 1}]}], "nodes": []}"#
        do {
            _ = try OptimizeRequest.decode(json: Data(text.utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .unknownField && error.path == "orders[0].lines[0].qty", "\(error)")
        }
    }
}
