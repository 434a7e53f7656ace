import FulcrumConfig
import FulcrumCore
import Testing

/// YAML read field by field: every error names the file, line and column,
/// the field's path, and the code of the file's kind.
@Suite struct FieldReaderTests {
    static func reader(_ yaml: String) throws(FulcrumError) -> FieldReader {
        try FieldReader(Document.parse(yaml: yaml, file: "f.yaml", code: .invalidScenario), path: "", code: .invalidScenario)
    }

    /// A node read as a scenario would read it; the reader refuses what was not asked for.
    static func node(_ yaml: String) throws(FulcrumError) -> (Double, Double) {
        let top = try reader(yaml)
        guard let node = try top.mapping("node") else { throw top.error("node", "is required") }
        let coordinates = (try node.requiredDouble("latitude", in: -90...90), try node.requiredDouble("longitude", in: -180...180))
        try node.finish()
        try top.finish()
        return coordinates
    }

    @Test func aGoodMappingReads() throws {
        #expect(try Self.node("node: {latitude: 40.5, longitude: -74}\n") == (40.5, -74))
    }

    @Test(arguments: [
        ("node: {lat: 40.5, longitude: -74}\n", "f.yaml:1:7: node.latitude", "is required"),
        ("node: {latitude: 40.5, longitude: -74, lat: 1}\n", "f.yaml:1:40: node.lat", "unknown field 'lat' (did you mean 'latitude'?)"),
        ("node: {latitude: 140, longitude: -74}\n", "f.yaml:1:18: node.latitude", "outside"),
        ("node: {latitude: north, longitude: -74}\n", "f.yaml:1:18: node.latitude", "number"),
        ("node: {latitude: 1, longitude: 2}\ncolour: red\n", "f.yaml:2:1: colour", "unknown field 'colour'"),
        ("node: [1, 2\n", "f.yaml:2:1", "not valid YAML"),
    ])
    func badInputIsATypedErrorAtItsPlace(yaml: String, path: String, message: String) {
        do {
            _ = try Self.node(yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.code == .invalidScenario)
            #expect(error.path == path, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }
}
