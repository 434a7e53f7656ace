import FulcrumCore
import FulcrumWire
import NIOCore
import SwiftProtobuf
import Testing

/// The frame decoder and the payload decoders on random and mutated input:
/// never a crash, never a hang, never a buffer beyond one frame's bound.
@Suite struct FrameFuzzTests {
    static let payloadBytesMax = 4_096

    /// Valid frames of every request message, as seeds for mutation.
    static func seeds() -> [[UInt8]] {
        let messages: [(Opcode, any SwiftProtobuf.Message)] = [
            (.hello, Fulcrum_V1_HelloRequest.with { $0.token = "t"; $0.client = "fuzz" }),
            (.atp, Fulcrum_V1_AtpRequest.with { $0.sku = "SKU-1"; $0.node = "N"; $0.hasNear_p = true; $0.nearLatitude = 1 }),
            (.reserve, Fulcrum_V1_ReserveRequest.with {
                $0.order = "O"; $0.lines = [.with { $0.node = "N"; $0.sku = "S"; $0.quantity = 3 }]; $0.ttlSeconds = 9
            }),
            (.adjust, Fulcrum_V1_AdjustRequest.with { $0.node = "N"; $0.sku = "S"; $0.delta = -4; $0.reason = "r" }),
            (.adjustBatch, Fulcrum_V1_AdjustBatchRequest.with { $0.items = [.with { $0.node = "N"; $0.set = 1 }] }),
            (.optimize, Fulcrum_V1_OptimizeRequest.with { $0.problem.orders = [.with { $0.id = "O"; $0.lines = [.with { $0.sku = "S" }] }] }),
        ]
        return messages.map { opcode, message in
            var buffer = ByteBuffer()
            let payload = try! message.serializedBytes() as [UInt8]
            Frame(opcode: opcode, requestID: 42, payload: ByteBuffer(bytes: payload)).write(to: &buffer)
            return Array(buffer.readableBytesView)
        }
    }

    /// Every payload decoder the router uses, on the same bytes.
    static func decodeAll(_ payload: ByteBuffer) {
        _ = try? Fulcrum_V1_HelloRequest(payload: payload)
        _ = try? Fulcrum_V1_AtpRequest(payload: payload)
        _ = try? Fulcrum_V1_AtpBatchRequest(payload: payload)
        _ = try? Fulcrum_V1_ReserveRequest(payload: payload)
        _ = try? Fulcrum_V1_AdjustBatchRequest(payload: payload)
        _ = try? Fulcrum_V1_OptimizeAndReserveRequest(payload: payload)
    }

    /// Feeds `stream` in chunks of seeded sizes; returns the frames parsed
    /// until the stream is rejected or ends.
    static func parse(_ stream: [UInt8], _ random: inout SplitMix64) -> (frames: Int, rejected: Bool) {
        let parser = FrameParser(payloadBytesMax: payloadBytesMax)
        var buffer = ByteBuffer()
        var offset = 0
        var frames = 0
        while offset < stream.count {
            let chunk = 1 + Int(random.next() % 64)
            buffer.writeBytes(stream[offset..<min(stream.count, offset + chunk)])
            offset += chunk
            do {
                while let frame = try parser.next(from: &buffer) {
                    precondition(frame.payload.readableBytes <= payloadBytesMax)
                    frames += 1
                    decodeAll(frame.payload)
                }
            } catch {
                return (frames, true)
            }
            // Unparsed bytes never exceed one frame's bound.
            precondition(buffer.readableBytes <= Frame.headerBytes + payloadBytesMax)
            buffer.discardReadBytes()
        }
        return (frames, false)
    }

    @Test func randomAndMutatedStreams() {
        var random = SplitMix64(seed: 0xF0CC)
        let seeds = Self.seeds()
        var streamBytes = 0
        var frames = 0
        var rejected = 0
        // 1,000,000 frames' worth of streams: a third random bytes, the rest
        // runs of valid frames with byte flips, insertions, deletions and
        // truncations.
        for iteration in 0..<200_000 {
            var stream: [UInt8] = []
            if iteration % 3 == 0 {
                stream = (0..<Int(random.next() % 96)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if random.next() % 2 == 0 { stream.replaceSubrange(0..<min(2, stream.count), with: [0x46, 0x43]) }
            } else {
                for _ in 0..<5 { stream += seeds[Int(random.next() % UInt64(seeds.count))] }
                for _ in 0..<Int(random.next() % 4) {
                    let position = Int(random.next() % UInt64(stream.count))
                    switch random.next() % 4 {
                    case 0: stream[position] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
                    case 1: stream.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                    case 2: stream.remove(at: position)
                    default: stream.removeLast(Int(random.next() % UInt64(stream.count)))
                    }
                    if stream.isEmpty { break }
                }
            }
            streamBytes += stream.count
            let result = Self.parse(stream, &random)
            frames += result.frames
            rejected += result.rejected ? 1 : 0
        }
        #expect(streamBytes > 10_000_000)
        #expect(frames > 300_000)
        #expect(rejected > 50_000)
    }

    /// A length just over the limit is refused from the header alone, before
    /// any payload arrives.
    @Test func oversizedLengthIsRefusedBeforeBuffering() throws {
        let parser = FrameParser(payloadBytesMax: Self.payloadBytesMax)
        var header = ByteBuffer()
        Frame(opcode: .atp, requestID: 1, payload: ByteBuffer(repeating: 0, count: Self.payloadBytesMax + 1)).write(to: &header)
        var firstBytes = header.getSlice(at: 0, length: Frame.headerBytes)!
        #expect(throws: FrameError(.payloadTooLarge(lengthBytes: UInt32(Self.payloadBytesMax + 1), maxBytes: Self.payloadBytesMax))) {
            try parser.next(from: &firstBytes)
        }
        var exact = ByteBuffer()
        Frame(opcode: .atp, requestID: 2, payload: ByteBuffer(repeating: 1, count: Self.payloadBytesMax)).write(to: &exact)
        #expect(try parser.next(from: &exact)?.payload.readableBytes == Self.payloadBytesMax)
    }
}
