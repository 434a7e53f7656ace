import FulcrumCore

extension Service {
    /// Sets a stock count against the ledger's on hand as it stood at `asOf`
    /// (now when nil), changing nothing. A count that covers `nodes` whole
    /// also names the positions there it leaves out (counted as 0).
    public func reconcile(_ counts: [StockCount], asOf: Timestamp?, nodes: [String]) throws(FulcrumError)
        -> Reconciliation
    {
        guard counts.count <= Limits.batchItemsMax else {
            throw FulcrumError(.invalidArgument, "\(counts.count) counts; the limit is \(Limits.batchItemsMax)", path: "counts")
        }
        var counted: [PositionKey: Int64] = [:]
        for (index, count) in counts.enumerated() {
            try Names.validate(count.node, path: "counts[\(index)].node")
            try Names.validate(count.sku, path: "counts[\(index)].sku")
            try Names.validateQuantity(count.quantity, path: "counts[\(index)].quantity", allowZero: true)
            guard counted.updateValue(count.quantity, forKey: count.key) == nil else {
                throw FulcrumError(.invalidArgument, "\(count.key) is counted twice", path: "counts[\(index)]")
            }
        }
        var keys = counts.map(\.key)
        for (index, node) in nodes.enumerated() {
            try Names.validate(node, path: "nodes[\(index)]")
            let stocked = try positions(node: node, skuContaining: nil, limit: Limits.batchItemsMax + 1)
            guard stocked.count <= Limits.batchItemsMax else {
                throw FulcrumError(
                    .invalidArgument, "node \(node) has more than \(Limits.batchItemsMax) positions; count it in parts",
                    path: "nodes[\(index)]")
            }
            for (key, _) in stocked where counted[key] == nil {
                counted[key] = 0
                keys.append(key)
            }
        }
        let ledger = try readers.withReader { reader throws(FulcrumError) in try reader.onHand(keys, asOf: asOf) }
        var differences: [Reconciliation.Difference] = []
        for (key, ledgerQuantity) in zip(keys, ledger) where counted[key]! != ledgerQuantity {
            differences.append(.init(node: key.node, sku: key.sku, quantity: counted[key]!, ledgerQuantity: ledgerQuantity))
        }
        differences.sort { ($0.node, $0.sku) < ($1.node, $1.sku) }
        return Reconciliation(differences: differences, matched: keys.count - differences.count)
    }
}
