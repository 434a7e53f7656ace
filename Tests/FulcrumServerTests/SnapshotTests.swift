import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumTestSupport
import FulcrumWire
import Testing

/// The snapshot RPC: a compacted copy of the ledger in chunks, as a new replica downloads it.
@Suite struct SnapshotTests {
    @Test func aDownloadedSnapshotIsTheLedgerAndBadRequestsGetTypedErrors() async throws {
        let server = try await TestServer()
        let client = try await server.client()
        // More than one chunk of ledger.
        for batch in 0..<1 {
            _ = try await client.adjustBatch(.with { request in
                request.items = (0..<Limits.batchItemsMax).map { index in
                    .with { $0.node = "N\(index % 7)"; $0.sku = "SKU-\(batch)-\(index)-with-a-long-name-to-fill-pages"; $0.set = Int64(index % 50) }
                }
            })
        }
        let copy = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        let downloaded = try await client.downloadSnapshot(to: copy + "/data.mdb")
        #expect(downloaded.sizeBytes > UInt64(Limits.snapshotChunkBytes))
        #expect(downloaded.position == 0)  // a single node has no log
        #expect(try Service.verify(directory: copy).isConsistent)
        #expect(try Service.digest(directory: copy) == (try server.service.digest()))
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.directory + "/snapshots") == [])

        // The same from the command line, into an empty directory only.
        let copied = temporaryDirectory()
        let fulcrum = builtExecutable("fulcrum")
        let taken = try await runDetached(fulcrum, ["snapshot", "--server", "127.0.0.1:\(server.port)", "--to", copied, "--json"])
        #expect(taken.status == 0, "\(taken.output)")
        #expect(taken.output.contains(#""consistent":true"#), "\(taken.output)")
        #expect(try Service.digest(directory: copied) == (try server.service.digest()))
        let again = try await runDetached(fulcrum, ["snapshot", "--server", "127.0.0.1:\(server.port)", "--to", copied, "--json"])
        #expect(again.status != 0 && again.output.contains(#""code":"invalid_argument""#) && again.output.contains(#""path":"to""#), "\(again.output)")

        func refusal(_ request: Fulcrum_V1_SnapshotRequest) async -> FulcrumError? {
            do {
                let _: Fulcrum_V1_SnapshotResponse = try await client.call(.snapshot, request)
                return nil
            } catch {
                return error
            }
        }
        let unknown = await refusal(.with { $0.snapshot = "no-such"; $0.offset = 0 })
        #expect(unknown?.code == .notFound && unknown?.path == "snapshot")
        let first: Fulcrum_V1_SnapshotResponse = try await client.call(.snapshot, Fulcrum_V1_SnapshotRequest())
        let past = await refusal(.with { $0.snapshot = first.snapshot; $0.offset = first.sizeBytes + 1 })
        #expect(past?.code == .invalidArgument && past?.path == "offset")
        // Two copies at a time; a third waits for one to be done.
        let _: Fulcrum_V1_SnapshotResponse = try await client.call(.snapshot, Fulcrum_V1_SnapshotRequest())
        let third = await refusal(Fulcrum_V1_SnapshotRequest())
        #expect(third?.code == .overloaded)
        // Reading one to its end frees its place.
        let end: Fulcrum_V1_SnapshotResponse = try await client.call(.snapshot, Fulcrum_V1_SnapshotRequest.with {
            $0.snapshot = first.snapshot
            $0.offset = first.sizeBytes - 1
        })
        #expect(end.chunk.count == 1)
        let _: Fulcrum_V1_SnapshotResponse = try await client.call(.snapshot, Fulcrum_V1_SnapshotRequest())
        await client.close()

        await server.stop()
    }
}
