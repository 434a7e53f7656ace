/// Appends little-endian fixed-width integers and length-prefixed strings to a
/// byte array: the one encoding of every stored record and log entry.
@frozen
public struct ByteWriter: Sendable {
    @usableFromInline var storage: [UInt8]
    public var bytes: [UInt8] { storage }

    @inlinable
    public init(capacity: Int = 64) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }

    /// Writes a string as a UInt16 byte count and its UTF-8 bytes.
    @inlinable
    public mutating func write(_ string: String) {
        let count = string.utf8.count
        precondition(count <= Int(UInt16.max), "strings are bounded by Limits before encoding")
        write(UInt16(count))
        storage.append(contentsOf: string.utf8)
    }

    /// Writes bytes as a UInt32 byte count and the bytes.
    public mutating func write(bytes: [UInt8]) {
        write(UInt32(bytes.count))
        storage.append(contentsOf: bytes)
    }
}

/// Reads what `ByteWriter` wrote. Every read is bounds-checked and throws
/// `corrupt` instead of trapping, because the bytes come from disk.
public struct ByteReader: ~Copyable {
    @usableFromInline let buffer: UnsafeRawBufferPointer
    @usableFromInline var position = 0
    public var offset: Int { position }
    /// The version of the record format being read (what its leading format
    /// byte said), so a decoder reads the fields that version has; 0: none.
    public let format: UInt8

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, format: UInt8 = 0) {
        self.buffer = buffer
        self.format = format
    }

    public var isAtEnd: Bool { offset == buffer.count }

    @inlinable
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(FulcrumError) -> T {
        let size = MemoryLayout<T>.size
        guard buffer.count - position >= size else { throw truncated() }
        let value = T(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: T.self))
        position += size
        return value
    }

    public mutating func readString() throws(FulcrumError) -> String { try readUTF8(count: Int(try read(UInt16.self))) }

    /// Reads what `ByteWriter.write(bytes:)` wrote.
    public mutating func readBytes() throws(FulcrumError) -> [UInt8] {
        let count = Int(try read(UInt32.self))
        guard buffer.count - position >= count else { throw truncated() }
        let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[position..<position + count]))
        position += count
        return bytes
    }

    /// The next `count` bytes as UTF-8 text.
    mutating func readUTF8(count: Int) throws(FulcrumError) -> String {
        guard buffer.count - position >= count else { throw truncated() }
        let string = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[position..<position + count]), as: UTF8.self)
        position += count
        return string
    }

    public func expectEnd(_ what: String) throws(FulcrumError) {
        guard isAtEnd else {
            throw FulcrumError(.corrupt, "\(buffer.count - offset) trailing bytes after \(what)")
        }
    }

    @usableFromInline
    func truncated() -> FulcrumError {
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
