import FulcrumCore
import FulcrumLedger
import Synchronization

/// The SKU catalogue: each SKU's weight and category, stored durably in the
/// ledger's records and used by every live solve (per-kilogram costs,
/// category exclusions) for the SKUs a request does not list itself.
extension Service {
    /// Records under "s" + SKU name (NFC bytes) → SKU.
    static let cataloguePrefix: UInt8 = 0x73

    /// The catalogue, read from the ledger once and kept in step with upserts.
    func catalogue() throws(FulcrumError) -> [String: SKU] {
        try loadOnce(catalogueTable) { () throws(FulcrumError) in
            var table: [String: SKU] = [:]
            try forEachRecord(prefix: [Self.cataloguePrefix]) { (_, value) throws(FulcrumError) in
                let sku = try RecordCoding.decode(SKU.self, value, what: "sku")
                table[sku.id] = sku
            }
            return table
        }
    }

    /// Every SKU of the catalogue, by name.
    public func skus() throws(FulcrumError) -> [SKU] {
        try catalogue().values.sorted { $0.id < $1.id }
    }

    /// Adds or replaces SKUs (durable on return; in the audit trail). Checked
    /// as an optimize request's `skus` are: names, a weight within the
    /// limits, each SKU once.
    public func upsert(_ skus: [SKU], caller: Caller) async throws(FulcrumError) -> Int {
        guard (1...Limits.pageItemsMax).contains(skus.count) else {
            throw FulcrumError(.invalidArgument, "1 to \(Limits.pageItemsMax) SKUs at a time", path: "skus")
        }
        for (index, sku) in skus.enumerated() {
            try Names.validate(sku.id, path: "skus[\(index)].id")
            if let category = sku.category { try Names.validate(category, path: "skus[\(index)].category") }
        }
        try OptimizeRequest.validate(skus: skus)
        _ = try catalogue()
        var batch = RecordBatch()
        for sku in skus { batch.put([Self.cataloguePrefix] + Names.keyBytes(sku.id), RecordCoding.encode(sku)) }
        try await write(batch)
        catalogueTable.withLock { table in
            for sku in skus { table?[sku.id] = sku }
        }
        try await recordAudit(
            operation: "upsert_skus", subject: skus.count == 1 ? skus[0].id : "\(skus.count) SKUs",
            detail: skus.prefix(5).map { "\($0.id) \($0.weightKilograms) kg\($0.category.map { " \($0)" } ?? "")" }
                .joined(separator: ", "),
            caller: caller)
        return skus.count
    }

    /// The request with the catalogue's entry for each SKU its lines name
    /// and its own `skus` do not list.
    func withCatalogue(_ request: OptimizeRequest) throws(FulcrumError) -> OptimizeRequest {
        let catalogue = try catalogue()
        guard !catalogue.isEmpty else { return request }
        var listed = Set(request.skus.map(\.id))
        var request = request
        for order in request.orders {
            for line in order.lines where !listed.contains(line.sku) {
                listed.insert(line.sku)
                if let sku = catalogue[line.sku] { request.skus.append(sku) }
            }
        }
        return request
    }
}
