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
        try await call("/v3/kv/txn", transaction.body, as: TxnResponse.self)
    }

    /// `txn` from a thread that may block (the ledger's writer), bounded by `timeout`.
    func txnBlocking(_ transaction: Txn, timeoutMilliseconds: Int) throws(FulcrumError) -> TxnResponse {
        let endpoint = endpoints[preferred.load(ordering: .relaxed) % endpoints.count]
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: endpoint + "/v3/kv/txn", method: .POST, body: .data(try Self.encode(transaction.body)))
        } catch {
            throw FulcrumError(.invalidArgument, "bad etcd request: \(error)", path: "etcd")
        }
        let response: HTTPClient.Response
        do {
            response = try http.execute(request: request, deadline: .now() + .milliseconds(Int64(timeoutMilliseconds))).wait()
        } catch {
            throw FulcrumError(.unavailable, "etcd at \(endpoint) did not answer: \(error)", path: "etcd")
        }
        return try Self.decode(TxnResponse.self, status: response.status, body: response.body, endpoint: endpoint)
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

    /// Watches `[key, rangeEnd)` from `startRevision` and calls `onEvents`
    /// with the keys of each batch of changes (and whether each was a
    /// delete), until the task is cancelled or the stream ends.
    func watch(
        _ key: [UInt8], end rangeEnd: [UInt8], startRevision: Int64,
        onEvents: @Sendable ([(key: [UInt8], deleted: Bool)]) -> Void
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
                    let events = (message.result?.events ?? []).compactMap { event in
                        event.kv.flatMap { Self.bytes($0.key) }.map { (key: $0, deleted: event.type == "DELETE") }
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

    private static func decode<Response: Decodable>(
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
    enum Target: String { case create = "CREATE", mod = "MOD", value = "VALUE" }
    enum Operation {
        case put(key: [UInt8], value: [UInt8], lease: Int64?)
        case range(key: [UInt8])
        case delete(key: [UInt8], end: [UInt8]?)
    }

    var compares: [(key: [UInt8], target: Target, equals: Int64)] = []
    var success: [Operation] = []
    var failure: [Operation] = []

    var body: [String: Any] {
        func operation(_ operation: Operation) -> [String: Any] {
            switch operation {
            case .put(let key, let value, let lease):
                var put: [String: Any] = ["key": EtcdClient.base64(key), "value": EtcdClient.base64(value)]
                if let lease { put["lease"] = String(lease) }
                return ["request_put": put]
            case .range(let key):
                return ["request_range": ["key": EtcdClient.base64(key)]]
            case .delete(let key, let end):
                var delete: [String: Any] = ["key": EtcdClient.base64(key)]
                if let end { delete["range_end"] = EtcdClient.base64(end) }
                return ["request_delete_range": delete]
            }
        }
        let fields = [Target.create: "create_revision", .mod: "mod_revision", .value: "value"]
        return [
            "compare": compares.map { compare -> [String: Any] in
                ["key": EtcdClient.base64(compare.key), "target": compare.target.rawValue, "result": "EQUAL",
                 fields[compare.target]!: String(compare.equals)]
            },
            "success": success.map(operation),
            "failure": failure.map(operation),
        ]
    }
}

// The gateway's JSON: 64-bit numbers are strings, and default values (false, 0, empty) are left out.
struct ResponseHeader: Decodable, Sendable {
    var revision: String?
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
    var more: Bool?
}

struct TxnResponse: Decodable, Sendable {
    struct Operation: Decodable, Sendable { var response_range: RangeResponse? }
    var header: ResponseHeader?
    var succeeded: Bool?
    var responses: [Operation]?
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
