import Foundation
import FulcrumCore
import Testing
@testable import FulcrumReplication

/// What the leader writes to etcd's gateway and reads back on every append,
/// without Foundation: checked against Foundation's own reading and writing.
@Suite struct EtcdCodingTests {
    @Test func base64AgreesWithFoundation() {
        var random = SplitMix64(seed: 3)
        for count in [0, 1, 2, 3, 4, 5, 6, 7, 100, 6_001] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            var encoded: [UInt8] = []
            Base64.encode(bytes, into: &encoded)
            #expect(String(decoding: encoded, as: UTF8.self) == Data(bytes).base64EncodedString(), "\(count) bytes")
        }
    }

    @Test func aTransactionIsTheGatewaysJSON() throws {
        var transaction = Txn()
        transaction.compares = [(Array("/f/c/leader".utf8), .create, 42), (Array("/f/c/head".utf8), .mod, 0)]
        transaction.success = [.put(key: Array("/f/c/log/1".utf8), value: [0, 255, 7], lease: 9), .delete(key: [1], end: [2])]
        transaction.failure = [.range(key: Array("/f/c/leader".utf8))]
        let object = try #require(try JSONSerialization.jsonObject(with: Data(transaction.json)) as? [String: Any])
        let compares = try #require(object["compare"] as? [[String: String]])
        #expect(compares == [
            ["key": Data("/f/c/leader".utf8).base64EncodedString(), "target": "CREATE", "result": "EQUAL", "create_revision": "42"],
            ["key": Data("/f/c/head".utf8).base64EncodedString(), "target": "MOD", "result": "EQUAL", "mod_revision": "0"],
        ])
        let success = try #require(object["success"] as? [[String: [String: String]]])
        #expect(success[0]["request_put"] == ["key": Data("/f/c/log/1".utf8).base64EncodedString(), "value": "AP8H", "lease": "9"])
        #expect(success[1]["request_delete_range"] == ["key": "AQ==", "range_end": "Ag=="])
        let failure = try #require(object["failure"] as? [[String: [String: String]]])
        #expect(failure[0]["request_range"] == ["key": Data("/f/c/leader".utf8).base64EncodedString()])
    }

    @Test func anAppendsAnswerIsReadWithoutFoundation() throws {
        let succeeded = #"{"header":{"cluster_id":"3249","member_id":"3319","revision":"1207","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"1207"}}}]}"#
        let read = try #require(TxnResponse.read(Array(succeeded.utf8)))
        #expect(read.succeeded == true && read.header?.revisionNumber == 1207)
        // The gateway leaves false out; a compare that failed has no "succeeded".
        let failed = #"{"header":{"cluster_id":"3249","member_id":"3319","revision":"1208","raft_term":"2"}}"#
        let readFailed = try #require(TxnResponse.read(Array(failed.utf8)))
        #expect(readFailed.succeeded == nil && readFailed.header?.revisionNumber == 1208)
        // Another shape is left to JSONDecoder.
        #expect(TxnResponse.read(Array(#"{"header":{"revision":"1","other":2}}"#.utf8)) == nil)
        #expect(TxnResponse.read(Array("{".utf8)) == nil)
    }

    @Test func clusterKeysSortInLogOrder() {
        let keys = ClusterKeys(cluster: "c")
        #expect(String(decoding: keys.log(42), as: UTF8.self) == "/fulcrum/c/log/00000000000000000042")
        #expect(keys.log(9).lexicographicallyPrecedes(keys.log(10)))
        #expect(keys.log(UInt64.max).lexicographicallyPrecedes(keys.logEnd))
        #expect(ClusterKeys.end(of: Array("a/".utf8)) == Array("a0".utf8))
        #expect(ClusterKeys.end(of: [0x61, 0xFF]) == [0x62])
    }
}
