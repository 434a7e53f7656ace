import FulcrumCore
import NIOCore

/// What a frame asks for. A struct over the byte on the wire, so that an
/// unknown opcode decodes (and is answered with a typed error) instead of
/// failing the connection.
public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let hello = Opcode(rawValue: 1)
    public static let health = Opcode(rawValue: 2)
    public static let stats = Opcode(rawValue: 3)
    public static let adjust = Opcode(rawValue: 10)
    public static let adjustBatch = Opcode(rawValue: 11)
    public static let schedule = Opcode(rawValue: 12)
    public static let receive = Opcode(rawValue: 13)
    public static let setSafetyStock = Opcode(rawValue: 14)
    public static let transfer = Opcode(rawValue: 15)
    public static let reconcile = Opcode(rawValue: 16)
    public static let allocate = Opcode(rawValue: 17)
    public static let allocations = Opcode(rawValue: 18)
    public static let reschedule = Opcode(rawValue: 19)
    public static let atp = Opcode(rawValue: 20)
    public static let atpBatch = Opcode(rawValue: 21)
    public static let reserve = Opcode(rawValue: 30)
    public static let getReservation = Opcode(rawValue: 31)
    public static let confirm = Opcode(rawValue: 32)
    public static let ship = Opcode(rawValue: 33)
    public static let release = Opcode(rawValue: 34)
    public static let optimize = Opcode(rawValue: 40)
    public static let optimizeAndReserve = Opcode(rawValue: 41)
    public static let submitEvent = Opcode(rawValue: 50)
    public static let getOrder = Opcode(rawValue: 51)
    public static let reprocess = Opcode(rawValue: 52)
    public static let pullOutbox = Opcode(rawValue: 53)
    public static let acknowledge = Opcode(rawValue: 54)
    public static let deadLetters = Opcode(rawValue: 55)
    public static let replayDeadLetter = Opcode(rawValue: 56)
    public static let backorders = Opcode(rawValue: 57)
    public static let insights = Opcode(rawValue: 58)
    public static let audit = Opcode(rawValue: 60)
    public static let profiles = Opcode(rawValue: 61)
    public static let reloadProfiles = Opcode(rawValue: 62)
    public static let skus = Opcode(rawValue: 63)
    public static let upsertSkus = Opcode(rawValue: 64)
    public static let nodes = Opcode(rawValue: 65)
    public static let updateNode = Opcode(rawValue: 66)
    public static let snapshot = Opcode(rawValue: 70)

    /// Every operation's name, as metrics label it.
    public static let names: [UInt8: String] = [
        1: "hello", 2: "health", 3: "stats", 10: "adjust", 11: "adjust_batch", 12: "schedule", 13: "receive",
        14: "set_safety_stock", 15: "transfer", 16: "reconcile", 17: "allocate", 18: "allocations", 19: "reschedule", 20: "atp", 21: "atp_batch", 30: "reserve", 31: "get_reservation", 32: "confirm",
        33: "ship", 34: "release", 40: "optimize", 41: "optimize_and_reserve", 50: "submit_event", 51: "get_order",
        52: "reprocess", 53: "pull_outbox", 54: "acknowledge", 55: "dead_letters", 56: "replay_dead_letter", 57: "backorders", 58: "insights",
        60: "audit", 61: "profiles", 62: "reload_profiles", 63: "skus", 64: "upsert_skus",
        65: "nodes", 66: "update_node", 70: "snapshot",
    ]
    public var description: String { Self.names[rawValue] ?? "opcode_\(rawValue)" }

    /// The scope a token needs for this operation (`Scope.byOperation`);
    /// nil for Hello and Health, which any connection may send.
    public var scope: Scope? { Scope.byOperation[description] }
}

/// Bits of the header's flags field. Requests carry none; the undefined
/// bits must be zero.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// The frame answers the request with the same id.
    public static let response = FrameFlags(rawValue: 1 << 0)
    /// The payload is an `Error` message instead of the opcode's response.
    public static let error = FrameFlags(rawValue: 1 << 1)
    static let defined: FrameFlags = [.response, .error]
}

/// One protocol frame: a 16-byte header and a protobuf payload.
///
/// Header, big-endian: magic "FC" (2 bytes), version (1), opcode (1),
/// request id (4), flags (2), reserved zero (2), payload length (4).
public struct Frame: Sendable, Equatable {
    public static let magic: UInt16 = 0x4643  // "FC"
    public static let version: UInt8 = 1
    public static let headerBytes = 16

    public var opcode: Opcode
    public var requestID: UInt32
    public var flags: FrameFlags
    public var payload: ByteBuffer

    public init(opcode: Opcode, requestID: UInt32, flags: FrameFlags = [], payload: ByteBuffer) {
        self.opcode = opcode
        self.requestID = requestID
        self.flags = flags
        self.payload = payload
    }

    /// Writes the header and the payload to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        precondition(payload.readableBytes <= Int(UInt32.max), "payload length fits the header")
        buffer.reserveCapacity(minimumWritableBytes: Self.headerBytes + payload.readableBytes)
        buffer.writeInteger(Self.magic)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(opcode.rawValue)
        buffer.writeInteger(requestID)
        buffer.writeInteger(flags.rawValue)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(UInt32(payload.readableBytes))
        buffer.writeImmutableBuffer(payload)
    }
}

/// Why a byte stream is not a sequence of frames. The connection that sent
/// it is closed; nobody else is affected.
public struct FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        case badMagic(UInt16)
        case unsupportedVersion(UInt8)
        case reservedBitsSet
        case payloadTooLarge(lengthBytes: UInt32, maxBytes: Int)
        /// The stream ended inside a frame.
        case truncated(bufferedBytes: Int)
    }
    public var reason: Reason
    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .badMagic(let magic): "bad magic 0x\(String(magic, radix: 16)) (expected 0x4643, \"FC\")"
        case .unsupportedVersion(let version): "unsupported protocol version \(version) (this server speaks 1)"
        case .reservedBitsSet: "reserved header bits are set"
        case .payloadTooLarge(let length, let max): "payload of \(length) bytes exceeds the limit of \(max)"
        case .truncated(let bytes): "the connection ended inside a frame (\(bytes) bytes buffered)"
        }
    }
}

/// Splits a byte stream into frames. Pure and channel-free, so it can be
/// fuzzed directly; `FrameDecoder` adapts it to SwiftNIO.
public struct FrameParser: Sendable {
    public let payloadBytesMax: Int

    public init(payloadBytesMax: Int) {
        precondition(payloadBytesMax > 0 && payloadBytesMax <= Int(UInt32.max))
        self.payloadBytesMax = payloadBytesMax
    }

    /// The next whole frame, consumed from `buffer`; nil when more bytes are
    /// needed. The header is checked before any payload is buffered, so a
    /// huge length is refused without allocating for it.
    public func next(from buffer: inout ByteBuffer) throws(FrameError) -> Frame? {
        guard buffer.readableBytes >= Frame.headerBytes else {
            // Reject a bad magic as soon as its two bytes are in.
            if buffer.readableBytes >= 2, let magic = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
                magic != Frame.magic
            {
                throw FrameError(.badMagic(magic))
            }
            return nil
        }
        let start = buffer.readerIndex
        let magic = buffer.getInteger(at: start, as: UInt16.self)!
        guard magic == Frame.magic else { throw FrameError(.badMagic(magic)) }
        let version = buffer.getInteger(at: start + 2, as: UInt8.self)!
        guard version == Frame.version else { throw FrameError(.unsupportedVersion(version)) }
        let opcode = buffer.getInteger(at: start + 3, as: UInt8.self)!
        let requestID = buffer.getInteger(at: start + 4, as: UInt32.self)!
        let flags = FrameFlags(rawValue: buffer.getInteger(at: start + 8, as: UInt16.self)!)
        let reserved = buffer.getInteger(at: start + 10, as: UInt16.self)!
        guard reserved == 0, FrameFlags.defined.isSuperset(of: flags) else { throw FrameError(.reservedBitsSet) }
        let length = buffer.getInteger(at: start + 12, as: UInt32.self)!
        guard Int(length) <= payloadBytesMax else {
            throw FrameError(.payloadTooLarge(lengthBytes: length, maxBytes: payloadBytesMax))
        }
        guard buffer.readableBytes >= Frame.headerBytes + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.headerBytes)
        let payload = buffer.readSlice(length: Int(length))!
        return Frame(opcode: Opcode(rawValue: opcode), requestID: requestID, flags: flags, payload: payload)
    }
}

/// SwiftNIO inbound handler: bytes to `Frame`s.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    let parser: FrameParser

    public init(payloadBytesMax: Int) {
        parser = FrameParser(payloadBytesMax: payloadBytesMax)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool)
        throws -> DecodingState
    {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if seenEOF && buffer.readableBytes > 0 { throw FrameError(.truncated(bufferedBytes: buffer.readableBytes)) }
        return .needMoreData
    }
}

/// SwiftNIO outbound handler: `Frame`s to bytes.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame
    public init() {}
    public func encode(data: Frame, out: inout ByteBuffer) throws {
        data.write(to: &out)
    }
}
