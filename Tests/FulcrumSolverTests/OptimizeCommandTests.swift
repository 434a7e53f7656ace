import Foundation
import FulcrumTestSupport
import Testing

@Suite struct OptimizeCommandTests {
    static let fulcrum = builtExecutable("fulcrum")

    @Test func printsTheResponseAndExitsZero() throws {
        let (status, output) = try run(Self.fulcrum, ["optimize"], input: Data(SolverInputTests.valid.utf8))
        #expect(status == 0)
        let response = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        #expect(response["status"] as? String == "optimal")
        #expect((response["plans"] as? [Any])?.count == 1)
    }

    @Test func badInputPrintsTheErrorObjectAndExitsNonZero() throws {
        let (status, output) = try run(Self.fulcrum, ["optimize"], input: Data("{\"orders\": []}".utf8))
        #expect(status != 0)
        let error = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any])["error"] as! [String: Any]
        #expect(error["code"] as? String == "invalid_json" && error["path"] as? String == "nodes")
    }

    /// Fields that used to pass silently are refused with the field meant, and exit non-zero.
    @Test func unknownFieldsAreRefused() throws {
        let cases: [(String, String, String)] = [
            (#""rules": {"exclusions": []}"#, "rules.exclusions", "unknown field 'exclusions'"),
            (#""rules": {"exclude": [{"nodes": "A"}]}"#, "rules.exclude[0].nodes", "unknown field 'nodes' (did you mean 'node'?)"),
            (#""rules": {"max_shipments": 1}"#, "rules.max_shipments", "unknown field 'max_shipments'"),
        ]
        for (field, path, message) in cases {
            let request = SolverInputTests.valid.replacingOccurrences(of: #""skus":[{"id":"X"}],"#, with: #""skus":[{"id":"X"}], "# + field + ",")
            let (status, output) = try run(Self.fulcrum, ["optimize"], input: Data(request.utf8))
            #expect(status != 0, "\(field) was accepted")
            let error = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["code"] as? String == "unknown_field" && error?["path"] as? String == path, "\(output)")
            #expect((error?["message"] as? String)?.hasPrefix(message) == true, "\(output)")
        }
    }

    @Test func jsonlAnswersLineByLine() throws {
        let compact = SolverInputTests.valid.replacingOccurrences(of: "\n", with: " ")
        let input = [compact, "{bad", compact].joined(separator: "\n")
        for strategy in ["optimal", "greedy-nearest", "greedy-priority"] {
            let (status, output) = try run(Self.fulcrum, ["optimize", "--jsonl", "--strategy", strategy], input: Data(input.utf8))
            let lines = output.split(separator: "\n")
            #expect(status != 0, "one request was bad")
            #expect(lines.count == 3)
            #expect(lines[0].contains("\"plans\"") && lines[1].contains("\"error\"") && lines[2].contains("\"plans\""))
        }
    }

    @Test func emitsMathProgData() throws {
        let (status, output) = try run(Self.fulcrum, ["optimize", "--emit-dat"], input: Data(SolverInputTests.valid.utf8))
        #expect(status == 0 && output.hasPrefix("data;") && output.contains("param pickup :=\n  1 1;"))
    }
}
