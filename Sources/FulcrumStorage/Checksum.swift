import CChecksum

/// Every value Fulcrum stores ends in a 4-byte CRC32C (little-endian) of its
/// key and its bytes, written by `put` and checked on every read: LMDB keeps
/// no checksums, and a flipped bit in a balance must be refused, never served.
/// The key is part of the sum so that a value found under the wrong key fails too.
public enum Checksum {
    public static let trailerBytes = 4

    /// The checksum of `value` stored under `key`.
    @inlinable
    public static func of(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> UInt32 {
        let partial = fulcrum_crc32c(0, key.baseAddress, key.count)
        return fulcrum_crc32c(partial, value.baseAddress, value.count)
    }

    /// The value without its trailer when the trailer matches; nil when the
    /// stored bytes are too short or damaged.
    @inlinable
    public static func verified(key: UnsafeRawBufferPointer, stored: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard stored.count >= trailerBytes else { return nil }
        let value = UnsafeRawBufferPointer(rebasing: stored[..<(stored.count - trailerBytes)])
        let trailer = UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: value.count, as: UInt32.self))
        return trailer == of(key: key, value: value) ? value : nil
    }

    /// Whether `stored` (value and trailer, as a raw cursor returns it) is intact under `key`.
    public static func matches(key: [UInt8], stored: [UInt8]) -> Bool {
        key.withUnsafeBytes { key in stored.withUnsafeBytes { verified(key: key, stored: $0) != nil } }
    }

    /// Lower-case hex, for messages about keys.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
