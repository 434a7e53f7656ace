import FulcrumCore
import FulcrumWire
import NIOCore
import NIOTestUtils
import Testing

/// The frame parser fed as a network would: byte by byte, in chunks of any
/// size, frames split anywhere (NIO's `ByteToMessageDecoderVerifier`), and
/// a seeded stream cut at random places.
@Suite struct FrameParserTests {
    static func frame(_ opcode: Opcode, _ requestID: UInt32, payload: String, flags: FrameFlags = []) -> Frame {
        Frame(opcode: opcode, requestID: requestID, flags: flags, payload: ByteBuffer(string: payload))
    }

    static let frames = [
        frame(.hello, 1, payload: "token"), frame(.atp, 2, payload: ""), frame(.reserve, 3, payload: String(repeating: "x", count: 1_000)),
        frame(.stats, 4, payload: "é✓", flags: [.response]), frame(.optimize, 5, payload: "{}", flags: [.response, .error]),
    ]

    static func bytes(_ frames: [Frame]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { frame.write(to: &buffer) }
        return buffer
    }

    @Test func theDecoderPassesNIOsVerifier() throws {
        let pairs = Self.frames.map { (Self.bytes([$0]), [$0]) } + [(Self.bytes(Self.frames), Self.frames)]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(payloadBytesMax: Limits.framePayloadBytesMax)
        }
    }

    /// A long stream cut at seeded random places yields the same frames, in order.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func aStreamCutAnywhereYieldsTheSameFrames(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let sent = (0..<200).map { index in Self.frames[Int(random.next() % UInt64(Self.frames.count))].withRequestID(UInt32(index)) }
        var stream = Self.bytes(sent)
        let parser = FrameParser(payloadBytesMax: Limits.framePayloadBytesMax)
        var pending = ByteBuffer()
        var received: [Frame] = []
        while stream.readableBytes > 0 {
            let cut = min(stream.readableBytes, 1 + Int(random.next() % 64))
            var chunk = stream.readSlice(length: cut)!
            pending.writeBuffer(&chunk)
            while let frame = try parser.next(from: &pending) { received.append(frame) }
        }
        #expect(received == sent)
        #expect(pending.readableBytes == 0)
    }

    @Test func aBadHeaderIsRefusedBeforeItsPayload() {
        let parser = FrameParser(payloadBytesMax: 16)
        var tooLarge = Self.bytes([Self.frame(.atp, 1, payload: String(repeating: "y", count: 17))])
        tooLarge.moveWriterIndex(to: Frame.headerBytes)  // the length alone must be enough to refuse it
        #expect(throws: FrameError(.payloadTooLarge(lengthBytes: 17, maxBytes: 16))) { _ = try parser.next(from: &tooLarge) }
        var badMagic = ByteBuffer(bytes: [0x47, 0x45])  // "GE": an HTTP request on the RPC port
        #expect(throws: FrameError(.badMagic(0x4745))) { _ = try parser.next(from: &badMagic) }
    }
}

extension Frame {
    func withRequestID(_ requestID: UInt32) -> Frame {
        var frame = self
        frame.requestID = requestID
        return frame
    }
}
