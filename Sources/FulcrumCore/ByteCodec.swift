/// Appends little-endian fixed-width integers and length-prefixed strings to a
/// byte array: the one encoding of every stored record and log entry.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes a string as a UInt16 byte count and its UTF-8 bytes.
    public mutating func write(_ string: String) {
        let utf8 = Array(string.utf8)
        precondition(utf8.count <= Int(UInt16.max), "strings are bounded by Limits before encoding")
        write(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads what `ByteWriter` wrote. Every read is bounds-checked and throws
/// `corrupt` instead of trapping, because the bytes come from disk.
public struct ByteReader: ~Copyable {
    private let buffer: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    public var isAtEnd: Bool { offset == buffer.count }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(FulcrumError) -> T {
        let size = MemoryLayout<T>.size
        guard buffer.count - offset >= size else { throw truncated() }
        let value = T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    public mutating func readString() throws(FulcrumError) -> String {
        let count = Int(try read(UInt16.self))
        guard buffer.count - offset >= count else { throw truncated() }
        let string = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]), as: UTF8.self)
        offset += count
        return string
    }

    public func expectEnd(_ what: String) throws(FulcrumError) {
        guard isAtEnd else {
            throw FulcrumError(.corrupt, "\(buffer.count - offset) trailing bytes after \(what)")
        }
    }

    private func truncated() -> FulcrumError {
        FulcrumError(.corrupt, "record truncated at byte \(offset) of \(buffer.count)")
    }
}

extension Array where Element == UInt8 {
    /// Decodes these bytes with a `ByteReader` that must consume them all.
    public func decode<T>(_ what: String, _ body: (inout ByteReader) throws(FulcrumError) -> T) throws(FulcrumError) -> T {
        let result = withUnsafeBytes { raw in
            Result { () throws(FulcrumError) -> T in
                var reader = ByteReader(raw)
                let value = try body(&reader)
                try reader.expectEnd(what)
                return value
            }
        }
        return try result.get()
    }
}
