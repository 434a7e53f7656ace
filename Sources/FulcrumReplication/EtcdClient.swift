import AsyncHTTPClient
import Foundation
import FulcrumCore
import NIOCore
import NIOHTTP1
import Synchronization

/// etcd's v3 API through its JSON gateway (`/v3/kv/txn`, `/v3/lease/grant`,
/// `/v3/watch`, …): keys and values travel base64-encoded and 64-bit numbers
/// as strings. Chosen over gRPC by measurement (`docs/replication.md`): the
/// gateway commits a fenced 6 KB append at 581/s with one in flight, the
/// figure the leader's one-append-per-group design needs, without a second
/// protocol stack in the build.
///
/// Calls go to one endpoint at a time; a connection failure moves to the next.
final class EtcdClient: Sendable {
    let endpoints: [String]
    private let http: HTTPClient
    private let preferred = Atomic<Int>(0)

    init(endpoints: [String]) {
        precondition(!endpoints.isEmpty)
        self.endpoints = endpoints
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(Int64(Limits.etcdConnectTimeoutMilliseconds))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: The calls Fulcrum makes

    /// The pairs at `key` (or in `[key, rangeEnd)`), in key order, at most `limit` (0: all).
    func range(_ key: [UInt8], end rangeEnd: [UInt8]? = nil, limit: Int = 0) async throws(FulcrumError) -> RangeResponse {
        var body: [String: Any] = ["key": Self.base64(key)]
        if let rangeEnd { body["range_end"] = Self.base64(rangeEnd) }
        if limit > 0 { body["limit"] = String(limit) }
        return try await call("/v3/kv/range", body, as: RangeResponse.self)
    }

    func txn(_ transaction: Txn) async throws(FulcrumError) -> TxnResponse {
        try await call("/v3/kv/txn", transaction.json, as: TxnResponse.self)
    }

    /// A `txn` sent now and waited for later, from a thread that may block
    /// (the ledger's writer); its answer is bounded by `timeoutMilliseconds`.
    func startTxn(_ transaction: Txn, timeoutMilliseconds: Int) -> StartedTxn {
        let endpoint = endpoints[preferred.load(ordering: .relaxed) % endpoints.count]
        do {
            let request = try HTTPClient.Request(url: endpoint + "/v3/kv/txn", method: .POST, body: .bytes(transaction.json))
            return StartedTxn(
                endpoint: endpoint,
                response: .success(http.execute(request: request, deadline: .now() + .milliseconds(Int64(timeoutMilliseconds)))))
        } catch {
            return StartedTxn(endpoint: endpoint, response: .failure(FulcrumError(.invalidArgument, "bad etcd request: \(error)", path: "etcd")))
        }
    }

    /// A transaction on its way to etcd.
    struct StartedTxn {
        let endpoint: String
        let response: Result<EventLoopFuture<HTTPClient.Response>, FulcrumError>

        func wait() throws(FulcrumError) -> TxnResponse {
            let answer: HTTPClient.Response
            do {
                answer = try response.get().wait()
            } catch let error as FulcrumError {
                throw error
            } catch {
                throw FulcrumError(.unavailable, "etcd at \(endpoint) did not answer: \(error)", path: "etcd")
            }
            if answer.status == .ok, let body = answer.body, let fast = TxnResponse.read(body.readableBytesView) { return fast }
            return try EtcdClient.decode(TxnResponse.self, status: answer.status, body: answer.body, endpoint: endpoint)
        }
    }

    /// Drops etcd's history up to `revision` (what deleted keys still hold).
    func compact(revision: Int64) async throws(FulcrumError) {
        _ = try await call("/v3/kv/compaction", ["revision": String(revision)], as: LeaseResponse.self)
    }

    func grantLease(ttlSeconds: Int64) async throws(FulcrumError) -> Int64 {
        let response = try await call("/v3/lease/grant", ["TTL": String(ttlSeconds)], as: LeaseResponse.self)
        guard let id = response.ID.flatMap(Int64.init), id != 0 else {
            throw FulcrumError(.unavailable, "etcd granted no lease: \(response.error ?? "no id")", path: "etcd")
        }
        return id
    }

    /// Renews a lease once; returns its remaining time to live (0: it has expired).
    func keepAlive(lease: Int64) async throws(FulcrumError) -> Int64 {
        let response = try await call("/v3/lease/keepalive", ["ID": String(lease)], as: KeepAliveResponse.self)
        return response.result?.TTL.flatMap(Int64.init) ?? 0
    }

    func revoke(lease: Int64) async {
        _ = try? await call("/v3/lease/revoke", ["ID": String(lease)], as: LeaseResponse.self)
    }

    /// A change a watch reports: the key, its new value (empty for a delete).
    struct Change {
        var key: [UInt8]
        var value: [UInt8]
        var deleted: Bool
    }

    /// Watches `[key, rangeEnd)` from `startRevision` and calls `onEvents`
    /// with each batch of changes, in revision order, until the task is
    /// cancelled or the stream ends.
    func watch(
        _ key: [UInt8], end rangeEnd: [UInt8], startRevision: Int64, onEvents: @Sendable ([Change]) -> Void
    ) async throws(FulcrumError) {
        let endpoint = endpoints[preferred.load(ordering: .relaxed) % endpoints.count]
        var request = HTTPClientRequest(url: endpoint + "/v3/watch")
        request.method = .POST
        let body: [String: Any] = [
            "create_request": [
                "key": Self.base64(key), "range_end": Self.base64(rangeEnd), "start_revision": String(startRevision),
            ] as [String: Any]
        ]
        do {
            request.body = .bytes(ByteBuffer(bytes: try Self.encode(body)))
            let response = try await http.execute(request, timeout: .hours(24 * 365))
            guard response.status == .ok else {
                throw FulcrumError(.unavailable, "etcd at \(endpoint) refused a watch: \(response.status)", path: "etcd")
            }
            var pending: [UInt8] = []
            for try await chunk in response.body {
                pending += chunk.readableBytesView
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(pending[..<newline])
                    pending.removeSubrange(...newline)
                    guard let message = try? JSONDecoder().decode(WatchMessage.self, from: Data(line)) else { continue }
                    let events = (message.result?.events ?? []).compactMap { event -> Change? in
                        guard let pair = event.kv, let key = Self.bytes(pair.key) else { return nil }
                        return Change(key: key, value: pair.valueBytes, deleted: event.type == "DELETE")
                    }
                    onEvents(events)
                }
            }
        } catch let error as FulcrumError {
            throw error
        } catch {
            throw FulcrumError(.unavailable, "the watch on etcd at \(endpoint) ended: \(error)", path: "etcd")
        }
    }

    // MARK: The transport

    private func call<Response: Decodable>(_ path: String, _ body: [String: Any], as type: Response.Type)
        async throws(FulcrumError) -> Response
    {
        let encoded: Data
        do { encoded = try Self.encode(body) } catch {
            throw FulcrumError(.invalidArgument, "bad etcd request: \(error)", path: "etcd")
        }
        return try await call(path, Array(encoded), as: type)
    }

    private func call<Response: Decodable>(_ path: String, _ encoded: [UInt8], as type: Response.Type)
        async throws(FulcrumError) -> Response
    {
        var lastError: (any Error)?
        let first = preferred.load(ordering: .relaxed)
        for attempt in 0..<endpoints.count {
            let index = (first + attempt) % endpoints.count
            var request = HTTPClientRequest(url: endpoints[index] + path)
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: encoded))
            let response: HTTPClientResponse
            let bytes: ByteBuffer
            do {
                response = try await http.execute(request, timeout: .milliseconds(Int64(Limits.etcdRequestTimeoutMilliseconds)))
                bytes = try await response.body.collect(upTo: Limits.etcdResponseBytesMax)
            } catch {
                lastError = error
                preferred.store(index + 1, ordering: .relaxed)
                continue
            }
            return try Self.decode(type, status: response.status, body: bytes, endpoint: endpoints[index])
        }
        throw FulcrumError(
            .unavailable, "no etcd endpoint answered (\(endpoints.joined(separator: ", "))): \(lastError.map { "\($0)" } ?? "")",
            path: "etcd")
    }

    private static func encode(_ body: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: body)
    }

    static func decode<Response: Decodable>(
        _ type: Response.Type, status: HTTPResponseStatus, body: ByteBuffer?, endpoint: String
    ) throws(FulcrumError) -> Response {
        let data = body.map { Data($0.readableBytesView) } ?? Data()
        guard status == .ok else {
            let message = (try? JSONDecoder().decode(GatewayError.self, from: data))?.message ?? String(decoding: data, as: UTF8.self)
            throw FulcrumError(.unavailable, "etcd at \(endpoint) answered \(status.code): \(message)", path: "etcd")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw FulcrumError(.unavailable, "etcd at \(endpoint) answered what is not its API: \(error)", path: "etcd")
        }
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    static func bytes(_ base64: String) -> [UInt8]? { Data(base64Encoded: base64).map { Array($0) } }
}

/// A transaction: compares, then the success or the failure operations.
struct Txn {
    enum Target: String { case create = "CREATE", mod = "MOD" }
    enum Operation {
        case put(key: [UInt8], value: [UInt8], lease: Int64?)
        case range(key: [UInt8])
        case delete(key: [UInt8], end: [UInt8]?)
    }

    var compares: [(key: [UInt8], target: Target, equals: Int64)] = []
    var success: [Operation] = []
    var failure: [Operation] = []

    /// The request as the gateway takes it, written directly: base64 and
    /// digits need no escaping, and Foundation's serializer cost a leader
    /// more per append than the rest of its work on the entry.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + success.reduce(0) { total, operation in
            if case .put(let key, let value, _) = operation { return total + (key.count + value.count) * 4 / 3 + 64 }
            return total + 64
        })
        func text(_ string: String) { out.append(contentsOf: string.utf8) }
        func base64(_ bytes: [UInt8]) {
            out.append(UInt8(ascii: "\""))
            Base64.encode(bytes, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        func operations(_ operations: [Operation]) {
            for (index, operation) in operations.enumerated() {
                if index > 0 { text(",") }
                switch operation {
                case .put(let key, let value, let lease):
                    text("{\"request_put\":{\"key\":")
                    base64(key)
                    text(",\"value\":")
                    base64(value)
                    if let lease { text(",\"lease\":\"\(lease)\"") }
                    text("}}")
                case .range(let key):
                    text("{\"request_range\":{\"key\":")
                    base64(key)
                    text("}}")
                case .delete(let key, let end):
                    text("{\"request_delete_range\":{\"key\":")
                    base64(key)
                    if let end {
                        text(",\"range_end\":")
                        base64(end)
                    }
                    text("}}")
                }
            }
        }
        let fields = [Target.create: "create_revision", .mod: "mod_revision"]
        text("{\"compare\":[")
        for (index, compare) in compares.enumerated() {
            if index > 0 { text(",") }
            text("{\"key\":")
            base64(compare.key)
            text(",\"target\":\"\(compare.target.rawValue)\",\"result\":\"EQUAL\",\"\(fields[compare.target]!)\":\"\(compare.equals)\"}")
        }
        text("],\"success\":[")
        operations(success)
        text("],\"failure\":[")
        operations(failure)
        text("]}")
        return out
    }
}

/// Standard base64 (RFC 4648, padded), what the gateway takes for bytes.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8], into out: inout [UInt8]) {
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(chunk >> 18)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(alphabet[Int(chunk >> 6 & 63)])
            out.append(alphabet[Int(chunk & 63)])
            index += 3
        }
        let left = bytes.count - index
        guard left > 0 else { return }
        let chunk = UInt32(bytes[index]) << 16 | (left == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
        out.append(alphabet[Int(chunk >> 18)])
        out.append(alphabet[Int(chunk >> 12 & 63)])
        out.append(left == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
        out.append(UInt8(ascii: "="))
    }
}

// The gateway's JSON: 64-bit numbers are strings, and default values (false, 0, empty) are left out.
struct ResponseHeader: Decodable, Sendable {
    var revision: String? = nil
    var revisionNumber: Int64 { revision.flatMap(Int64.init) ?? 0 }
}

struct KeyValue: Decodable, Sendable {
    var key: String
    var value: String?
    var create_revision: String?
    var mod_revision: String?

    var keyBytes: [UInt8] { EtcdClient.bytes(key) ?? [] }
    var valueBytes: [UInt8] { value.flatMap(EtcdClient.bytes) ?? [] }
    var createRevision: Int64 { create_revision.flatMap(Int64.init) ?? 0 }
    var modRevision: Int64 { mod_revision.flatMap(Int64.init) ?? 0 }
}

struct RangeResponse: Decodable, Sendable {
    var header: ResponseHeader?
    var kvs: [KeyValue]?
}

struct TxnResponse: Decodable, Sendable {
    struct Operation: Decodable, Sendable { var response_range: RangeResponse? }
    var header: ResponseHeader?
    var succeeded: Bool?
    var responses: [Operation]?

    enum Keys: String, CodingKey, CaseIterable, Sendable { case header, succeeded, responses }
    enum HeaderKeys: String, CodingKey, CaseIterable, Sendable { case cluster_id, member_id, revision, raft_term }
    static let keys = JSONKeyTable<Keys>()
    static let headerKeys = JSONKeyTable<HeaderKeys>()

    /// The answer to an append (its header's revision and whether it
    /// succeeded) read without Foundation; nil for any other shape, which
    /// `JSONDecoder` then reads.
    static func read(_ bytes: some Collection<UInt8>) -> TxnResponse? {
        Array(bytes).withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            var response = TxnResponse()
            do {
                try reader.readObject(keys, depth: 0) { (reader, key) throws(JSONReader.Failure) in
                    switch key {
                    case .header:
                        var header = ResponseHeader()
                        try reader.readObject(headerKeys, depth: 1) { (reader, key) throws(JSONReader.Failure) in
                            if key == .revision { header.revision = try reader.readString() } else { try reader.skipValue(depth: 2) }
                        }
                        response.header = header
                    case .succeeded: response.succeeded = try reader.readBool()
                    case .responses: try reader.skipValue(depth: 1)
                    }
                }
                try reader.end()
            } catch {
                return nil
            }
            return response
        }
    }
}

struct LeaseResponse: Decodable, Sendable {
    var ID: String?
    var TTL: String?
    var error: String?
}

struct KeepAliveResponse: Decodable, Sendable {
    var result: LeaseResponse?
}

struct WatchMessage: Decodable, Sendable {
    struct Event: Decodable, Sendable {
        var type: String?
        var kv: KeyValue?
    }
    struct Result: Decodable, Sendable { var events: [Event]? }
    var result: Result?
}

struct GatewayError: Decodable, Sendable {
    var message: String?
}
