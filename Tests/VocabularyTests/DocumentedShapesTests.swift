import Foundation
import Testing
import Yams

/// Every key of every documented request and response shape follows the
/// vocabulary (one name for each thing): the OpenAPI document, the protobuf
/// schema and protocol.md's examples, the optimize contract, the scenarios.
struct DocumentedShapesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Names the vocabulary replaced, and the forms it forbids.
    static let forbidden: Set<String> = [
        "qty", "lat", "lon", "lng", "ttl", "timeout", "distance", "weight", "warehouse_id", "destination",
    ]

    /// Why `key` breaks the vocabulary, or nil.
    static func violation(_ key: String) -> String? {
        if forbidden.contains(key) { return "a name the vocabulary replaced" }
        if key.contains("fulfilment") { return "fulfillment is spelt the American way" }
        if key.hasSuffix("_milliseconds") || key.hasSuffix("_at_ms") { return "instants and durations end in _ms" }
        if key.hasSuffix("_kilometers") || key.hasSuffix("_miles") { return "distances end in _km" }
        if key.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) == nil { return "keys are snake_case" }
        return nil
    }

    // MARK: Keys of each kind of document

    /// Property names, parameter names and required lists, anywhere in an OpenAPI document.
    static func openAPIKeys(_ node: Any) -> [String] {
        var keys: [String] = []
        if let mapping = node as? [String: Any] {
            if let properties = mapping["properties"] as? [String: Any] { keys += properties.keys }
            if let required = mapping["required"] as? [String] { keys += required }
            if mapping["in"] as? String == "query", let name = mapping["name"] as? String { keys.append(name) }
            for value in mapping.values { keys += openAPIKeys(value) }
        } else if let list = node as? [Any] {
            for value in list { keys += openAPIKeys(value) }
        }
        return keys
    }

    /// Field names of protobuf messages (`int64 created_ms = 4;`).
    static func protoFields(_ text: String) -> [String] {
        matches(#"(?m)^\s*(?:repeated\s+|optional\s+)?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+\s*;"#, in: text)
    }

    /// Keys of JSON objects in a document's examples (`"quantity": 1`).
    static func jsonKeys(_ text: String) -> [String] {
        matches(#""([A-Za-z_][A-Za-z0-9_]*)"\s*:"#, in: text)
    }

    /// Every mapping key of a YAML document.
    static func yamlKeys(_ node: Any) -> [String] {
        if let mapping = node as? [String: Any] { return mapping.keys + mapping.values.flatMap(yamlKeys) }
        if let list = node as? [Any] { return list.flatMap(yamlKeys) }
        return []
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    static func violations(_ keys: [String], in document: String) -> [String] {
        Set(keys).sorted().compactMap { key in violation(key).map { "\(document): '\(key)': \($0)" } }
    }

    // MARK: Tests

    @Test func theOpenAPIDocumentSpeaksTheVocabulary() throws {
        let document = try Yams.load(yaml: try Self.text("docs/openapi.yaml")) as Any
        let keys = Self.openAPIKeys(document)
        #expect(keys.count > 100)
        #expect(Self.violations(keys, in: "docs/openapi.yaml") == [])
    }

    @Test func theProtocolSpeaksTheVocabulary() throws {
        let proto = Self.protoFields(try Self.text("Sources/FulcrumWire/fulcrum.proto"))
        let examples = try Self.text("docs/protocol.md")
        #expect(proto.count > 100)
        #expect(Self.violations(proto, in: "fulcrum.proto") == [])
        #expect(Self.violations(Self.protoFields(examples) + Self.jsonKeys(examples), in: "docs/protocol.md") == [])
    }

    @Test func theOptimizeContractSpeaksTheVocabulary() throws {
        let contract = try Self.text("docs/optimize.md")
        // Its code blocks list the fields without quotes: take every `name:` too.
        let keys = Self.jsonKeys(contract) + Self.matches(#"(?m)"?\b([a-z_]+)"?\s*:\s"#, in: contract)
        #expect(keys.contains("quantity") && keys.contains("latitude"))
        #expect(Self.violations(keys, in: "docs/optimize.md") == [])
    }

    @Test func theScenariosSpeakTheVocabulary() throws {
        let files = FileManager.default.enumerator(atPath: Self.root.appendingPathComponent("scenarios").path)!
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 5)
        for file in files {
            let document = try Yams.load(yaml: try Self.text("scenarios/" + file)) as Any
            #expect(Self.violations(Self.yamlKeys(document), in: file) == [])
        }
    }

    /// The checker itself finds each kind of breach (so a passing run means something).
    @Test func theCheckerFindsEachBreach() throws {
        let proto = "message M {\n  int64 created_at_milliseconds = 1;\n  repeated string fulfilment_orders = 2;\n}"
        #expect(Self.violations(Self.protoFields(proto), in: "p").count == 2)
        #expect(Self.violations(Self.jsonKeys(#"{"qty": 1, "lat": 2, "distance_kilometers": 3, "shipTo": 4}"#), in: "j").count == 4)
        let yaml = try Yams.load(yaml: "nodes:\n  - {id: A, lon: 3}\n") as Any
        #expect(Self.violations(Self.yamlKeys(yaml), in: "y") == ["y: 'lon': a name the vocabulary replaced"])
        let openAPI = try Yams.load(yaml: "components: {schemas: {X: {properties: {ttl: {type: integer}}}}}") as Any
        #expect(Self.violations(Self.openAPIKeys(openAPI), in: "o").count == 1)
    }
}
