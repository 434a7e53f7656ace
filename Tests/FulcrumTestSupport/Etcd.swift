import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A free TCP port on 127.0.0.1 (bound, read, closed: another process could
/// take it in between, which the tests accept).
public func freePort() -> Int {
    let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socketDescriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            _ = bind(socketDescriptor, socketAddress, length)
            _ = getsockname(socketDescriptor, socketAddress, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// An etcd cluster of real `etcd` processes (Debian's etcd-server) on
/// 127.0.0.1, each member with its own data directory: members can be killed
/// and started again on the same ports and data.
public final class EtcdCluster {
    public struct Member {
        public let name: String
        public let clientPort: Int
        public let peerPort: Int
        public let data: String
        public var clientURL: String { "http://127.0.0.1:\(clientPort)" }
    }

    public let members: [Member]
    private var processes: [Process?]
    private let log: String

    /// The client URLs, comma-separated, as `fulcrumd serve --etcd` takes them.
    public var endpoints: String { members.map(\.clientURL).joined(separator: ",") }

    /// Starts `count` members and waits until the cluster answers.
    public init(members count: Int) throws {
        let root = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        log = root + "/etcd.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        members = (1...count).map { Member(name: "m\($0)", clientPort: freePort(), peerPort: freePort(), data: root + "/m\($0)") }
        processes = Array(repeating: nil, count: count)
        for index in members.indices { try start(index) }
        try waitUntilHealthy()
    }

    deinit {
        for process in processes.compactMap({ $0 }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public func start(_ index: Int) throws {
        let member = members[index]
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
        process.arguments = [
            "--name", member.name, "--data-dir", member.data,
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "fulcrum-test",
            "--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap", "--log-outputs", "stderr",
        ]
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes[index] = process
    }

    /// kill -9 of one member.
    public func kill9(_ index: Int) {
        guard let process = processes[index] else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        processes[index] = nil
    }

    /// The index of the member etcd's Raft has as leader, if one answers.
    public func leader() -> Int? {
        for (index, member) in members.enumerated() where processes[index] != nil {
            guard let status = Self.post(member.clientURL + "/v3/maintenance/status", body: "{}"),
                let header = status["header"] as? [String: Any], let id = header["member_id"] as? String,
                let leader = status["leader"] as? String
            else { continue }
            if id == leader { return index }
        }
        return nil
    }

    public func waitUntilHealthy(timeoutSeconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if leader() != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw EtcdError.unhealthy((try? String(contentsOfFile: log, encoding: .utf8)).map { String($0.suffix(2_000)) } ?? "")
    }

    /// `count` fulcrumd replicas of `cluster` over these members, each on a
    /// fixed free port (a replica's peers name it) with an HTTP gateway; and
    /// their addresses as a client takes them.
    public func replicas(_ count: Int, cluster: String) throws -> (processes: [ServerProcess], ports: [Int], addresses: String) {
        let ports = (0..<count).map { _ in freePort() }
        let processes = try ports.map { port in
            try ServerProcess(
                data: temporaryDirectory(), listen: "127.0.0.1:\(port)",
                arguments: ["--cluster", cluster, "--etcd", endpoints, "--http", "127.0.0.1:0"])
        }
        return (processes, ports, ports.map { "127.0.0.1:\($0)" }.joined(separator: ","))
    }

    public func stopAll() {
        for index in members.indices { kill9(index) }
    }

    /// A GET of a JSON object (a gateway's), or nil.
    public static func get(_ url: String) -> [String: Any]? { exchange(URLRequest(url: URL(string: url)!, timeoutInterval: 5)) }

    /// A POST to etcd's JSON gateway (or any JSON route); the answer's object, or nil.
    public static func post(_ url: String, body: String) -> [String: Any]? {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: 5)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        return exchange(request)
    }

    private static func exchange(_ request: URLRequest) -> [String: Any]? {
        final class Answer: @unchecked Sendable { var data: Data? }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, _, _ in
            answer.data = data
            done.signal()
        }.resume()
        done.wait()
        return answer.data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }
}

public enum EtcdError: Error {
    case unhealthy(String)
}
