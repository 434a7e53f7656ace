/// One line of a stock count from outside (a WMS or POS snapshot): units on
/// hand of a SKU at a node.
public struct StockCount: Hashable, Sendable {
    public var node: String
    public var sku: String
    public var quantity: Int64
    public init(node: String, sku: String, quantity: Int64) {
        self.node = node
        self.sku = sku
        self.quantity = quantity
    }
    public var key: PositionKey { PositionKey(node: node, sku: sku) }
}

/// A count set against the ledger: where they differ, and how many agree.
public struct Reconciliation: Hashable, Sendable {
    /// A position where the count and the ledger's on hand differ.
    public struct Difference: Hashable, Sendable {
        public var node: String
        public var sku: String
        /// Counted.
        public var quantity: Int64
        /// On hand in the ledger when the count was taken.
        public var ledgerQuantity: Int64
        public var difference: Int64 { quantity - ledgerQuantity }
        public init(node: String, sku: String, quantity: Int64, ledgerQuantity: Int64) {
            self.node = node
            self.sku = sku
            self.quantity = quantity
            self.ledgerQuantity = ledgerQuantity
        }
    }
    /// By node, then SKU.
    public var differences: [Difference]
    public var matched: Int
    public init(differences: [Difference], matched: Int) {
        self.differences = differences
        self.matched = matched
    }
}
