/// Positions and reservations as JSON, the one shape the gateway answers and
/// the CLI prints with `--json` (hand-rendered: the hot paths skip Foundation's encoder).
extension Position {
    public func json(_ key: PositionKey) -> JSON {
        .orderedObject([
            ("node", .string(key.node)), ("sku", .string(key.sku)), ("on_hand", .integer(onHand)),
            ("reserved", .integer(reserved)), ("committed", .integer(committed)),
            ("safety_stock", .integer(safetyStock)), ("available", .integer(available)),
        ])
    }

    /// One line for people: `DC-EAST/TEE-BLK-M: on hand 10, reserved 2, ...`.
    public func text(_ key: PositionKey) -> String {
        "\(key): on hand \(onHand), reserved \(reserved), committed \(committed), safety stock \(safetyStock), available \(available)"
    }
}

extension ScheduledReceipt {
    public var json: JSON {
        var fields: [(String, JSON)] = [
            ("receipt", .string(receipt)), ("node", .string(node)), ("sku", .string(sku)), ("quantity", .integer(quantity)),
            ("due_ms", .integer(due.millisecondsSinceEpoch)),
        ]
        if !fromNode.isEmpty { fields.append(("from_node", .string(fromNode))) }
        if !promises.isEmpty { fields.append(("promised", .integer(promised))) }
        return .orderedObject(fields)
    }

    /// One line for people: `T-1: 5 of TEE-BLK-M due at DC-WEST at 1700000000000 (from DC-EAST)`.
    public var text: String {
        "\(receipt): \(quantity) of \(sku) due at \(node) at \(due.millisecondsSinceEpoch)"
            + (fromNode.isEmpty ? "" : " (in transit from \(fromNode))")
            + (promises.isEmpty ? "" : ", \(promised) promised to \(promises.count) preorders")
    }
}

extension Reconciliation {
    public var json: JSON {
        .orderedObject([
            (
                "differences",
                .array(differences.map { difference in
                    .orderedObject([
                        ("node", .string(difference.node)), ("sku", .string(difference.sku)),
                        ("quantity", .integer(difference.quantity)), ("ledger_quantity", .integer(difference.ledgerQuantity)),
                        ("difference", .integer(difference.difference)),
                    ])
                })
            ),
            ("matched", .integer(Int64(matched))),
        ])
    }
}

extension Reservation {
    public var json: JSON {
        .orderedObject([
            ("order", .string(order)), ("state", .string(state.description)),
        ] + (channel.isEmpty ? [] : [("channel", .string(channel))]) + [
            (
                "lines",
                .array(lines.map { line in
                    .orderedObject(
                        [("node", .string(line.node)), ("sku", .string(line.sku)), ("quantity", .integer(line.quantity))]
                            + (line.receipt.isEmpty ? [] : [("receipt", .string(line.receipt))]))
                })
            ),
            ("created_ms", .integer(createdAt.millisecondsSinceEpoch)),
            ("expires_ms", .integer(expiresAt.millisecondsSinceEpoch)),
            ("updated_ms", .integer(updatedAt.millisecondsSinceEpoch)),
        ])
    }

    /// One line for people: `order A1: reserved; DC-EAST:TEE-BLK-M:2`.
    public var text: String {
        "order \(order): \(state); "
            + lines.map { "\($0.node):\($0.sku):\($0.quantity)" + ($0.receipt.isEmpty ? "" : " (preorder of \($0.receipt))") }
                .joined(separator: " ")
    }
}

extension ReservationState {
    /// The state named `name` (`reserved`, `confirmed`, ...), or nil.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }
}

extension Allocation {
    /// One line for people: `marketplace at */HOODIE-GRY-M: 2500 basis points of on hand`.
    public var text: String { "\(channel) at \(node)/\(sku): \(terms)" }

    /// What it sets aside, for how long: `30 units, no overflow, until 1796…`, or `removed`.
    public var terms: String {
        let amount: String =
            switch amount {
            case .quantity(let units): "\(units) units"
            case .shareBasisPoints(let points): "\(points) basis points of on hand"
            }
        let expiry = expiresAt.map { ", until \($0.millisecondsSinceEpoch)" } ?? ""
        return removes ? "removed" : amount + (overflow ? "" : ", no overflow") + expiry
    }

    public var json: JSON {
        var fields: [(String, JSON)] = [("sku", .string(sku)), ("node", .string(node)), ("channel", .string(channel))]
        switch amount {
        case .quantity(let units): fields.append(("quantity", .integer(units)))
        case .shareBasisPoints(let points): fields.append(("share_basis_points", .integer(points)))
        }
        fields.append(("overflow", .bool(overflow)))
        if let expiresAt { fields.append(("expires_ms", .integer(expiresAt.millisecondsSinceEpoch))) }
        return .orderedObject(fields)
    }
}
