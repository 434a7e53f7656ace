/// The outcome of a refold: what was read, and every disagreement found.
public struct VerificationReport: Sendable, Hashable {
    public var entries = 0
    public var positions = 0
    public var reservations = 0
    public var receipts = 0
    public var allocations = 0
    /// Stored records whose checksums were checked (`verify --checksums`); 0 when not asked.
    public var checkedRecords = 0
    /// One line per disagreement, naming the node, SKU, order or receipt.
    public var mismatches: [String] = []

    public var isConsistent: Bool { mismatches.isEmpty }

    package init() {}
}
