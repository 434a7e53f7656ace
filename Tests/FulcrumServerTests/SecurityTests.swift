import AsyncHTTPClient
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumTLS
import FulcrumTestSupport
import FulcrumWire
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// A throwaway PKI made with Debian's openssl: CAs, and certificates they
/// sign for 127.0.0.1 (servers) or for client authentication.
struct TestPKI {
    let directory = temporaryDirectory()

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    private func openssl(_ arguments: [String]) throws {
        let (status, output) = try run("/usr/bin/openssl", arguments, timeoutSeconds: 60)
        guard status == 0 else { throw POSIXError(.EINVAL, userInfo: ["openssl": "\(arguments): \(output)"]) }
    }

    private func key(_ name: String) -> [String] {
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/\(name).key"]
    }

    /// A self-signed CA: NAME.pem and NAME.key.
    func authority(_ name: String) throws {
        try openssl(["req", "-x509"] + key(name) + ["-out", "\(directory)/\(name).pem", "-days", "2", "-subj", "/CN=\(name)"])
    }

    /// A certificate NAME.pem (key NAME.key) signed by `authority`: for
    /// 127.0.0.1 as a server, or for a client.
    func certificate(_ name: String, signedBy authority: String, client: Bool = false) throws {
        let request = "\(directory)/\(name).csr"
        try openssl(["req"] + key(name) + ["-out", request, "-subj", "/CN=\(name)"])
        let extensions = "\(directory)/\(name).ext"
        try (client ? "extendedKeyUsage=clientAuth\n" : "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", request, "-CA", path(authority), "-CAkey", "\(directory)/\(authority).key",
            "-CAcreateserial", "-out", path(name), "-days", "2", "-extfile", extensions,
        ])
    }

    func path(_ name: String) -> String { "\(directory)/\(name).pem" }
    func keyPath(_ name: String) -> String { "\(directory)/\(name).key" }
}

/// TLS, scoped tokens and the audit trail against real fulcrumd processes.
@Suite(.serialized) struct SecurityTests {
    static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// An HTTPS (or HTTP) request; the status and the body.
    static func http(
        _ client: HTTPClient, _ method: HTTPMethod, _ url: String, bearer: String?, body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), String(buffer: bytes))
    }

    static func httpsClient(trusting authority: String) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(authority))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    /// RPC and HTTPS end to end; a client trusting another CA is refused
    /// with a clear error; plaintext on the TLS port harms nobody; the
    /// certificate is reloaded (SIGHUP) while a client stays connected.
    @Test func tlsOnBothProtocolsWithAReloadAndAWrongAuthority() async throws {
        let pki = try TestPKI()
        try pki.authority("ca-a")
        try pki.authority("ca-b")
        try pki.certificate("server-a", signedBy: "ca-a")
        try pki.certificate("server-b", signedBy: "ca-b")
        let live = pki.directory + "/live"
        try FileManager.default.copyItem(atPath: pki.path("server-a"), toPath: live + ".pem")
        try FileManager.default.copyItem(atPath: pki.keyPath("server-a"), toPath: live + ".key")
        let data = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: pki.directory)
        }
        let server = try ServerProcess(
            data: data,
            arguments: ["--token", "tls-secret", "--tls-cert", live + ".pem", "--tls-key", live + ".key", "--http", "127.0.0.1:0"])
        defer { server.stop() }

        let trustingA = try ClientTLS(ca: pki.path("ca-a"))
        let trustingB = try ClientTLS(ca: pki.path("ca-b"))
        let client = try await FulcrumClient.connect(server.address, token: "tls-secret", tls: trustingA)
        _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "S"; $0.set = 5 })
        #expect(try await client.atp(.with { $0.node = "DC-1"; $0.sku = "S" }).available == 5)

        let https = try Self.httpsClient(trusting: pki.path("ca-a"))
        let answer = try await Self.http(https, .GET, "https://\(server.httpAddress!)/v1/atp?sku=S&node=DC-1", bearer: "tls-secret")
        #expect(answer.status == 200 && (Self.object(answer.body)["available"] as? Int) == 5, "\(answer)")
        try await https.shutdown()

        // A client that trusts another CA, and one that speaks plaintext.
        do {
            _ = try await FulcrumClient.connect(server.address, token: "tls-secret", requestTimeoutMilliseconds: 5_000, tls: trustingB)
            Issue.record("a client trusting another CA was let in")
        } catch {
            #expect(error.code == .unavailable && error.message.contains("CERTIFICATE_VERIFY_FAILED"), "\(error)")
        }
        do {
            _ = try await FulcrumClient.connect(server.address, token: "tls-secret", requestTimeoutMilliseconds: 5_000)
            Issue.record("a plaintext client was let in")
        } catch {
            #expect(error.message.contains("speaks TLS"), "\(error)")
        }
        // Raw frame bytes on the TLS port: that connection ends, the others go on.
        let raw = try RawSocket(port: server.port)
        raw.send(request(.atp, id: 1, Fulcrum_V1_AtpRequest.with { $0.sku = "S" }))
        #expect(raw.readFrame() == nil)
        #expect(try await client.atp(.with { $0.node = "DC-1"; $0.sku = "S" }).available == 5)

        // A new certificate from another CA, reloaded by SIGHUP.
        try FileManager.default.removeItem(atPath: live + ".pem")
        try FileManager.default.removeItem(atPath: live + ".key")
        try FileManager.default.copyItem(atPath: pki.path("server-b"), toPath: live + ".pem")
        try FileManager.default.copyItem(atPath: pki.keyPath("server-b"), toPath: live + ".key")
        kill(server.process.processIdentifier, SIGHUP)
        var reloaded: FulcrumClient?
        for _ in 0..<100 where reloaded == nil {
            reloaded = try? await FulcrumClient.connect(server.address, token: "tls-secret", requestTimeoutMilliseconds: 5_000, tls: trustingB)
            if reloaded == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let afterReload = try #require(reloaded, "the new certificate was never served")
        #expect(try await afterReload.atp(.with { $0.node = "DC-1"; $0.sku = "S" }).available == 5)
        // The connection made before the reload keeps working.
        _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "S"; $0.delta = 1 })
        #expect(try await afterReload.atp(.with { $0.node = "DC-1"; $0.sku = "S" }).available == 6)
        await #expect(throws: FulcrumError.self) {
            try await FulcrumClient.connect(server.address, token: "tls-secret", requestTimeoutMilliseconds: 5_000, tls: trustingA)
        }
        let httpsB = try Self.httpsClient(trusting: pki.path("ca-b"))
        let afterHTTP = try await Self.http(httpsB, .GET, "https://\(server.httpAddress!)/v1/atp?sku=S&node=DC-1", bearer: "tls-secret")
        #expect(afterHTTP.status == 200, "\(afterHTTP)")
        try await httpsB.shutdown()
        await client.close()
        await afterReload.close()
    }

    /// Mutual TLS: without a client certificate from the named CA, no
    /// connection. Plaintext beyond the loopback needs `--insecure`.
    @Test func mutualTLSAndPlaintextOnlyOnTheLoopback() async throws {
        let pki = try TestPKI()
        try pki.authority("ca")
        try pki.authority("other")
        try pki.certificate("server", signedBy: "ca")
        try pki.certificate("shim", signedBy: "ca", client: true)
        try pki.certificate("stranger", signedBy: "other", client: true)
        let data = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: pki.directory)
        }
        let server = try ServerProcess(
            data: data,
            arguments: [
                "--tls-cert", pki.path("server"), "--tls-key", pki.keyPath("server"), "--tls-client-ca", pki.path("ca"),
            ])
        let withCertificate = try ClientTLS(ca: pki.path("ca"), certificate: pki.path("shim"), key: pki.keyPath("shim"))
        let client = try await FulcrumClient.connect(server.address, tls: withCertificate)
        #expect(try await client.health().ready)
        await client.close()
        for tls in [
            try ClientTLS(ca: pki.path("ca")),
            try ClientTLS(ca: pki.path("ca"), certificate: pki.path("stranger"), key: pki.keyPath("stranger")),
        ] {
            await #expect(throws: FulcrumError.self) {
                let refused = try await FulcrumClient.connect(server.address, requestTimeoutMilliseconds: 5_000, tls: tls)
                _ = try await refused.health()
            }
        }
        server.stop()
        #expect(server.process.terminationStatus == 0)

        let fulcrumd = builtExecutable("fulcrumd")
        let refused = try run(fulcrumd, ["serve", "--data", data, "--listen", "0.0.0.0:0", "--json"], timeoutSeconds: 30)
        let error = Self.object(refused.output)["error"] as? [String: Any]
        #expect(refused.status == 2 && error?["code"] as? String == "invalid_argument", "\(refused)")
        #expect((error?["message"] as? String ?? "").contains("--insecure"), "\(refused)")
        let insecure = try ServerProcess(data: data, listen: "0.0.0.0:0", arguments: ["--insecure"])
        insecure.stop()
        #expect(insecure.process.terminationStatus == 0)
    }

    /// Each scope's operations allowed and the others `forbidden` naming the
    /// scope, over RPC and HTTP, with nothing changed by a refusal; a token
    /// revoked by reloading the file fails on its next request while the
    /// others' connections stay; the audit trail names the token of every
    /// change and of the reload; no secret appears in the log, errors,
    /// metrics, the page or the trail.
    @Test func scopesRevocationAndTheAuditTrail() async throws {
        let data = temporaryDirectory()
        let tokensFile = data + "-tokens.yaml"
        let errorLog = data + "-stderr.log"
        defer {
            for path in [data, tokensFile, errorLog, data + "-snapshot.mdb"] { try? FileManager.default.removeItem(atPath: path) }
        }
        let secrets = [
            "reader": "fulcrum_reader_7d0f6c", "stocker": "fulcrum_stocker_91ab2e", "seller": "fulcrum_seller_c4e8a0",
            "flows": "fulcrum_flows_5be21d", "admin": "fulcrum_admin_0e9f47",
        ]
        let scopes = [
            "reader": "[read]", "stocker": "[inventory]", "seller": "[reserve, read]", "flows": "[orchestrate]",
            "admin": "[read, reserve, inventory, orchestrate, admin]",
        ]
        func write(_ names: [String]) throws {
            let entries = names.map {
                "  - name: \($0)\n    digest: \(TokenTable.digestText(TokenTable.digest(of: secrets[$0]!)))\n    scopes: \(scopes[$0]!)\n"
            }
            try ("version: 1\ntokens:\n" + entries.joined()).write(toFile: tokensFile, atomically: true, encoding: .utf8)
        }
        try write(["reader", "stocker", "seller", "flows", "admin"])
        let server = try ServerProcess(data: data, arguments: ["--tokens", tokensFile, "--http", "127.0.0.1:0"], errorLog: errorLog)
        defer { server.stop() }
        var clients: [String: FulcrumClient] = [:]
        for (name, secret) in secrets { clients[name] = try await FulcrumClient.connect(server.address, token: secret) }
        var errors: [String] = []

        // RPC: each operation by each token.
        let atp = Fulcrum_V1_AtpRequest.with { $0.node = "DC-1"; $0.sku = "S" }
        let operations: [(name: String, scope: String, body: (FulcrumClient) async throws(FulcrumError) -> Void)] = [
            ("atp", "read", { client throws(FulcrumError) in _ = try await client.atp(atp) }),
            ("adjust", "inventory", { client throws(FulcrumError) in
                _ = try await client.adjust(.with { $0.node = "DC-1"; $0.sku = "S"; $0.delta = 10; $0.reason = "count" })
            }),
            ("reserve", "reserve", { client throws(FulcrumError) in
                _ = try await client.reserve(.with {
                    $0.order = "O-\(UUID().uuidString)"; $0.lines = [.with { $0.node = "DC-1"; $0.sku = "S"; $0.quantity = 1 }]
                })
            }),
            ("dead_letters", "orchestrate", { client throws(FulcrumError) in
                let _: Fulcrum_V1_DeadLettersResponse = try await client.call(.deadLetters, Fulcrum_V1_DeadLettersRequest.with { $0.provider = "wms" })
            }),
            ("audit", "admin", { client throws(FulcrumError) in _ = try await client.audit(limit: 5) }),
            ("snapshot", "admin", { client throws(FulcrumError) in _ = try await client.downloadSnapshot(to: data + "-snapshot.mdb") }),
        ]
        for (name, client) in clients.sorted(by: { $0.key < $1.key }) {
            for operation in operations {
                let allowed = scopes[name]!.contains(operation.scope)
                let before = try await clients["admin"]!.atp(atp)
                do {
                    try await operation.body(client)
                    #expect(allowed, "\(name) was allowed \(operation.name)")
                } catch {
                    errors.append(error.message)
                    #expect(!allowed, "\(name) was refused \(operation.name): \(error)")
                    #expect(error.code == .forbidden && error.path == "scope" && error.message.contains("'\(operation.scope)'"), "\(error)")
                    // A refusal changes nothing.
                    let after = try await clients["admin"]!.atp(atp)
                    #expect(after == before, "\(name)'s refused \(operation.name) changed stock")
                }
            }
        }

        // HTTP: the same rules, 403 with the same error.
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let base = "http://\(server.httpAddress!)"
        let routes: [(HTTPMethod, String, String?, String)] = [
            (.GET, "/v1/atp?sku=S&node=DC-1", nil, "read"),
            (.POST, "/v1/adjust", #"{"node":"DC-1","sku":"S","delta":1}"#, "inventory"),
            (.POST, "/v1/reservations", #"{"order":"H-ORDER","lines":[{"node":"DC-1","sku":"S","quantity":1}]}"#, "reserve"),
            (.GET, "/v1/audit?limit=5", nil, "admin"),
        ]
        for name in ["reader", "stocker", "seller"] {
            for (method, path, body, scope) in routes {
                let answer = try await Self.http(
                    http, method, base + path, bearer: secrets[name]!, body: body, headers: [("X-Request-Id", "req-\(name)")])
                if scopes[name]!.contains(scope) {
                    #expect((200..<300).contains(answer.status), "\(name) \(path): \(answer)")
                } else {
                    errors.append(answer.body)
                    let error = Self.object(answer.body)["error"] as? [String: Any]
                    #expect(answer.status == 403 && error?["code"] as? String == "forbidden", "\(name) \(path): \(answer)")
                }
            }
        }

        // Revocation: the reader's connection fails on its next request; the others' stay.
        try write(["stocker", "seller", "flows", "admin"])
        kill(server.process.processIdentifier, SIGHUP)
        var revoked: FulcrumError?
        for _ in 0..<100 where revoked == nil {
            do {
                _ = try await clients["reader"]!.atp(atp)
            } catch {
                revoked = error
            }
            if revoked == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(revoked?.code == .unauthenticated, "\(String(describing: revoked))")
        errors.append(revoked?.message ?? "")
        #expect(try await clients["stocker"]!.adjust(.with { $0.node = "DC-1"; $0.sku = "S"; $0.delta = 1 }).position.sku == "S")
        let refusedHTTP = try await Self.http(http, .GET, base + "/v1/atp?sku=S", bearer: secrets["reader"]!)
        #expect(refusedHTTP.status == 401, "\(refusedHTTP)")
        errors.append(refusedHTTP.body)

        // The audit trail names who changed what, and the reload.
        let trail = try await clients["admin"]!.audit(limit: 100)
        #expect(trail.contains { $0.operation == "adjust" && $0.token == "stocker" && $0.request.hasPrefix("rpc:") && $0.detail == "delta 10 (count)" })
        #expect(trail.contains { $0.operation == "adjust" && $0.token == "stocker" && $0.request == "http:req-stocker" })
        #expect(trail.contains { $0.operation == "adjust" && $0.token == "admin" })
        #expect(trail.contains { $0.operation == "reload_tokens" && $0.token == "signal" && $0.detail.contains("stocker") })
        #expect(!trail.contains { $0.token == "reader" || $0.token == "seller" }, "a refused or non-inventory request was audited")
        let page = try await Self.http(http, .GET, base + "/", bearer: nil)
        let metrics = try await Self.http(http, .GET, base + "/metrics", bearer: secrets["admin"]!)
        let trailJSON = try await Self.http(http, .GET, base + "/v1/audit?limit=100", bearer: secrets["admin"]!)
        #expect(metrics.status == 200 && trailJSON.status == 200 && page.status == 200)
        try await http.shutdown()
        for client in clients.values { await client.close() }
        server.stop()
        let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
        #expect(log.contains("reloaded") && log.contains("revoked"), "the log does not tell the story: \(log)")
        let seen = [log, page.body, metrics.body, trailJSON.body, trail.map(\.json.rendered).joined()] + errors
        for (name, secret) in secrets {
            #expect(!seen.contains { $0.contains(secret) }, "\(name)'s secret appears in the log, an error, metrics, the page or the trail")
        }
    }
}
