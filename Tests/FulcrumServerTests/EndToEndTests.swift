import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumLedger
import FulcrumServer
import FulcrumService
import FulcrumSolver
import FulcrumWire
import NIOCore
import Testing

/// Every operation over a real loopback connection.
@Suite struct EndToEndTests {
    @Test func ledgerOperations() async throws {
        let server = try await TestServer()
        let client = try await server.client()

        let health = try await client.health()
        #expect(health.ready && health.version == FulcrumVersion.string)

        let set = try await client.adjust(.with { $0.node = "N1"; $0.sku = "S1"; $0.set = 10 })
        #expect(set.position.onHand == 10 && set.position.available == 10)
        let moved = try await client.adjust(.with { $0.node = "N1"; $0.sku = "S1"; $0.delta = -2; $0.idempotencyKey = "k1" })
        let again = try await client.adjust(.with { $0.node = "N1"; $0.sku = "S1"; $0.delta = -2; $0.idempotencyKey = "k1" })
        #expect(moved.position.onHand == 8 && again.position.onHand == 8)

        let batch = try await client.adjustBatch(.with {
            $0.items = [
                .with { $0.node = "N2"; $0.sku = "S1"; $0.set = 5 },
                .with { $0.node = "N2"; $0.sku = "S2" },  // no change given
                .with { $0.node = "N2"; $0.sku = "S3"; $0.delta = -1 },  // below zero
            ]
        })
        #expect(batch.items.count == 3)
        #expect(batch.items[0].position.available == 5)
        #expect(batch.items[1].error.code == "invalid_argument" && batch.items[1].error.path == "items[1].change")
        #expect(batch.items[2].error.code == "insufficient_stock" && batch.items[2].error.path.hasPrefix("items[2]"))

        let safety = try await client.setSafetyStock(.with { $0.node = "N1"; $0.sku = "S1"; $0.quantity = 3 })
        #expect(safety.position.available == 5)
        let due = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        let receipt = try await client.schedule(.with {
            $0.receipt = "PO-1"; $0.node = "N1"; $0.sku = "S1"; $0.quantity = 7; $0.dueMs = due
        })
        #expect(receipt.receipt == "PO-1" && receipt.dueMs == due)

        let now = try await client.atp(.with { $0.sku = "S1" })
        #expect(now.available == 10 && now.nodes.map(\.node) == ["N1", "N2"])
        let later = try await client.atp(.with { $0.sku = "S1"; $0.node = "N1"; $0.onMs = due })
        #expect(later.available == 12)
        let bulk = try await client.atpBatch(.with {
            $0.queries = [.with { $0.sku = "S1"; $0.node = "N2" }, .with { $0.sku = "UNKNOWN" }]
        })
        #expect(bulk.answers.map(\.available) == [5, 0])

        let received = try await client.receive(.with { $0.receipt = "PO-1"; $0.quantity = 6 })
        #expect(received.position.onHand == 14)

        let reservation = try await client.reserve(.with {
            $0.order = "O1"
            $0.lines = [.with { $0.node = "N1"; $0.sku = "S1"; $0.quantity = 4 }, .with { $0.node = "N2"; $0.sku = "S1"; $0.quantity = 1 }]
        })
        #expect(reservation.state == "reserved" && reservation.lines.count == 2)
        #expect(try await client.reservation(order: "O1").state == "reserved")
        #expect(try await client.confirm(order: "O1").state == "confirmed")
        #expect(try await client.ship(order: "O1").state == "shipped")
        let position = try await client.atp(.with { $0.sku = "S1"; $0.node = "N1" })
        #expect(position.available == 14 - 3 - 4)

        _ = try await client.reserve(.with { $0.order = "O2"; $0.lines = [.with { $0.node = "N2"; $0.sku = "S1"; $0.quantity = 2 }] })
        #expect(try await client.release(order: "O2").state == "released")

        let stats = try await client.stats()
        #expect(stats.reservations == 2 && stats.writerCommands >= 10 && stats.connections == 1)

        await client.close()
        await server.stop()
    }

    @Test func typedErrors() async throws {
        let server = try await TestServer()
        let client = try await server.client()
        _ = try await client.adjust(.with { $0.node = "N1"; $0.sku = "S1"; $0.set = 3 })

        await expectError(.insufficientStock, path: "lines[0].quantity") {
            _ = try await client.reserve(.with { $0.order = "O1"; $0.lines = [.with { $0.node = "N1"; $0.sku = "S1"; $0.quantity = 4 }] })
        }
        await expectError(.reservationNotFound, path: "order") { _ = try await client.reservation(order: "NOPE") }
        await expectError(.reservationNotFound) { _ = try await client.ship(order: "NOPE") }
        _ = try await client.reserve(.with { $0.order = "O1"; $0.lines = [.with { $0.node = "N1"; $0.sku = "S1"; $0.quantity = 1 }] })
        await expectError(.illegalTransition) { _ = try await client.ship(order: "O1") }
        await expectError(.reservationExists) {
            _ = try await client.reserve(.with { $0.order = "O1"; $0.lines = [.with { $0.node = "N1"; $0.sku = "S1"; $0.quantity = 1 }] })
        }
        await expectError(.invalidArgument, path: "sku") { _ = try await client.atp(.with { $0.sku = "" }) }
        await expectError(.invalidArgument, path: "change") { _ = try await client.adjust(.with { $0.node = "N1"; $0.sku = "S1" }) }
        await expectError(.invalidArgument, path: "payload") {
            _ = try await client.call(.reserve, payload: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF]))
        }
        await expectError(.unknownOperation, path: "opcode") {
            _ = try await client.call(Opcode(rawValue: 99), payload: ByteBuffer())
        }
        await expectError(.invalidArgument, path: "queries") { _ = try await client.atpBatch(.init()) }
        await expectError(.invalidArgument, path: "strategy") {
            _ = try await client.optimize(.with { $0.strategy = "cheapest" })
        }
        // The problem's messages are checked with the JSON contract's paths.
        let order = Fulcrum_V1_OptimizeOrder.with {
            $0.id = "O"
            $0.shipTo = .with { $0.latitude = 40 }
            $0.lines = [.with { $0.id = "1"; $0.sku = "S1"; $0.quantity = 1 }]
        }
        await expectError(.invalidArgument, path: "orders") { _ = try await client.optimize(.init()) }
        await expectError(.invalidArgument, path: "orders[0].ship_to.longitude") {
            _ = try await client.optimize(.with { $0.problem.orders = [order] })
        }
        var located = order
        located.shipTo.longitude = -74
        await expectError(.invalidArgument, path: "nodes[0].kind") {
            _ = try await client.optimize(.with {
                $0.problem.orders = [located]
                $0.problem.nodes = [.with { $0.id = "N1"; $0.kind = "shop"; $0.latitude = 40; $0.longitude = -74 }]
            })
        }
        await expectError(.invalidArgument, path: "orders[0].lines[0].quantity") {
            var negative = located
            negative.lines[0].quantity = -1
            _ = try await client.optimize(.with { $0.problem.orders = [negative] })
        }
        // Nothing the errors touched changed.
        #expect(try await client.atp(.with { $0.sku = "S1"; $0.node = "N1" }).available == 2)
        #expect(try await client.reservation(order: "O1").lines[0].quantity == 1)
        await client.close()
        await server.stop()
    }

    @Test func atpNearSortsTheNetworkByDistance() async throws {
        let server = try await TestServer()
        let client = try await server.client()
        for node in ["DC-EAST", "DC-WEST", "STORE-NYC", "ELSEWHERE"] {
            _ = try await client.adjust(.with { $0.node = node; $0.sku = "S"; $0.set = 2 })
        }
        let boston = try await client.atp(.with { $0.sku = "S"; $0.hasNear_p = true; $0.nearLatitude = 42.36; $0.nearLongitude = -71.06 })
        // Nodes outside the server's network have no location and are not listed.
        #expect(boston.nodes.map(\.node) == ["STORE-NYC", "DC-EAST", "DC-WEST"])
        #expect(boston.nodes[0].distanceKm > 290 && boston.nodes[0].distanceKm < 310)
        #expect(boston.available == 6)
        await expectError(.invalidArgument, path: "near") {
            _ = try await client.atp(.with { $0.sku = "S"; $0.hasNear_p = true; $0.nearLatitude = 95 })
        }
        await client.close()
        await server.stop()

        let bare = try await TestServer(network: Network(nodes: []))
        let other = try await bare.client()
        await expectError(.invalidArgument, path: "near") {
            _ = try await other.atp(.with { $0.sku = "S"; $0.hasNear_p = true; $0.nearLatitude = 42 })
        }
        await other.close()
        await bare.stop()
    }

    /// A 5-line order over 30 nodes: optimize against the ledger matches a
    /// local solve with the same stock; optimize-and-reserve reserves exactly
    /// the plan's units.
    @Test func optimizeAgainstTheLedgerAndReserve() async throws {
        let server = try await TestServer()
        let client = try await server.client()
        var workload = SyntheticWorkload(seed: 11, nodeCount: 30, skuCount: 40)
        _ = try await client.adjustBatch(.with {
            $0.items = workload.inventory.map { stock in .with { $0.node = stock.node; $0.sku = stock.sku; $0.set = Int64(stock.available) } }
        })
        var request = workload.request(orderCount: 1, linesPerOrder: 5)
        let local = try Optimizer.solve(request)
        request.inventory = nil
        let remote = try await client.optimize(.with { $0.problem = .init(request) })
        #expect(abs(remote.solution.objective - local.objective) < 1e-6)
        #expect(try remote.solution.domain().plans == local.plans)

        let reserved = try await client.optimizeAndReserve(.with { $0.problem = .init(request) })
        #expect(reserved.attempts == 1)
        let expected = Service.reservationLines(local.plans[0], order: request.orders[0])
        #expect(reserved.reservations.count == (expected.isEmpty ? 0 : 1))
        if let reservation = reserved.reservations.first {
            #expect(reservation.lines.map { ReservationLine(node: $0.node, sku: $0.sku, quantity: $0.quantity) } == expected)
            for line in expected {
                let stock = workload.inventory.first { $0.node == line.node && $0.sku == line.sku }!
                let atp = try await client.atp(.with { $0.sku = line.sku; $0.node = line.node })
                #expect(atp.available == Int64(stock.available) - line.quantity)
            }
        }
        var twoOrders = workload.request(orderCount: 2, linesPerOrder: 2)
        twoOrders.inventory = nil
        await expectError(.invalidArgument, path: "orders") {
            _ = try await client.optimizeAndReserve(.with { $0.problem = .init(twoOrders) })
        }
        await expectError(.invalidArgument, path: "inventory") {
            _ = try await client.optimizeAndReserve(.with { $0.problem = .init(workload.request(orderCount: 1, linesPerOrder: 2)) })
        }
        #expect(try server.ledger.verify().isConsistent)
        await client.close()
        await server.stop()
    }

    /// A request without nodes ships from the server's network (`--network`):
    /// the same plan as with the nodes spelled out. Without a network, the
    /// missing field is a typed error.
    @Test func requestsWithoutNodesUseTheServersNetwork() async throws {
        var workload = SyntheticWorkload(seed: 12, nodeCount: 25, skuCount: 30)
        let server = try await TestServer(network: Network(nodes: workload.nodes))
        let client = try await server.client()
        _ = try await client.adjustBatch(.with {
            $0.items = workload.inventory.map { stock in .with { $0.node = stock.node; $0.sku = stock.sku; $0.set = Int64(stock.available) } }
        })
        var request = workload.request(orderCount: 1, linesPerOrder: 4)
        let local = try Optimizer.solve(request)
        request.inventory = nil
        request.nodes = []
        #expect(Fulcrum_V1_OptimizeProblem(request).nodes.isEmpty)
        let remote = try await client.optimize(.with { $0.problem = .init(request) })
        #expect(abs(remote.solution.objective - local.objective) < 1e-6)
        let reserved = try await client.optimizeAndReserve(.with { $0.problem = .init(request) })
        #expect(reserved.reservations.first?.lines.map(\.quantity).reduce(0, +)
            == Service.reservationLines(local.plans[0], order: request.orders[0]).map(\.quantity).reduce(0, +))
        await client.close()
        await server.stop()

        let bare = try await TestServer(network: Network(nodes: []))
        let bareClient = try await bare.client()
        await expectError(.invalidArgument, path: "nodes") {
            _ = try await bareClient.optimize(.with { $0.problem = .init(request) })
        }
        await bareClient.close()
        await bare.stop()
    }

    /// Many requests in flight on one connection, answered by id: durable
    /// writes and instant reads interleave, and reads overtake writes.
    @Test func pipeliningAnswersOutOfOrder() async throws {
        let server = try await TestServer()
        let client = try await server.client()
        _ = try await client.adjust(.with { $0.node = "N"; $0.sku = "S"; $0.set = 1_000 })
        #expect(await client.pipeline([]).isEmpty)
        var requests: [(opcode: Opcode, payload: ByteBuffer)] = []
        for index in 0..<200 {
            if index % 2 == 0 {
                requests.append((.reserve, Fulcrum_V1_ReserveRequest.with {
                    $0.order = "P\(index)"; $0.lines = [.with { $0.node = "N"; $0.sku = "S"; $0.quantity = 1 }]
                }.payload()))
            } else {
                requests.append((.atp, Fulcrum_V1_AtpRequest.with { $0.sku = "S"; $0.node = "N" }.payload()))
            }
        }
        let results = await client.pipeline(requests)
        for (index, result) in results.enumerated() {
            let payload = try result.get()
            if index % 2 == 0 {
                #expect(try Fulcrum_V1_ReservationResponse(payload: payload).reservation.order == "P\(index)")
            } else {
                #expect(try Fulcrum_V1_AtpResponse(payload: payload).available <= 1_000)
            }
        }
        #expect(try await client.atp(.with { $0.sku = "S"; $0.node = "N" }).available == 900)

        // On the wire: a reserve (answered after its fsync) then an ATP sent
        // in the same segment; the ATP's answer comes first.
        let socket = try RawSocket(port: server.port)
        var bytes = ByteBuffer()
        request(.hello, id: 1, Fulcrum_V1_HelloRequest()).write(to: &bytes)
        request(.reserve, id: 2, Fulcrum_V1_ReserveRequest.with {
            $0.order = "RAW"; $0.lines = [.with { $0.node = "N"; $0.sku = "S"; $0.quantity = 1 }]
        }).write(to: &bytes)
        request(.atp, id: 3, Fulcrum_V1_AtpRequest.with { $0.sku = "S"; $0.node = "N" }).write(to: &bytes)
        socket.send(Array(bytes.readableBytesView))
        let answers = (0..<3).compactMap { _ in socket.readFrame() }
        #expect(answers.map(\.requestID) == [1, 3, 2])
        #expect(answers.allSatisfy { $0.flags == .response })
        await client.close()
        await server.stop()
    }
}
