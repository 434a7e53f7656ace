import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import FulcrumClient
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumTestSupport
import FulcrumWire
import Synchronization
import Testing

/// Three fulcrumd replicas over a three-member etcd, all real processes on
/// 127.0.0.1, with clients reserving hot SKUs through faults at seeded
/// moments; then a checker over what every replica holds.
@Suite(.serialized) struct ClusterTests {
    static let cluster = "test"
    static let stock: [(node: String, sku: String, quantity: Int64)] = [("N1", "HOT-1", 1_200), ("N1", "HOT-2", 1_200), ("N2", "HOT-1", 800)]

    /// The replicas of one cluster, restartable on their ports and data.
    final class Replicas {
        let etcd: EtcdCluster
        let ports = (0..<3).map { _ in freePort() }
        let directories = (0..<3).map { _ in temporaryDirectory() }
        var processes: [ServerProcess?] = [nil, nil, nil]

        init(etcd: EtcdCluster) throws {
            self.etcd = etcd
            for index in 0..<3 { try start(index) }
        }

        var addresses: String { ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

        func start(_ index: Int) throws {
            processes[index] = try ServerProcess(
                data: directories[index], listen: "127.0.0.1:\(ports[index])",
                arguments: ["--cluster", ClusterTests.cluster, "--etcd", etcd.endpoints, "--log-tail-entries", "50"],
                errorLog: directories[index] + ".log")
        }

        func stop(_ index: Int, _ signal: Int32 = SIGTERM) {
            processes[index]?.stop(signal)
            processes[index] = nil
        }

        /// Each running replica's replication status.
        func statuses() async -> [Int: Fulcrum_V1_Replication] {
            var statuses: [Int: Fulcrum_V1_Replication] = [:]
            for index in 0..<3 where processes[index] != nil {
                guard let client = try? await FulcrumClient.connect("127.0.0.1:\(ports[index])", requestTimeoutMilliseconds: 1_000)
                else { continue }
                if let stats = try? await client.stats(), stats.hasReplication { statuses[index] = stats.replication }
                await client.close()
            }
            return statuses
        }

        /// Stops every replica, the leader last: a follower stopped after the
        /// leader could be elected and append (a new leader's journeys take a
        /// block of event numbers), leaving the replicas at different positions.
        func stopAllLeaderLast() async {
            let leader = await statuses().first(where: { $0.value.role == "leader" })?.key
            for index in 0..<3 where index != leader { stop(index) }
            if let leader { stop(leader) }
        }

        /// The replica that leads now (waits for an election, bounded).
        func leader() async throws -> Int {
            for _ in 0..<100 {
                if let leader = await statuses().first(where: { $0.value.role == "leader" })?.key { return leader }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw FulcrumError(.unavailable, "no leader was elected")
        }

        /// Waits until every running replica applied the same head.
        func converge() async throws -> UInt64 {
            var last: [Int: Fulcrum_V1_Replication] = [:]
            for _ in 0..<300 {
                last = await statuses()
                let applied = Set(last.values.map(\.applied))
                if last.count == processes.compactMap({ $0 }).count, applied.count == 1, last.values.allSatisfy({ $0.lagEntries == 0 }) {
                    return applied.first!
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw FulcrumError(.unavailable, "the replicas did not converge: \(last.mapValues { ($0.role, $0.applied, $0.head) })")
        }
    }

    /// What a client was told: the orders acknowledged with their lines, and those refused for stock.
    final class Outcomes: Sendable {
        let acknowledged = Mutex<[String: [ReservationLine]]>([:])
        let refused = Mutex<Set<String>>([])
        let unexpected = Mutex<[String]>([])
        /// Tells the clients to finish.
        let stopped = Atomic<Bool>(false)
    }

    /// Reserves order after order with idempotency keys, following the leader
    /// and retrying each order with its key until it has a definite answer.
    static func client(_ number: Int, addresses: String, outcomes: Outcomes) async {
        let client = try! FulcrumClient.connecting(addresses, requestTimeoutMilliseconds: 3_000)
        var random = SplitMix64(seed: UInt64(number) &* 7919)
        var index = 0
        while !outcomes.stopped.load(ordering: .relaxed) {
            index += 1
            let order = "c\(number)-\(index)"
            var lines: [ReservationLine] = []
            for (node, sku, _) in stock.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)) {
                lines.append(ReservationLine(node: node, sku: sku, quantity: Int64.random(in: 1...2, using: &random)))
            }
            let request = Fulcrum_V1_ReserveRequest.with {
                $0.order = order
                $0.idempotencyKey = "key-" + order
                $0.lines = lines.map { line in .with { $0.node = line.node; $0.sku = line.sku; $0.quantity = line.quantity } }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                do {
                    _ = try await client.reserve(request)
                    outcomes.acknowledged.withLock { $0[order] = lines }
                    break
                } catch where error.code == .insufficientStock {
                    outcomes.refused.withLock { _ = $0.insert(order) }
                    break
                } catch where [.unavailable, .notLeader, .overloaded].contains(error.code) && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(100))
                } catch {
                    outcomes.unexpected.withLock { $0.append("\(order): \(error)") }
                    break
                }
            }
        }
        await client.close()
    }

    /// What one replica holds, read from its data directory once it stopped.
    struct Holding {
        var digest: String
        /// Each database's digest, naming where a digest differs.
        var databases: [String: String]
        var consistent: Bool
        var reservations: [String: [ReservationLine]]
        var positions: [PositionKey: Position]
    }

    static func holding(_ directory: String) throws -> Holding {
        let digest = try Service.digest(directory: directory)
        let databases = try Service.databaseDigests(directory: directory)
        let consistent = try Service.verify(directory: directory).isConsistent
        var options = LedgerOptions()
        options.replica = true
        let service = try Service.open(directory: directory, ledgerOptions: options)
        defer { service.close() }
        var reservations: [String: [ReservationLine]] = [:]
        var after: String?
        while true {
            let page = try service.reservations(after: after, limit: 1_000)
            for reservation in page { reservations[reservation.order] = reservation.lines }
            guard let last = page.last else { break }
            after = last.order
        }
        var positions: [PositionKey: Position] = [:]
        for (node, sku, _) in stock { positions[PositionKey(node: node, sku: sku)] = try service.position(node: node, sku: sku) }
        return Holding(digest: digest, databases: databases, consistent: consistent, reservations: reservations, positions: positions)
    }

    /// The checker: every acknowledged reservation on every replica, nothing
    /// else reserved (no command applied twice, none applied unacknowledged),
    /// no position oversold, and every replica the same, byte for byte.
    static func violations(acknowledged: [String: [ReservationLine]], holdings: [Holding]) -> [String] {
        var violations: [String] = []
        var expected: [PositionKey: Int64] = [:]
        for lines in acknowledged.values { for line in lines { expected[line.key, default: 0] += line.quantity } }
        for (index, holding) in holdings.enumerated() {
            if !holding.consistent { violations.append("replica \(index): the refold disagrees with its balances") }
            for (order, lines) in acknowledged where holding.reservations[order] != lines {
                violations.append("replica \(index): acknowledged \(order) is \(holding.reservations[order].map { "\($0)" } ?? "missing")")
            }
            for order in holding.reservations.keys where acknowledged[order] == nil {
                violations.append("replica \(index): \(order) is reserved but was never acknowledged")
            }
            for (key, position) in holding.positions {
                if position.reserved + position.committed > position.onHand {
                    violations.append("replica \(index): \(key.node)/\(key.sku) oversold: \(position)")
                }
                if position.reserved != expected[key, default: 0] {
                    violations.append("replica \(index): \(key.node)/\(key.sku) reserves \(position.reserved), acknowledged \(expected[key, default: 0])")
                }
            }
            if holding.digest != holdings[0].digest {
                let differing = Set(holding.databases.keys).union(holdings[0].databases.keys).sorted()
                    .filter { holding.databases[$0] != holdings[0].databases[$0] }
                violations.append("replica \(index): digest differs from replica 0's in \(differing.joined(separator: ", "))")
            }
        }
        return violations
    }

    enum Fault: CaseIterable { case killLeader, pauseLeader, killEtcdMember, killEtcdLeader, wipeFollower }

    @Test(.timeLimit(.minutes(5))) func faultsAtSeededMomentsLoseNoAcknowledgedReservation() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["FULCRUM_CLUSTER_SEED"] ?? "") ?? 20_261_207
        var random = SplitMix64(seed: seed)
        let etcd = try EtcdCluster(members: 3)
        defer { etcd.stopAll() }
        let replicas = try Replicas(etcd: etcd)
        defer { for index in 0..<3 { replicas.stop(index, SIGKILL) } }
        _ = try await replicas.leader()
        let seeding = try FulcrumClient.connecting(replicas.addresses, requestTimeoutMilliseconds: 3_000)
        for (node, sku, quantity) in Self.stock {
            _ = try await seeding.adjust(.with { $0.node = node; $0.sku = sku; $0.set = quantity; $0.idempotencyKey = "seed-\(node)-\(sku)" })
        }
        await seeding.close()

        let outcomes = Outcomes()
        let addresses = replicas.addresses
        let clients = (0..<6).map { number in Task { await Self.client(number, addresses: addresses, outcomes: outcomes) } }
        var log: [String] = []
        for fault in Fault.allCases.shuffled(using: &random) {
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_200, using: &random)))
            let leader = try await replicas.leader()
            switch fault {
            case .killLeader:
                replicas.stop(leader, SIGKILL)
                try await Task.sleep(for: .seconds(1))
                try replicas.start(leader)
            case .pauseLeader:
                let pid = replicas.processes[leader]!.process.processIdentifier
                kill(pid, SIGSTOP)
                try await Task.sleep(for: .milliseconds(Int(Limits.leaderLeaseSeconds) * 1_000 + 1_500))
                kill(pid, SIGCONT)
            case .killEtcdMember:
                let member = (etcd.leader().map { ($0 + 1) % 3 }) ?? 0
                etcd.kill9(member)
                try await Task.sleep(for: .seconds(1))
                try etcd.start(member)
            case .killEtcdLeader:
                let member = etcd.leader() ?? 0
                etcd.kill9(member)
                try await Task.sleep(for: .seconds(1))
                try etcd.start(member)
            case .wipeFollower:
                let follower = (leader + 1) % 3
                replicas.stop(follower, SIGKILL)
                try FileManager.default.removeItem(atPath: replicas.directories[follower])
                try replicas.start(follower)  // rebuilt from a snapshot of the leader: the log is trimmed past its start
                let started = (try? String(contentsOfFile: replicas.directories[follower] + ".log", encoding: .utf8)) ?? ""
                #expect(started.contains("started from a snapshot of"), "\(started)")
            }
            log.append("\(fault) (leader was \(leader))")
        }
        // Every process restarted, the clients still writing.
        for index in 0..<3 {
            replicas.stop(index)
            try replicas.start(index)
        }
        try await Task.sleep(for: .seconds(1))
        outcomes.stopped.store(true, ordering: .relaxed)
        for client in clients { await client.value }
        let head = try await replicas.converge()
        await replicas.stopAllLeaderLast()

        let holdings = try replicas.directories.map(Self.holding)
        let acknowledged = outcomes.acknowledged.withLock { $0 }
        #expect(outcomes.unexpected.withLock { $0 }.isEmpty, "\(outcomes.unexpected.withLock { $0 })")
        #expect(acknowledged.count > 50, "faults: \(log)")
        #expect(Self.violations(acknowledged: acknowledged, holdings: holdings) == [], "seed \(seed), faults: \(log)")
        print(
            "cluster: seed \(seed), \(acknowledged.count) reservations acknowledged, \(outcomes.refused.withLock { $0.count }) refused for stock, "
                + "log head \(head); faults: \(log.joined(separator: ", "))")
    }

    static func refusal(_ output: String) -> (code: String?, message: String, path: String?) {
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        let error = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["error"] as? [String: Any]
        return (error?["code"] as? String, error?["message"] as? String ?? output, error?["path"] as? String)
    }

    /// Starts that cannot be served end at once with a typed error: etcd out of
    /// reach, a cluster whose log another program (or format) wrote, and a
    /// ledger written outside the cluster. Nothing is applied.
    @Test func badStartsAreRefusedWithTypedErrors() async throws {
        func serve(_ data: String, etcd: String, cluster: String = "bad") async throws -> (status: Int32, output: String) {
            try await runDetached(
                builtExecutable("fulcrumd"),
                ["serve", "--data", data, "--listen", "127.0.0.1:\(freePort())", "--cluster", cluster, "--etcd", etcd, "--json"],
                timeoutSeconds: 60)
        }
        let unreachable = try await serve(temporaryDirectory(), etcd: "http://127.0.0.1:\(freePort())")
        #expect(unreachable.status == 2)
        let refusedForEtcd = Self.refusal(unreachable.output)
        #expect(refusedForEtcd.code == "unavailable" && refusedForEtcd.path == "etcd", "\(unreachable.output)")
        #expect(refusedForEtcd.message.hasPrefix("no etcd endpoint answered"), "\(unreachable.output)")

        let etcd = try EtcdCluster(members: 1)
        defer { etcd.stopAll() }
        let key = Data("/fulcrum/foreign/format".utf8).base64EncodedString()
        let value = Data("somebody-else 7".utf8).base64EncodedString()
        #expect(EtcdCluster.post(etcd.members[0].clientURL + "/v3/kv/put", body: "{\"key\":\"\(key)\",\"value\":\"\(value)\"}") != nil)
        let data = temporaryDirectory()
        let foreign = try await serve(data, etcd: etcd.endpoints, cluster: "foreign")
        #expect(foreign.status == 2)
        let refusedForFormat = Self.refusal(foreign.output)
        #expect(refusedForFormat.code == "invalid_argument" && refusedForFormat.path == "cluster", "\(foreign.output)")
        #expect(
            refusedForFormat.message
                == "the log of cluster foreign holds entries of format \"somebody-else 7\"; this build reads \"fulcrum-log 1\": nothing was applied")
        #expect(try Service.verify(directory: data).entries == 0)

        let single = temporaryDirectory()
        let service = try Service.open(directory: single)
        _ = try await service.adjust(AdjustRequest(node: "N1", sku: "S", change: .set(3)))
        service.close()
        let outside = try await serve(single, etcd: etcd.endpoints)
        #expect(outside.status == 2)
        let refusedForData = Self.refusal(outside.output)
        #expect(refusedForData.code == "invalid_argument" && refusedForData.path == "data", "\(outside.output)")
    }

    /// Retention: the leader trims the log below what every live replica
    /// applied (less a kept tail); a new replica the log no longer reaches,
    /// and one stopped while the log was trimmed past it, start from a
    /// snapshot of the leader (the snapshot RPC) and then tail the log.
    @Test(.timeLimit(.minutes(3))) func aTrimmedLogStartsReplicasFromASnapshotOfTheLeader() async throws {
        let etcd = try EtcdCluster(members: 1)
        defer { etcd.stopAll() }
        let ports = (0..<3).map { _ in freePort() }
        let directories = (0..<3).map { _ in temporaryDirectory() }
        var replicas: [ServerProcess?] = [nil, nil, nil]
        defer { for replica in replicas { replica?.stop(SIGKILL) } }
        func start(_ index: Int) throws {
            replicas[index] = try ServerProcess(
                data: directories[index], listen: "127.0.0.1:\(ports[index])",
                arguments: ["--cluster", "trim", "--etcd", etcd.endpoints, "--log-tail-entries", "5"],
                errorLog: directories[index] + ".log")
        }
        func write(_ count: Int, from first: Int, through running: [Int]) async throws {
            let client = try FulcrumClient.connecting(
                running.map { "127.0.0.1:\(ports[$0])" }.joined(separator: ","), requestTimeoutMilliseconds: 3_000)
            for index in first..<(first + count) {
                _ = try await client.adjust(.with { $0.node = "N1"; $0.sku = "S\(index % 4)"; $0.delta = 1; $0.idempotencyKey = "a\(index)" })
            }
            await client.close()
        }
        /// The log's first entry, once the leader trimmed it to at most the kept tail and what came after.
        func trimmedLogStart() async throws -> UInt64 {
            let logKey = Data("/fulcrum/trim/log/".utf8).base64EncodedString()
            let logEnd = Data("/fulcrum/trim/log0".utf8).base64EncodedString()
            var count = Int.max
            var first: UInt64 = 0
            for _ in 0..<100 where count > 8 {
                try await Task.sleep(for: .milliseconds(100))
                let answer = EtcdCluster.post(
                    etcd.members[0].clientURL + "/v3/kv/range", body: "{\"key\":\"\(logKey)\",\"range_end\":\"\(logEnd)\",\"limit\":1}")
                count = Int(answer?["count"] as? String ?? "0") ?? 0
                let key = ((answer?["kvs"] as? [[String: Any]])?.first?["key"] as? String).flatMap { Data(base64Encoded: $0) }
                first = key.flatMap { UInt64(String(decoding: $0.suffix(20), as: UTF8.self)) } ?? 0
            }
            #expect(count <= 8, "log entries left: \(count)")
            return first
        }
        func log(_ index: Int) -> String { (try? String(contentsOfFile: directories[index] + ".log", encoding: .utf8)) ?? "" }

        try start(0)
        try start(1)
        try await write(40, from: 0, through: [0, 1])
        #expect(try await trimmedLogStart() > 2)
        try start(2)  // a new replica: its directory does not exist yet
        #expect(log(2).contains("started from a snapshot of"), "\(log(2))")

        // One stopped while the log moves on: its ledger is behind the trimmed log, and replaced by a snapshot.
        replicas[1]?.stop()
        replicas[1] = nil
        let stoppedAt = try #require(try LedgerBackup.position(directory: directories[1])).applied
        try await write(40, from: 40, through: [0, 2])
        #expect(try await trimmedLogStart() > stoppedAt + 1)
        try start(1)
        #expect(log(1).contains("started from a snapshot of"), "\(log(1))")

        let late = try FulcrumClient.connecting("127.0.0.1:\(ports[1]),127.0.0.1:\(ports[0])", requestTimeoutMilliseconds: 3_000)
        _ = try await late.adjust(.with { $0.node = "N1"; $0.sku = "LAST"; $0.set = 9; $0.idempotencyKey = "last" })
        let last = late.logPosition
        await late.close()
        // Every replica applied the log through the last write (a read at its position answers; bounded, 60 s under load).
        for index in 0..<3 {
            for _ in 0..<300 {
                let copy = try FulcrumClient.connecting("127.0.0.1:\(ports[index])", requestTimeoutMilliseconds: 3_000)
                let available = try? await copy.atp(.with { $0.sku = "LAST"; $0.node = "N1"; $0.minPosition = last }).available
                await copy.close()
                if available == 9 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        // The leader last: a follower outliving it would be elected and append.
        var leader: Int?
        for index in 0..<3 {
            guard let client = try? await FulcrumClient.connect("127.0.0.1:\(ports[index])", requestTimeoutMilliseconds: 1_000) else { continue }
            if let stats = try? await client.stats(), stats.replication.role == "leader" { leader = index }
            await client.close()
        }
        let followersFirst: [Int] = (0..<3).filter { $0 != leader } + (leader.map { [$0] } ?? [])
        for index in followersFirst {
            replicas[index]?.stop()
            replicas[index] = nil
        }
        let digests = try directories.map { (directory) throws -> String in try Service.digest(directory: directory) }
        let positions = try directories.map { (directory) throws -> UInt64? in try LedgerBackup.position(directory: directory)?.applied }
        #expect(Set(digests).count == 1, "\(digests), positions \(positions)")
        // Each snapshot was deleted once read to its end.
        for directory in directories {
            #expect((try? FileManager.default.contentsOfDirectory(atPath: directory + "/snapshots")) ?? [] == [])
        }
    }

    /// Read-your-writes: every write answers a log position; a read sent to
    /// a follower with it as `min_position` sees the write, and one asking
    /// for a position nobody reached answers `stale` at `min_position`.
    @Test(.timeLimit(.minutes(3))) func readsWithMinPositionSeeTheWritesOnAFollower() async throws {
        let etcd = try EtcdCluster(members: 1)
        defer { etcd.stopAll() }
        let (replicas, ports, addresses) = try etcd.replicas(2, cluster: "ryw")
        defer { for replica in replicas { replica.stop() } }
        let writer = try FulcrumClient.connecting(addresses, requestTimeoutMilliseconds: 5_000)
        _ = try await writer.adjust(.with { $0.node = "N1"; $0.sku = "S"; $0.set = 0; $0.idempotencyKey = "start" })
        var follower: FulcrumClient?
        var followerIndex = 0
        for (index, port) in ports.enumerated() {
            let client = try await FulcrumClient.connect("127.0.0.1:\(port)", requestTimeoutMilliseconds: 5_000)
            if try await client.stats().replication.role == "follower" {
                follower = client
                followerIndex = index
            } else {
                await client.close()
            }
        }
        let reader = try #require(follower)
        var lastPosition: UInt64 = 0
        for round in 1...50 {
            let written = try await writer.adjust(.with { $0.node = "N1"; $0.sku = "S"; $0.set = Int64(round); $0.idempotencyKey = "w\(round)" })
            #expect(written.logPosition > lastPosition)
            lastPosition = written.logPosition
            let read = try await reader.atp(.with { $0.node = "N1"; $0.sku = "S"; $0.minPosition = written.logPosition })
            #expect(read.available == Int64(round), "round \(round): the follower answered \(read.available) at position \(written.logPosition)")
        }
        _ = try await writer.reserve(.with {
            $0.order = "RYW-1"; $0.lines = [.with { $0.node = "N1"; $0.sku = "S"; $0.quantity = 2 }]; $0.idempotencyKey = "ryw-1"
        })
        #expect(writer.logPosition > lastPosition)  // the client keeps its writes' highest position
        let got = try await reader.reservation(order: "RYW-1", minPosition: writer.logPosition)
        #expect(got.state == "reserved")
        let batch = try await reader.atpBatch(.with {
            $0.queries = [.with { $0.node = "N1"; $0.sku = "S" }]
            $0.minPosition = writer.logPosition
        })
        #expect(batch.answers.first?.available == 48)

        // The gateway: a write's Fulcrum-Log-Position header, as a follower's min_position.
        var write = URLRequest(url: URL(string: "http://\(replicas[1 - followerIndex].httpAddress!)/v1/adjust")!)
        write.httpMethod = "POST"
        write.httpBody = Data(#"{"node": "N1", "sku": "HTTP", "set": 7, "idempotency_key": "h1"}"#.utf8)
        let (_, written) = try await URLSession.shared.data(for: write)
        let header = try #require((written as! HTTPURLResponse).value(forHTTPHeaderField: "Fulcrum-Log-Position"))
        #expect(UInt64(header)! > writer.logPosition)
        let (data, _) = try await URLSession.shared.data(
            from: URL(string: "http://\(replicas[followerIndex].httpAddress!)/v1/atp?sku=HTTP&node=N1&min_position=\(header)")!)
        #expect((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["available"] as? Int == 7)

        let started = ContinuousClock.now
        do {
            _ = try await reader.atp(.with { $0.node = "N1"; $0.sku = "S"; $0.minPosition = lastPosition + 1_000_000 })
            Issue.record("a position nobody reached was answered")
        } catch {
            #expect(error.code == .stale && error.path == "min_position", "\(error)")
        }
        #expect(ContinuousClock.now - started >= .milliseconds(Limits.readPositionWaitMilliseconds))
        await reader.close()
        await writer.close()
    }

    /// Journeys move with the leadership: events the leader accepted just
    /// before a kill -9 are resumed and finished by the replica that takes over.
    @Test(.timeLimit(.minutes(3))) func journeysAcceptedByAKilledLeaderFinishOnTheNext() async throws {
        let etcd = try EtcdCluster(members: 1)
        defer { etcd.stopAll() }
        let ports = (0..<3).map { _ in freePort() }
        var replicas: [ServerProcess?] = try (0..<3).map { index in
            try ServerProcess(
                data: temporaryDirectory(), listen: "127.0.0.1:\(ports[index])",
                arguments: ["--cluster", "journeys", "--etcd", etcd.endpoints, "--demo", "--http", "127.0.0.1:0"])
        }
        defer { for replica in replicas { replica?.stop(SIGKILL) } }
        var leader: Int?
        for _ in 0..<100 where leader == nil {
            for (index, replica) in replicas.enumerated() {
                let status = EtcdCluster.get("http://\(replica!.httpAddress!)/v1/replication")?["replication"] as? [String: Any]
                if status?["role"] as? String == "leader" { leader = index }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let leading = try #require(leader)
        let gateway = "http://\(replicas[leading]!.httpAddress!)"
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let order = "J-\(index)"
                    let body = #"{"event": "order.created", "order": "\#(order)", "intake": {"id": "\#(order)", "#
                        + #""ship_to": {"latitude": 40.7, "longitude": -74.0}, "lines": [{"id": "1", "sku": "CAP-RED", "quantity": 1}]}}"#
                    if EtcdCluster.post(gateway + "/v1/events", body: body)?["sequence"] != nil {
                        outcomes.acknowledged.withLock { $0[order] = [] }
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(30))
            replicas[leading]!.stop(SIGKILL)
            replicas[leading] = nil
        }
        let survivor = replicas.compactMap { $0 }.first!
        var states: [String: String] = [:]
        for _ in 0..<300 {
            let orders = EtcdCluster.get("http://\(survivor.httpAddress!)/v1/orders?limit=100")?["orders"] as? [[String: Any]] ?? []
            states = Dictionary(uniqueKeysWithValues: orders.compactMap { order in
                (order["id"] as? String).map { ($0, ((order["lines"] as? [[String: Any]])?.first?["state"] as? String) ?? "") }
            })
            if outcomes.acknowledged.withLock({ $0.keys }).allSatisfy({ states[$0] == "released" }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let acknowledged = outcomes.acknowledged.withLock { Set($0.keys) }
        #expect(!acknowledged.isEmpty)
        #expect(acknowledged.filter { states[$0] != "released" }.isEmpty, "\(states)")
    }

    /// The checker itself: a double application, a lost acknowledgement, a
    /// reservation nobody was told of, and a diverged replica are each caught.
    @Test func theCheckerCatchesWhatFencingAndIdempotencyPrevent() {
        let line = ReservationLine(node: "N1", sku: "HOT-1", quantity: 2)
        let position = Position(onHand: 10, reserved: 2, committed: 0, safetyStock: 0)
        let good = Holding(
            digest: "d", databases: ["entries": "1"], consistent: true, reservations: ["a": [line]], positions: [line.key: position])
        #expect(Self.violations(acknowledged: ["a": [line]], holdings: [good, good]) == [])
        var doubled = good
        doubled.positions[line.key]!.reserved = 4
        doubled.reservations["a-retry"] = [line]
        doubled.digest = "e"
        doubled.databases["entries"] = "2"
        #expect(Self.violations(acknowledged: ["a": [line]], holdings: [good, doubled]) == [
            "replica 1: a-retry is reserved but was never acknowledged",
            "replica 1: N1/HOT-1 reserves 4, acknowledged 2",
            "replica 1: digest differs from replica 0's in entries",
        ])
        var lost = good
        lost.reservations = [:]
        lost.positions[line.key]!.reserved = 0
        #expect(Self.violations(acknowledged: ["a": [line]], holdings: [lost]).count == 2)
        var oversold = good
        oversold.positions[line.key] = Position(onHand: 1, reserved: 2, committed: 0, safetyStock: 0)
        #expect(Self.violations(acknowledged: ["a": [line]], holdings: [oversold]) == ["replica 0: N1/HOT-1 oversold: \(oversold.positions[line.key]!)"])
    }
}
