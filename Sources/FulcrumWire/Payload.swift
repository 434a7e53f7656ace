import FulcrumCore
import NIOCore
import SwiftProtobuf

/// A `ByteBuffer` as swift-protobuf's byte container, so payloads decode
/// from and encode to NIO buffers without an intermediate `Data` or array.
struct ProtobufBytes: SwiftProtobufContiguousBytes {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }
    init(repeating: UInt8, count: Int) { buffer = ByteBuffer(repeating: repeating, count: count) }
    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 { buffer = ByteBuffer(bytes: sequence) }
    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

extension SwiftProtobuf.Message {
    /// Decodes a payload; a payload that is not this message is `invalid_argument` at `payload`.
    public init(payload: ByteBuffer) throws(FulcrumError) {
        do {
            try self.init(serializedBytes: ProtobufBytes(payload))
        } catch {
            throw FulcrumError(.invalidArgument, "the payload is not a valid \(Self.protoMessageName)", path: "payload")
        }
    }

    /// The message's binary encoding.
    public func payload() -> ByteBuffer {
        do {
            let bytes: ProtobufBytes = try serializedBytes()
            return bytes.buffer
        } catch {
            // Only proto2 required fields can fail to encode; the schema has none.
            preconditionFailure("proto3 messages always encode: \(error)")
        }
    }
}

extension FulcrumError {
    /// The error as its wire message.
    public var wire: Fulcrum_V1_Error {
        .with {
            $0.code = code.rawValue
            $0.message = message
            $0.path = path
        }
    }

    /// The error an error frame carries.
    public init(wire: Fulcrum_V1_Error) {
        self.init(Code(rawValue: wire.code), wire.message, path: wire.path)
    }
}

/// A write's answer: it carries the log position it was answered at (see `PositionResponse` in fulcrum.proto).
public protocol LogPositioned {
    var logPosition: UInt64 { get }
}

extension Fulcrum_V1_PositionResponse: LogPositioned {}
extension Fulcrum_V1_AdjustBatchResponse: LogPositioned {}
extension Fulcrum_V1_ScheduleResponse: LogPositioned {}
extension Fulcrum_V1_ReservationResponse: LogPositioned {}
extension Fulcrum_V1_OptimizeAndReserveResponse: LogPositioned {}
