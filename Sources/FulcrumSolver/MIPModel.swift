import FulcrumCore

/// A linear model as `GLPKProblem` loads it: columns with their kinds,
/// upper bounds and costs (minimised), rows over them.
protocol LinearModel: Sendable {
    var kinds: [LinearColumnKind] { get }
    var upperBounds: [Double] { get }
    var costs: [Double] { get }
    var rows: [LinearRow] { get }
}

enum LinearColumnKind: Sendable { case integer, binary, continuous }

struct LinearRow: Sendable {
    enum Bound: Sendable { case equal(Double), atMost(Double), atLeast(Double) }
    var bound: Bound
    /// (column index, coefficient)
    var entries: [(Int, Double)]
}

/// The optimize v2 MIP over candidate pairs only, as plain arrays: built and
/// checked in Swift, loaded into GLPK by `GLPKProblem`.
///
/// Columns: units of each candidate (integer, bounded by the candidate's
/// bound; for a no-split line a binary "wholly from this node" instead),
/// a binary shipment per (parcel, node) pair that has candidates (a parcel:
/// an order's lines, each `ship_alone` line apart), backordered
/// units per line (for a ship-complete order one binary "waits" instead).
/// Rows: demand per line, shipment links per candidate, and stock, capacity
/// and split rows only where they can bind.
struct MIPModel: LinearModel {
    enum Column: Sendable, Hashable {
        case units(candidate: Int)
        case whole(candidate: Int)
        case shipment(parcel: Int, node: Int)
        case backorder(line: Int)
        case waits(order: Int)
    }

    private(set) var columns: [Column] = []
    private(set) var kinds: [LinearColumnKind] = []
    private(set) var upperBounds: [Double] = []
    private(set) var costs: [Double] = []
    private(set) var rows: [LinearRow] = []
    private var columnOfCandidate: [Int] = []
    private var shipmentColumn: [Int: Int] = [:]
    private var backorderColumn: [Int: Int] = [:]
    private var waitsColumn: [Int: Int] = [:]

    init(_ problem: PreparedProblem) {
        addCandidateColumns(problem)
        addOrderColumns(problem)
        addDemandAndLinkRows(problem)
        addResourceRows(problem)
        addSplitRows(problem)
    }

    private mutating func add(_ column: Column, _ kind: LinearColumnKind, upper: Double, cost: Double) -> Int {
        columns.append(column)
        kinds.append(kind)
        upperBounds.append(upper)
        costs.append(cost)
        return columns.count - 1
    }

    /// Units a candidate column stands for per unit of its value.
    private func unitsPerValue(_ candidate: Int, _ problem: PreparedProblem) -> Double {
        let line = problem.lines[problem.candidates[candidate].line]
        return line.noSplit ? Double(line.quantity) : 1
    }

    private mutating func addCandidateColumns(_ problem: PreparedProblem) {
        for (index, candidate) in problem.candidates.enumerated() {
            let line = problem.lines[candidate.line]
            let column = line.noSplit
                ? add(.whole(candidate: index), .binary, upper: 1, cost: candidate.unitCost * Double(line.quantity))
                : add(.units(candidate: index), .integer, upper: Double(candidate.upperBound), cost: candidate.unitCost)
            columnOfCandidate.append(column)
        }
    }

    private mutating func addOrderColumns(_ problem: PreparedProblem) {
        var nodesOfParcel = Array(repeating: Set<Int>(), count: problem.orderOfParcel.count)
        for (line, parcel) in problem.parcelOfLine.enumerated() {
            for candidate in problem.candidatesOfLine[line] { nodesOfParcel[parcel].insert(problem.candidates[candidate].node) }
        }
        for (order, range) in problem.linesOfOrder.enumerated() {
            for parcel in problem.parcelsOfOrder[order] {
                for node in nodesOfParcel[parcel].sorted() {
                    shipmentColumn[parcel * problem.request.nodes.count + node] = add(
                        .shipment(parcel: parcel, node: node), .binary, upper: 1,
                        cost: problem.shipmentCost(order: order, node: node))
                }
            }
            if problem.request.orders[order].shipComplete {
                let penalty = range.reduce(0.0) { $0 + Double(problem.lines[$1].quantity) * problem.lines[$1].backorderCost }
                waitsColumn[order] = add(.waits(order: order), .binary, upper: 1, cost: penalty)
            } else {
                for line in range {
                    let flat = problem.lines[line]
                    backorderColumn[line] = add(
                        .backorder(line: line), .integer, upper: Double(flat.quantity), cost: flat.backorderCost)
                }
            }
        }
    }

    private func shipment(parcel: Int, node: Int, _ problem: PreparedProblem) -> Int {
        shipmentColumn[parcel * problem.request.nodes.count + node]!
    }

    /// Whether `order` has candidates at `node` (a shipment column of one of its parcels).
    func ships(order: Int, node: Int, _ problem: PreparedProblem) -> Bool {
        problem.parcelsOfOrder[order].contains { shipmentColumn[$0 * problem.request.nodes.count + node] != nil }
    }

    /// The same model where `order` must really ship at least one unit from
    /// `node` (not merely pay for an empty shipment): the best plan that
    /// uses the node, for pricing the alternatives.
    func forcingUnits(order: Int, node: Int, _ problem: PreparedProblem) -> MIPModel {
        var forced = self
        let entries = problem.linesOfOrder[order].flatMap { line in
            problem.candidatesOfLine[line].filter { problem.candidates[$0].node == node }
                .map { (columnOfCandidate[$0], unitsPerValue($0, problem)) }
        }
        precondition(!entries.isEmpty, "a node with a shipment column has a candidate")
        forced.rows.append(LinearRow(bound: .atLeast(1), entries: entries))
        return forced
    }

    private mutating func addDemandAndLinkRows(_ problem: PreparedProblem) {
        for (lineIndex, line) in problem.lines.enumerated() {
            var entries = problem.candidatesOfLine[lineIndex].map { (columnOfCandidate[$0], unitsPerValue($0, problem)) }
            if let waits = waitsColumn[line.order] {
                entries.append((waits, Double(line.quantity)))
            } else {
                entries.append((backorderColumn[lineIndex]!, 1))
            }
            rows.append(LinearRow(bound: .equal(Double(line.quantity)), entries: entries))
            for candidate in problem.candidatesOfLine[lineIndex] {
                let column = columnOfCandidate[candidate]
                let node = problem.candidates[candidate].node
                rows.append(
                    LinearRow(bound: .atMost(0), entries: [(column, 1), (shipment(parcel: problem.parcelOfLine[lineIndex], node: node, problem), -upperBounds[column])]))
            }
        }
    }

    /// Stock per (node, SKU) and capacity per node, only where the candidates'
    /// bounds together could exceed them.
    private mutating func addResourceRows(_ problem: PreparedProblem) {
        var byStock: [Int: [Int]] = [:]
        var byNode: [Int: [Int]] = [:]
        for (index, candidate) in problem.candidates.enumerated() {
            let sku = problem.lines[candidate.line].sku
            byStock[PreparedProblem.stockKey(node: candidate.node, sku: sku, skuCount: problem.skuIDs.count), default: []].append(index)
            byNode[candidate.node, default: []].append(index)
        }
        for key in byStock.keys.sorted() {
            addLimitRow(byStock[key]!, limit: problem.usable[key], problem)
        }
        for node in byNode.keys.sorted() {
            guard let capacity = problem.request.nodes[node].capacityUnits else { continue }
            addLimitRow(byNode[node]!, limit: capacity, problem)
        }
    }

    private mutating func addLimitRow(_ candidates: [Int], limit: Int, _ problem: PreparedProblem) {
        let most = candidates.reduce(0) { $0 + problem.candidates[$1].upperBound }
        guard most > limit else { return }
        rows.append(
            LinearRow(bound: .atMost(Double(limit)), entries: candidates.map { (columnOfCandidate[$0], unitsPerValue($0, problem)) }))
    }

    private mutating func addSplitRows(_ problem: PreparedProblem) {
        for order in problem.request.orders.indices {
            guard let limit = problem.maxShipments(order: order) else { continue }
            let columns = problem.parcelsOfOrder[order].flatMap { parcel in
                problem.request.nodes.indices.compactMap { shipmentColumn[parcel * problem.request.nodes.count + $0] }
            }
            if columns.count > limit {
                rows.append(LinearRow(bound: .atMost(Double(limit)), entries: columns.map { ($0, 1) }))
            }
        }
    }

    /// Column values (index 0 unused, as GLPK wants) for an allocation.
    func columnValues(for allocation: Allocation, _ problem: PreparedProblem) -> [Double] {
        var values = Array(repeating: 0.0, count: columns.count + 1)
        for (index, column) in columns.enumerated() {
            let value: Double
            switch column {
            case .units(let candidate): value = Double(allocation.units[candidate])
            case .whole(let candidate): value = allocation.units[candidate] > 0 ? 1 : 0
            case .shipment(let parcel, let node):
                let used = problem.linesOfOrder[problem.orderOfParcel[parcel]].contains { line in
                    problem.parcelOfLine[line] == parcel
                        && problem.candidatesOfLine[line].contains { problem.candidates[$0].node == node && allocation.units[$0] > 0 }
                }
                value = used ? 1 : 0
            case .backorder(let line):
                value = Double(problem.lines[line].quantity - problem.candidatesOfLine[line].reduce(0) { $0 + allocation.units[$1] })
            case .waits(let order):
                let any = problem.linesOfOrder[order].contains { line in problem.candidatesOfLine[line].contains { allocation.units[$0] > 0 } }
                value = any ? 0 : 1
            }
            values[index + 1] = value
        }
        return values
    }

    /// The allocation in column values (index 0 unused).
    func allocation(from values: [Double], _ problem: PreparedProblem) -> Allocation {
        var allocation = Allocation(candidateCount: problem.candidates.count)
        for (candidate, column) in columnOfCandidate.enumerated() {
            let value = Int(values[column + 1].rounded())
            allocation.units[candidate] = value * Int(unitsPerValue(candidate, problem))
        }
        return allocation
    }
}
