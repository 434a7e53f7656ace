import CChecksum

/// A running CRC32C (Castagnoli) of bytes given piece by piece: the check
/// of a snapshot's whole copy as it travels in chunks (the C routine runs
/// at memory speed, where SHA-256 here would take seconds per gigabyte).
public struct CRC32C: Sendable, Hashable {
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = fulcrum_crc32c(value, bytes.baseAddress, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }
}
