import Foundation
import FulcrumClient
import FulcrumCore
@testable import FulcrumGateway
import FulcrumLedger
import FulcrumOrchestration
import FulcrumService
import FulcrumTestSupport
import FulcrumWire
import Logging
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A gateway on a free loopback port over a fresh ledger with the demo network.
final class TestGateway {
    let directory = temporaryDirectory()
    let ledger: Ledger
    let service: Service
    let gateway: HTTPGateway
    let token: String?

    init(token: String? = nil, bodyBytesMax: Int = 1 << 20) async throws {
        ledger = try Ledger(directory: directory)
        service = Service(ledger: ledger, network: DemoData.network)
        var configuration = GatewayConfiguration()
        configuration.port = 0
        if let token { configuration.access = AccessControl(TokenTable(sharedToken: token)) }
        configuration.bodyBytesMax = bodyBytesMax
        var logger = Logger(label: "test-gateway")
        logger.logLevel = .critical
        gateway = try await HTTPGateway.start(service: service, configuration: configuration, logger: logger)
        self.token = token
    }

    /// A request; the answer's status and JSON object.
    func call(_ method: String, _ path: String, _ body: String? = nil, token: String?? = nil) async throws
        -> (status: Int, json: [String: Any])
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(gateway.port)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body.utf8) }
        if let bearer = token ?? self.token { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as! HTTPURLResponse).statusCode, object)
    }

    /// Runs `body` against a fresh gateway, stopping it afterwards.
    static func with(
        token: String? = nil, bodyBytesMax: Int = 1 << 20, _ body: (TestGateway) async throws -> Void
    ) async throws {
        let gateway = try await TestGateway(token: token, bodyBytesMax: bodyBytesMax)
        do {
            try await body(gateway)
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    func stop() async {
        await gateway.shutdown()
        ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The error object's code and path.
private func error(_ json: [String: Any]) -> (code: String?, path: String?) {
    let error = json["error"] as? [String: Any]
    return (error?["code"] as? String, error?["path"] as? String)
}

@Suite struct GatewayTests {
    @Test func everyOperationOverHTTP() async throws {
        try await TestGateway.with { gateway in
        #expect(try await gateway.call("GET", "/health").status == 200)
        #expect(try await gateway.call("GET", "/ready").json["status"] as? String == "ready")

        let adjusted = try await gateway.call("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 10, "reason": "count"}"#)
        #expect(adjusted.status == 200 && adjusted.json["on_hand"] as? Int == 10 && adjusted.json["available"] as? Int == 10)
        _ = try await gateway.call("POST", "/v1/adjust", #"{"node": "STORE-NYC", "sku": "TEE", "delta": 3}"#)

        let atp = try await gateway.call("GET", "/v1/atp?sku=TEE&near=40.7,-74.0")
        #expect(atp.status == 200 && atp.json["available"] as? Int == 13)
        let nodes = atp.json["nodes"] as! [[String: Any]]
        #expect(nodes.map { $0["node"] as! String } == ["STORE-NYC", "DC-EAST"])
        #expect((nodes[0]["distance_km"] as! Double) < 10)

        let batch = try await gateway.call(
            "POST", "/v1/atp/batch", #"{"queries": [{"sku": "TEE", "node": "DC-EAST"}, {"sku": "NONE"}]}"#)
        let answers = batch.json["answers"] as! [[String: Any]]
        #expect(answers.map { $0["available"] as! Int } == [10, 0])

        let reserved = try await gateway.call(
            "POST", "/v1/reservations", #"{"order": "W1", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 4}], "idempotency_key": "k1"}"#)
        #expect(reserved.status == 201 && reserved.json["state"] as? String == "reserved")
        #expect(try await gateway.call("GET", "/v1/reservations/W1").json["order"] as? String == "W1")
        #expect(try await gateway.call("POST", "/v1/reservations/W1/confirm").json["state"] as? String == "confirmed")
        #expect(try await gateway.call("POST", "/v1/reservations/W1/ship", #"{"idempotency_key": "s1"}"#).json["state"] as? String == "shipped")
        #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-EAST").json["available"] as? Int == 6)

        let order = #"{"orders": [{"id": "W2", "ship_to": {"latitude": 40.7, "longitude": -74.0}, "lines": [{"id": "1", "sku": "TEE", "quantity": 2}]}]}"#
        let optimized = try await gateway.call("POST", "/v1/optimize?strategy=optimal", order)
        #expect(optimized.status == 200 && optimized.json["status"] as? String == "optimal")
        let both = try await gateway.call("POST", "/v1/optimize-and-reserve?ttl_seconds=60", order)
        #expect(both.status == 200 && both.json["attempts"] as? Int == 1)
        let reservation = both.json["reservation"] as! [String: Any]
        #expect(reservation["order"] as? String == "W2" && reservation["state"] as? String == "reserved")
        #expect(try await gateway.call("POST", "/v1/reservations/W2/release").json["state"] as? String == "released")

        let placed = try await gateway.call("POST", "/v1/optimize", order.replacingOccurrences(of: #""latitude": 40.7, "longitude": -74.0"#, with: #""country": "US", "postal_code": "10001""#))
        #expect((placed.json["plans"] as? [[String: Any]])?.first?["ship_to_precision"] as? String == "postal_code", "\(placed.json)")

        let east = try await gateway.call("GET", "/v1/nodes").json["nodes"] as! [[String: Any]]
        #expect(east.first?["node"] as? String == "DC-EAST" && east.first?["released_quantity"] as? Int == 4, "\(east)")
        let closed = try await gateway.call("PATCH", "/v1/nodes/DC-EAST", #"{"enabled": false, "capacity_per_day": 10, "reason": "audit"}"#)
        #expect(closed.status == 200 && closed.json["enabled"] as? Bool == false && closed.json["capacity_left"] as? Int == 6, "\(closed.json)")
        let unlimited = try await gateway.call("PATCH", "/v1/nodes/DC-EAST", #"{"capacity_per_day": null}"#)
        #expect(unlimited.json["capacity_left"] is NSNull && (unlimited.json["changes"] as? [Any])?.count == 2)
        #expect(try await gateway.call("GET", "/v1/nodes/DC-EAST?limit=1").json["changes"].map { ($0 as! [Any]).count } == 1)
        let unknown = try await gateway.call("PATCH", "/v1/nodes/NOWHERE", #"{"enabled": false}"#)
        #expect(unknown.status == 404 && error(unknown.json).path == "node")
        let typo = try await gateway.call("PATCH", "/v1/nodes/DC-EAST", #"{"capacity": 5}"#)
        #expect(typo.status == 400 && error(typo.json).code == "unknown_field")
        }
    }

    /// Receipts, transfers in transit, counts from a feed and reconciliation over HTTP.
    @Test func stockMovesOverHTTP() async throws {
        try await TestGateway.with { gateway in
        _ = try await gateway.call("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 10}"#)
        let scheduled = try await gateway.call(
            "POST", "/v1/receipts", #"{"receipt": "PO-1", "node": "DC-WEST", "sku": "TEE", "quantity": 4, "due_ms": 2000000000000}"#)
        #expect(scheduled.status == 201 && scheduled.json["from_node"] == nil, "\(scheduled.json)")
        let moved = try await gateway.call(
            "POST", "/v1/transfers",
            #"{"transfer": "T-1", "from_node": "DC-EAST", "to_node": "DC-WEST", "sku": "TEE", "quantity": 6, "due_ms": 2000000000000}"#)
        #expect(moved.status == 201 && moved.json["from_node"] as? String == "DC-EAST", "\(moved.json)")
        #expect(try await gateway.call("GET", "/v1/receipts/T-1").json["quantity"] as? Int == 6)
        let listed = try await gateway.call("GET", "/v1/receipts?node=DC-WEST").json["receipts"] as? [[String: Any]] ?? []
        #expect(listed.map { "\($0["receipt"]!) \($0["from_node"] ?? "-")" } == ["PO-1 -", "T-1 DC-EAST"])
        #expect((try await gateway.call("GET", "/v1/receipts?after=PO-1").json["receipts"] as? [[String: Any]])?.count == 1)
        #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-WEST&on_ms=2000000000000").json["available"] as? Int == 10)
        let tooMany = try await gateway.call(
            "POST", "/v1/transfers",
            #"{"transfer": "T-2", "from_node": "DC-EAST", "to_node": "DC-WEST", "sku": "TEE", "quantity": 5, "due_ms": 1}"#)
        #expect(tooMany.status == 409 && error(tooMany.json) == ("insufficient_stock", "quantity"), "\(tooMany.json)")
        let landed = try await gateway.call("POST", "/v1/receipts/T-1/receive", #"{"quantity": 5}"#)
        #expect(landed.status == 200 && landed.json["on_hand"] as? Int == 5, "\(landed.json)")
        #expect(try await gateway.call("GET", "/v1/receipts/T-1").status == 404)
        #expect(try await gateway.call("POST", "/v1/receipts/PO-1/receive").json["on_hand"] as? Int == 9)

        let counted = try await gateway.call(
            "POST", "/v1/adjust", #"{"node": "DC-WEST", "sku": "TEE", "set": 8, "source": "wms", "source_reference": "f-1", "as_of_ms": 1}"#)
        #expect(counted.status == 200 && counted.json["on_hand"] as? Int == 17, "a count from long ago keeps all since: \(counted.json)")
        let delta = try await gateway.call("POST", "/v1/adjust", #"{"node": "DC-WEST", "sku": "TEE", "delta": 1, "as_of_ms": 1}"#)
        #expect(delta.status == 400 && error(delta.json).path == "as_of_ms")

        let reconciled = try await gateway.call(
            "POST", "/v1/reconcile", #"{"counts": [{"node": "DC-WEST", "sku": "TEE", "quantity": 15}], "nodes": ["DC-EAST"]}"#)
        #expect(reconciled.status == 200 && reconciled.json["matched"] as? Int == 0, "\(reconciled.json)")
        let differences = reconciled.json["differences"] as? [[String: Any]] ?? []
        #expect(differences.map { "\($0["node"]!)/\($0["sku"]!) \($0["difference"]!)" } == ["DC-EAST/TEE -4", "DC-WEST/TEE -2"])
        let twice = try await gateway.call(
            "POST", "/v1/reconcile", #"{"counts": [{"node": "A", "sku": "X", "quantity": 1}, {"node": "A", "sku": "X", "quantity": 2}]}"#)
        #expect(twice.status == 400 && error(twice.json).path == "counts[1]")
        }
    }

    /// A preorder over HTTP: a line promised units of a purchase order, which
    /// ATP by date counts taken; a short receipt is refused naming the
    /// order; the full one makes the line ordinary reserved stock.
    @Test func aPreorderIsFilledByItsReceipt() async throws {
        try await TestGateway.with { gateway in
            _ = try await gateway.call(
                "POST", "/v1/receipts", #"{"receipt": "PO-9", "node": "DC-EAST", "sku": "TEE", "quantity": 5, "due_ms": 2000000000000}"#)
            let preorder = try await gateway.call(
                "POST", "/v1/reservations",
                #"{"order": "P-1", "ttl_seconds": 86400, "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 3, "receipt": "PO-9"}]}"#)
            #expect(preorder.status == 201, "\(preorder.json)")
            let lines = preorder.json["lines"] as? [[String: Any]] ?? []
            #expect(lines.first?["receipt"] as? String == "PO-9")
            #expect(try await gateway.call("GET", "/v1/receipts/PO-9").json["promised"] as? Int == 3)
            #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-EAST&on_ms=2000000000000").json["available"] as? Int == 2)
            let tooMany = try await gateway.call(
                "POST", "/v1/reservations",
                #"{"order": "P-2", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 3, "receipt": "PO-9"}]}"#)
            #expect(tooMany.status == 409 && error(tooMany.json) == ("insufficient_stock", "lines[0].quantity"), "\(tooMany.json)")
            let elsewhere = try await gateway.call(
                "POST", "/v1/reservations",
                #"{"order": "P-3", "lines": [{"node": "DC-WEST", "sku": "TEE", "quantity": 1, "receipt": "PO-9"}]}"#)
            #expect(elsewhere.status == 400 && error(elsewhere.json).path == "lines[0].receipt", "\(elsewhere.json)")
            #expect(try await gateway.call("POST", "/v1/reservations/P-1/ship").status == 409, "nothing to ship yet")
            let late = try await gateway.call("POST", "/v1/receipts/PO-9/reschedule", #"{"due_ms": 2100000000000}"#)
            #expect(late.status == 200 && late.json["due_ms"] as? Int == 2_100_000_000_000, "\(late.json)")
            #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-EAST&on_ms=2000000000000").json["available"] as? Int == 0)
            #expect(try await gateway.call("POST", "/v1/receipts/PO-0/reschedule", #"{"due_ms": 1}"#).status == 404)

            let short = try await gateway.call("POST", "/v1/receipts/PO-9/receive", #"{"quantity": 2}"#)
            #expect(short.status == 409 && (short.json["error"] as? [String: Any])?["message"] as? String ?? "" != "", "\(short.json)")
            #expect(((short.json["error"] as? [String: Any])?["message"] as? String ?? "").contains("P-1"))
            let landed = try await gateway.call("POST", "/v1/receipts/PO-9/receive")
            #expect(landed.status == 200 && landed.json["on_hand"] as? Int == 5 && landed.json["reserved"] as? Int == 3, "\(landed.json)")
            let filled = try await gateway.call("GET", "/v1/reservations/P-1").json
            #expect((filled["lines"] as? [[String: Any]])?.first?["receipt"] == nil, "\(filled)")
            #expect(try await gateway.call("POST", "/v1/reservations/P-1/confirm").status == 200)
            #expect(try await gateway.call("POST", "/v1/reservations/P-1/ship").status == 200)
            #expect(try gateway.service.verify().isConsistent)
        }
    }

    /// A channel's allocation over HTTP: set, listed, seen by ATP per
    /// channel, protecting its units from another channel's reservation; bad
    /// amounts refused at their field.
    @Test func allocationsRingFenceStockOverHTTP() async throws {
        try await TestGateway.with { gateway in
            _ = try await gateway.call("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 10}"#)
            let set = try await gateway.call(
                "POST", "/v1/allocations", #"{"sku": "TEE", "node": "DC-EAST", "channel": "marketplace", "quantity": 6, "overflow": false}"#)
            #expect(set.status == 200 && set.json["quantity"] as? Int == 6 && set.json["overflow"] as? Bool == false, "\(set.json)")
            let listed = try await gateway.call("GET", "/v1/allocations?channel=marketplace").json["allocations"] as? [[String: Any]] ?? []
            #expect(listed.map { "\($0["node"]!)/\($0["sku"]!)" } == ["DC-EAST/TEE"])
            #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-EAST").json["available"] as? Int == 4)
            #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-EAST&channel=marketplace").json["available"] as? Int == 6)
            let taken = try await gateway.call(
                "POST", "/v1/reservations", #"{"order": "W-1", "channel": "web", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 5}]}"#)
            #expect(taken.status == 409 && error(taken.json) == ("insufficient_stock", "lines[0].quantity"), "\(taken.json)")
            let sold = try await gateway.call(
                "POST", "/v1/reservations", #"{"order": "M-1", "channel": "marketplace", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 6}]}"#)
            #expect(sold.status == 201 && sold.json["channel"] as? String == "marketplace", "\(sold.json)")
            #expect(try await gateway.call("GET", "/v1/atp?sku=TEE&node=DC-EAST").json["available"] as? Int == 4)
            for (body, path) in [
                (#"{"sku": "TEE", "node": "*", "channel": "web", "quantity": 1, "share_basis_points": 10}"#, "quantity"),
                (#"{"sku": "TEE", "node": "*", "channel": "web", "share_basis_points": 10001}"#, "share_basis_points"),
                (#"{"sku": "TEE", "node": "*", "channel": "", "quantity": 1}"#, "channel"),
                (#"{"sku": "TEE", "node": "*", "channel": "web", "qty": 1}"#, "qty"),
            ] {
                let refused = try await gateway.call("POST", "/v1/allocations", body)
                #expect(refused.status == 400 && error(refused.json).path == path, "\(body): \(refused.json)")
            }
            #expect(try gateway.service.verify().isConsistent)
        }
    }

    /// Each bad request: its status, its code and its path; nothing changes.
    /// Ids with a space, `/`, `%` and an emoji: created over HTTP, read and moved
    /// again over HTTP by their percent-encoded path, and the same id the service holds.
    @Test func pathParametersArePercentDecoded() async throws {
        try await TestGateway.with { gateway in
            _ = try await gateway.call("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 10}"#)
            for order in ["A B", "A/B", "100%", "🚀-1"] {
                let body = #"{"order": "\#(order)", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 1}]}"#
                #expect(try await gateway.call("POST", "/v1/reservations", body).status == 201, "\(order)")
                let encoded = order.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let read = try await gateway.call("GET", "/v1/reservations/" + encoded)
                #expect(read.status == 200 && read.json["order"] as? String == order, "\(order): \(read)")
                #expect(try await gateway.call("POST", "/v1/reservations/" + encoded + "/confirm").status == 200, "\(order)")
                #expect(try gateway.service.reservation(order: order)?.state == .confirmed, "\(order)")
            }
        }
    }

    /// A request line or header HTTP cannot parse gets a typed error body too, not an empty 400.
    @Test func unparsableHeadersGetATypedBody() async throws {
        try await TestGateway.with { gateway in
            for head in ["GET /health HTTP/1.1\r\nBad Header\r\n\r\n", "NOT HTTP\r\n\r\n"] {
                let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(descriptor) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(gateway.gateway.port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                var connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                if connected != 0 && errno == EINTR {
                    // Interrupted by a signal, the connect goes on in the background: wait for it.
                    var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    connected = poll(&waiting, 1, 30_000) == 1 ? 0 : -1
                }
                #expect(connected == 0, "connect: errno \(errno)")
                var timeout = timeval(tv_sec: 30, tv_usec: 0)  // generous: CI runs this beside heavy tests
                setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                // A signal (SIGCHLD from other tests' children) can interrupt send before
                // it sends anything: the server would then wait out its header timeout
                // and close the connection with no answer. Send all of it.
                let bytes = Array(head.utf8)
                var sent = 0
                while sent < bytes.count {
                    let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else {
                        Issue.record("send: errno \(errno)")
                        break
                    }
                    sent += count
                }
                var answer: [UInt8] = []
                var ending = ""
                var chunk = [UInt8](repeating: 0, count: 4_096)
                while true {
                    let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                    // SO_RCVTIMEO: a signal (SIGCHLD from other tests' children) is never restarted.
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 {
                        ending = count == 0 ? "end of stream" : "errno \(errno)"
                        break
                    }
                    answer += chunk[0..<count]
                }
                let text = String(decoding: answer, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 400"), "\(head): \(text) (\(ending))")
                #expect(text.contains(#""code":"invalid_argument""#) && text.contains(#""path":"headers""#), "\(head): \(text)")
            }
        }
    }

    @Test func errorsAreTypedJSONWithTheirStatus() async throws {
        try await TestGateway.with(bodyBytesMax: 4096) { gateway in
        _ = try await gateway.call("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 1}"#)
        let cases: [(String, String, String?, Int, String, String)] = [
            ("GET", "/v1/atp", nil, 400, "invalid_argument", "sku"),
            ("GET", "/v1/atp?sku=TEE&near=north", nil, 400, "invalid_argument", "near"),
            ("POST", "/v1/adjust", "{", 400, "invalid_json", ""),
            ("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE"}"#, 400, "invalid_argument", "set"),
            ("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": 7, "set": 1}"#, 400, "invalid_json", "sku"),
            // A number that is not a 64-bit integer is refused at its field, never as invalid JSON.
            ("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 1.5}"#, 400, "invalid_argument", "set"),
            ("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "delta": 1e400}"#, 400, "invalid_argument", "delta"),
            ("POST", "/v1/reservations", #"{"order": "Q", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 9223372036854775808}]}"#, 400, "invalid_argument", "lines[0].quantity"),
            ("POST", "/v1/reservations", #"{"order": "X", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 5}]}"#, 409, "insufficient_stock", "lines[0].quantity"),
            ("POST", "/v1/reservations", #"{"order": "X", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 0}]}"#, 400, "invalid_argument", "lines[0].quantity"),
            ("GET", "/v1/reservations/NOPE", nil, 404, "reservation_not_found", "order"),
            ("POST", "/v1/reservations/NOPE/ship", nil, 404, "reservation_not_found", "order"),
            ("POST", "/v1/optimize?strategy=fastest", "{}", 400, "invalid_argument", "strategy"),
            ("POST", "/v1/optimize", #"{"orders": []}"#, 400, "invalid_argument", "orders"),
            ("POST", "/v1/atp/batch", #"{"queries": [{"sku": ""}]}"#, 400, "invalid_argument", "queries[0].sku"),
            ("GET", "/v1/nothing", nil, 404, "not_found", "/v1/nothing"),
            // Found by schemathesis: an empty (or oversized) key reached LMDB and answered 500.
            ("GET", "/v1/reservations?after=&limit=1", nil, 400, "invalid_argument", "after"),
            ("GET", "/v1/positions?node=" + String(repeating: "N", count: 600), nil, 400, "invalid_argument", "node"),
            ("GET", "/v1/reservations?state=lost", nil, 400, "invalid_argument", "state"),
            ("GET", "/v1/decisions/99", nil, 404, "not_found", "id"),
            // Fields the contract does not have are refused, never ignored.
            ("POST", "/v1/adjust", #"{"node": "DC-EAST", "sku": "TEE", "set": 1, "reasn": "count"}"#, 400, "unknown_field", "reasn"),
            ("POST", "/v1/reservations", #"{"order": "Y", "lines": [{"node": "DC-EAST", "sku": "TEE", "quantity": 1}], "ttl_secs": 60}"#, 400, "unknown_field", "ttl_secs"),
            ("POST", "/v1/optimize", #"{"orders": [{"id": "o", "ship_to": {"latitude": 1, "longitude": 2}, "shipcomplete": true, "lines": [{"id": "1", "sku": "TEE", "quantity": 1}]}]}"#, 400, "unknown_field", "orders[0].shipcomplete"),
            ("POST", "/v1/events", #"{"event": "order.created", "order": "E1", "intake": {"id": "E1", "ship_to": {"lat": 40.7, "longitude": -74}, "lines": [{"id": "1", "sku": "TEE", "quantity": 1}]}}"#, 400, "unknown_field", "intake.ship_to.lat"),
            ("PUT", "/v1/adjust", nil, 405, "method_not_allowed", "/v1/adjust"),
            ("POST", "/v1/adjust", String(repeating: " ", count: 5000), 413, "payload_too_large", "/v1/adjust"),
        ]
        for (method, path, body, status, code, field) in cases {
            let answer = try await gateway.call(method, path, body)
            #expect(answer.status == status, "\(method) \(path)")
            #expect(error(answer.json).code == code, "\(method) \(path): \(answer.json)")
            #expect(error(answer.json).path == field, "\(method) \(path): \(answer.json)")
        }
        let position = try gateway.service.position(node: "DC-EAST", sku: "TEE")
        #expect(position == Position(onHand: 1, reserved: 0, committed: 0, safetyStock: 0))
        #expect(try gateway.service.reservation(order: "X") == nil)
        }
    }

    @Test func aTokenGuardsEverythingButTheProbes() async throws {
        try await TestGateway.with(token: "s3cret") { gateway in
        #expect(try await gateway.call("GET", "/health", token: .some(nil)).status == 200)
        #expect(try await gateway.call("GET", "/ready", token: .some(nil)).status == 200)
        let missing = try await gateway.call("GET", "/v1/atp?sku=TEE", token: .some(nil))
        #expect(missing.status == 401 && error(missing.json).code == "unauthenticated")
        #expect(try await gateway.call("GET", "/v1/atp?sku=TEE", token: "s3cre").status == 401)
        #expect(try await gateway.call("GET", "/v1/atp?sku=TEE", token: "s3cret!").status == 401)
        #expect(try await gateway.call("GET", "/v1/atp?sku=TEE").status == 200)
        }
    }

    /// `fulcrumd serve --http` serves both protocols on one ledger, and SIGTERM stops both.
    @Test func fulcrumdServesTheGatewayBesideTheRPCServer() async throws {
        let server = try ServerProcess(data: temporaryDirectory(), arguments: ["--demo", "--http", "127.0.0.1:0"])
        let http = try #require(server.httpAddress)
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://\(http)/v1/atp?sku=TEE-BLK-M")!)
        #expect((response as! HTTPURLResponse).statusCode == 200)
        let answer = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect((answer["nodes"] as! [Any]).count == 6)
        server.stop()
        #expect(server.process.terminationStatus == 0)
    }

    /// `/metrics` counts requests of both protocols by operation and outcome,
    /// and shows the ledger's and the solver's own metrics.
    @Test func metricsCountBothProtocolsInPrometheusFormat() async throws {
        let server = try ServerProcess(data: temporaryDirectory(), arguments: ["--demo", "--http", "127.0.0.1:0"])
        defer { server.stop() }
        let http = try #require(server.httpAddress)
        let fulcrum = builtExecutable("fulcrum")
        _ = try await runDetached(fulcrum, ["atp", "--server", server.address, "--sku", "TEE-BLK-M"], timeoutSeconds: 60)
        _ = try await runDetached(fulcrum, ["reserve", "--server", server.address, "--order", "M1", "--line", "DC-EAST:TEE-BLK-M:1"], timeoutSeconds: 60)
        let order = #"{"orders": [{"id": "M2", "ship_to": {"latitude": 40.7, "longitude": -74.0}, "lines": [{"id": "1", "sku": "JEANS-32", "quantity": 1}]}]}"#
        _ = try await runDetached(fulcrum, ["optimize", "--server", server.address], input: Data(order.utf8), timeoutSeconds: 60)
        _ = try await URLSession.shared.data(from: URL(string: "http://\(http)/v1/reservations/NOPE")!)
        _ = try await URLSession.shared.data(from: URL(string: "http://\(http)/v1/reservations/M1")!)
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://\(http)/metrics")!)
        #expect((response as! HTTPURLResponse).value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain") == true)
        let lines = Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
        for expected in [
            #"fulcrum_requests_total{protocol="rpc",operation="atp",outcome="ok"} 1"#,
            #"fulcrum_requests_total{protocol="rpc",operation="reserve",outcome="ok"} 1"#,
            #"fulcrum_requests_total{protocol="http",operation="get_reservation",outcome="error"} 1"#,
            #"fulcrum_requests_total{protocol="http",operation="get_reservation",outcome="ok"} 1"#,
            #"fulcrum_request_seconds_count{protocol="rpc",operation="reserve"} 1"#,
            #"fulcrum_reservations{state="reserved"} 1.0"#,
            #"fulcrum_ledger_queue_depth 0.0"#,
            #"fulcrum_solver_solves_total{strategy="optimal",status="optimal"} 1"#,
            #"fulcrum_solver_solve_seconds_count{strategy="optimal"} 1"#,
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("fulcrum_ledger_commit_seconds_count ") && !$0.hasSuffix(" 0") })
        #expect(lines.contains { $0.hasPrefix("fulcrum_ledger_group_commands_bucket{le=\"1.0\"}") })
        // The last hour's business KPIs: no journeys ran, so nothing counted and the ratios undefined.
        for gauge in [
            #"fulcrum_kpi_orders_created{window="hour"} 0.0"#, #"fulcrum_orders_stuck 0.0"#, #"fulcrum_dead_letters 0.0"#,
            #"fulcrum_backorders_waiting 0.0"#,
        ] {
            #expect(lines.contains(gauge), "\(gauge)")
        }
        #expect(lines.contains { $0.hasPrefix(#"fulcrum_kpi_fill_ratio{window="hour"} "#) && $0.lowercased().hasSuffix("nan") })
        #expect(lines.contains { $0.hasPrefix(#"fulcrum_node_utilization_ratio{node="DC-EAST"} "#) })
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Every route the gateway serves is in docs/openapi.yaml, with its method.
    @Test func everyRouteIsDocumented() throws {
        let document = try String(contentsOfFile: Self.repository + "/docs/openapi.yaml", encoding: .utf8)
        let lines = document.split(separator: "\n").map(String.init)
        for (path, methods) in GatewayMiddleware.routes {
            guard let start = lines.firstIndex(of: "  \(path):") else {
                Issue.record("\(path) is not in docs/openapi.yaml")
                continue
            }
            let block = lines[(start + 1)...].prefix { $0.hasPrefix("    ") }
            for method in methods.keys { #expect(block.contains("    \(method.lowercased()):"), "\(method) \(path)") }
        }
    }

    /// schemathesis against a live fulcrumd: no 5xx, every response as
    /// documented (status, type, schema, headers), the token enforced. The same
    /// run fails against a document that promises a field the gateway does not send.
    @Test func theGatewayKeepsToItsOpenAPIDocument() async throws {
        let script = Self.repository + "/scripts/schemathesis.sh"
        let fulcrumd = builtExecutable("fulcrumd")
        let (status, output) = try await runDetached("/bin/bash", [script, fulcrumd, "30"], timeoutSeconds: 300)
        #expect(status == 0, "\(output.suffix(3000))")

        let broken = temporaryDirectory() + ".yaml"
        let document = try String(contentsOfFile: Self.repository + "/docs/openapi.yaml", encoding: .utf8)
        // Health's body promises a field it does not have.
        let promised = document.replacingOccurrences(
            of: "      required: [status]\n      properties: {status: {type: string}}",
            with: "      required: [status, uptime_ms]\n      properties: {status: {type: string}}")
        #expect(promised != document)
        try promised.write(toFile: broken, atomically: true, encoding: .utf8)
        let (failed, _) = try await runDetached("/bin/bash", [script, fulcrumd, "20", broken], timeoutSeconds: 300)
        #expect(failed != 0)
    }

    /// The rows of the table with `id` in a DOM dump, each as its cells' text.
    /// The operations page at `http` (HOST:PORT) once headless Chromium ran its script.
    private static func renderedPage(_ http: String) async throws -> String {
        let (status, dom) = try await runDetached(
            "/usr/bin/env",
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(temporaryDirectory())",
                "--virtual-time-budget=8000", "--dump-dom", "http://\(http)/",
            ], timeoutSeconds: 120)
        #expect(status == 0)
        return dom
    }

    private static func rows(_ dom: String, table id: String) -> [[String]] {
        guard let start = dom.range(of: "<table id=\"\(id)\""),
            let end = dom.range(of: "</table>", range: start.upperBound..<dom.endIndex)
        else { return [] }
        let body = dom[start.upperBound..<end.lowerBound]
        return body.components(separatedBy: "<tr").dropFirst(2).map { row in
            row.components(separatedBy: "<td").dropFirst().map { cell in
                let text = cell.drop { $0 != ">" }.dropFirst()
                return String(text.prefix { $0 != "<" })
            }
        }
    }

    /// The operations page in headless Chromium against fulcrumd with demo
    /// data: the positions, a reservation made over HTTP, a solve and its
    /// explanation are what the page shows once its script has run.
    @Test func theOperationsPageShowsTheServersState() async throws {
        // The standard journeys, but an order short of stock waits for it.
        let journeys = temporaryDirectory() + ".yaml"
        try JourneyBook.standardYAML.replacingOccurrences(
            of: "        profile: standard\n", with: "        profile: standard\n        on_shortage: backorder\n"
        ).write(toFile: journeys, atomically: true, encoding: .utf8)
        let server = try ServerProcess(data: temporaryDirectory(), arguments: ["--demo", "--http", "127.0.0.1:0", "--journeys", journeys])
        defer { server.stop() }
        let http = try #require(server.httpAddress)
        func post(_ path: String, _ body: String) async throws {
            var request = URLRequest(url: URL(string: "http://\(http)\(path)")!)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            _ = try await URLSession.shared.data(for: request)
        }
        try await post("/v1/reservations", #"{"order": "OPS-1", "lines": [{"node": "DC-EAST", "sku": "TEE-BLK-M", "quantity": 3}]}"#)
        try await post(
            "/v1/optimize", #"{"orders": [{"id": "OPS-2", "ship_to": {"latitude": 40.7, "longitude": -74.0}, "lines": [{"id": "1", "sku": "JEANS-32", "quantity": 2}]}]}"#)
        // An order short of stock first: it waits in the backorder queue.
        let deadline = ContinuousClock.now + .seconds(20)
        try await post(
            "/v1/events",
            #"{"event": "order.created", "order": "WEB-2", "intake": {"id": "WEB-2", "ship_to": {"latitude": 40.7, "longitude": -74.0}, "lines": [{"id": "1", "sku": "HOODIE-GRY-M", "quantity": 100000}]}}"#)
        while ContinuousClock.now < deadline {
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://\(http)/v1/backorders")!)
            if String(decoding: data, as: UTF8.self).contains("WEB-2") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await post(
            "/v1/events",
            #"{"event": "order.created", "order": "WEB-1", "intake": {"id": "WEB-1", "ship_to": {"latitude": 40.7, "longitude": -74.0}, "lines": [{"id": "1", "sku": "CAP-RED", "quantity": 1}]}}"#)
        // The journey runs after the event is accepted: wait (bounded) until the order is released.
        while ContinuousClock.now < deadline {
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://\(http)/v1/orders/WEB-1")!)
            if String(decoding: data, as: UTF8.self).contains(#""state":"released""#) { break }
            try await Task.sleep(for: .milliseconds(20))
        }

        var close = URLRequest(url: URL(string: "http://\(http)/v1/nodes/STORE-SF")!)
        close.httpMethod = "PATCH"
        close.httpBody = Data(#"{"enabled": false, "capacity_per_day": 50}"#.utf8)
        _ = try await URLSession.shared.data(for: close)
        try await post(
            "/v1/allocations", #"{"sku": "JEANS-32", "node": "*", "channel": "stores", "share_basis_points": 2500, "overflow": false}"#)

        let dom = try await Self.renderedPage(http)
        let positions = Self.rows(dom, table: "positions")
        #expect(positions.count == 36, "6 demo nodes × 6 SKUs")
        #expect(positions.contains { $0.prefix(3) == ["DC-EAST", "TEE-BLK-M", "371"] && $0[3] == "3" })
        let reservations = Self.rows(dom, table: "reservations")
        #expect(reservations.map { Array($0.prefix(4)) } == [
            ["OPS-1", "reserved", "DC-EAST:TEE-BLK-M×3", "3"], ["WEB-1", "confirmed", "DC-EAST:CAP-RED×1", "1"],
        ])
        let decisions = Self.rows(dom, table: "decisions")
        #expect(decisions.count == 3 && decisions.last?[3] == "OPS-2" && decisions.last?[4] == "DC-EAST (2)")
        #expect(decisions.map { $0[3] }.prefix(2) == ["WEB-1", "WEB-2"], "the journeys' solves, newest first")
        // The newest decision's explanation: every other node, each with its reason.
        let why = Self.rows(dom, table: "explanation-0")
        #expect(why.count == 5 && why.allSatisfy { $0.count == 2 && !$0[1].isEmpty })
        let orders = Self.rows(dom, table: "orders")
        #expect(orders.map { Array($0.prefix(4)) } == [["WEB-1", "api", "released", "1"], ["WEB-2", "api", "backordered", "100000"]])
        #expect(!Self.rows(dom, table: "receipts").isEmpty, "the demo's purchase orders")
        #expect(Self.rows(dom, table: "allocations") == [["stores", "every node", "JEANS-32", "25% of on hand", "no", "—"]])
        let backorders = Self.rows(dom, table: "backorders")
        #expect(backorders.count == 1 && backorders.first?[0] == "WEB-2" && backorders.first?[1] == "backorder" && backorders.first?[4].hasSuffix(" HOODIE-GRY-M") == true, "\(backorders)")
        #expect(orders.first?[5] == "waiting at send-to-warehouse")
        let timeline = Self.rows(dom, table: "timeline")
        #expect(timeline.contains { $0[1] == "transition" && $0[4] == "created → reserved" })
        #expect(timeline.first?[4].hasPrefix("order.created from http") == true)
        #expect(dom.contains("more_expensive"))
        let network = Self.rows(dom, table: "network")
        #expect(network.count == 6)
        #expect(network.first.map { Array($0.prefix(6)) + [$0[8]] }
            == ["DC-EAST", "warehouse", "open", "yes", network.first?[4] ?? "", "1", "America/New_York"], "WEB-1's unit was released there")
        #expect(network.first { $0.first == "STORE-SF" }.map { [$0[2], $0[6], $0[7]] } == ["closed", "50", "50"])

        // The dashboard: the journeys' two orders in the KPIs (sold without a
        // channel), then tiles, sparklines, the orders chart and the map with
        // data, checked on a screenshot.
        #expect(Self.rows(dom, table: "channels").map { Array($0.prefix(4)) } == [["(none)", "2", "100001", "0.0%"]])
        #expect(Self.rows(dom, table: "stuck").isEmpty)
        let (status, summary) = try await runDetached(
            "/usr/bin/env", ["python3", Self.repository + "/scripts/check-dashboard.py", http], timeoutSeconds: 300)
        #expect(status == 0, "\(summary)")
    }

    /// On a replica of a cluster the page has a Replication panel: this
    /// replica's role, term, leader and position, and every replica's
    /// published position (headless Chromium, against a follower).
    @Test func theOperationsPageShowsTheReplication() async throws {
        let etcd = try EtcdCluster(members: 1)
        defer { etcd.stopAll() }
        let (replicas, ports, addresses) = try etcd.replicas(2, cluster: "page")
        defer { for replica in replicas { replica.stop() } }
        let writer = try FulcrumClient.connecting(addresses, requestTimeoutMilliseconds: 5_000)
        for index in 0..<3 { _ = try await writer.adjust(.with { $0.node = "N1"; $0.sku = "S\(index)"; $0.set = 1 }) }
        await writer.close()
        // Both replicas publish their positions within a second; the follower applies the writes.
        var follower: Int?
        var leaderPort = 0
        for _ in 0..<100 {
            for (index, port) in ports.enumerated() {
                let client = try await FulcrumClient.connect("127.0.0.1:\(port)", requestTimeoutMilliseconds: 2_000)
                let replication = try await client.stats().replication
                await client.close()
                if replication.role == "follower" && replication.applied >= 3 { follower = index }
                if replication.role == "leader" { leaderPort = port }
            }
            if follower != nil && leaderPort != 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let index = try #require(follower)
        try await Task.sleep(for: .milliseconds(Limits.appliedPublishIntervalMilliseconds + 500))
        let dom = try await Self.renderedPage(try #require(replicas[index].httpAddress))
        let summary = dom.range(of: "<p id=\"replication-summary\">").map { String(dom[$0.upperBound...].prefix { $0 != "<" }) } ?? ""
        #expect(summary.hasPrefix("Replica 127.0.0.1:\(ports[index]) of cluster page: follower, term "), "\(summary)")
        #expect(summary.contains("leader 127.0.0.1:\(leaderPort)") && summary.contains("(0 behind)"), "\(summary)")
        let rows = Self.rows(dom, table: "replicas")
        #expect(rows.count == 2, "\(rows)")
        #expect(rows.contains { $0.first == "127.0.0.1:\(ports[index]) (this one)" && $0.last == "0" }, "\(rows)")
        #expect(rows.allSatisfy { UInt64($0[1]).map { $0 >= 3 } ?? false }, "\(rows)")
    }
}
