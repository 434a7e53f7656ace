import Dispatch
import FulcrumCore
import Synchronization

/// Dantzig–Wolfe column generation for a coupled batch: a column is one
/// order's whole plan; the master LP picks a convex combination of plans per
/// order under the shared stock and capacity rows; pricing is the order's
/// own single-order solve with the rows' duals added to its unit costs. Every pricing round
/// gives a Lagrangian lower bound on the batch (valid for any duals, because
/// each pricing solve is proven optimal); the master over the generated
/// columns, solved with binary columns (price and branch), gives a plan.
/// When that plan meets the bound it is optimal.
struct ColumnGeneration {
    /// One order's plan as the master sees it.
    struct Plan: Sendable {
        var order: Int
        /// Its objective (units, shipments and backorders), with the true costs.
        var cost: Double
        /// Units it takes of each master resource row.
        var uses: [(row: Int, units: Double)]
        /// (line in order, node id, units)
        var units: [(line: Int, node: String, units: Int)]
    }

    /// The best lower bound proven (nil when a pricing solve was not proven in time).
    private(set) var lowerBound: Double?
    /// The best plan of the batch found, as an allocation of `problem`, and its objective.
    private(set) var best: (allocation: Allocation, objective: Double)?

    /// Runs column generation on `problem` (every candidate, unpruned),
    /// starting from `start` (a plan of the batch, e.g. the orders in turn),
    /// until no plan prices out, then solves the master with binary columns.
    init(_ request: OptimizeRequest, stock: [Stock], problem: PreparedProblem, start: Allocation?, timeLimitMilliseconds: Int)
        throws(FulcrumError)
    {
        let ends = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeLimitMilliseconds)) * 1_000_000
        @Sendable func deadline() -> Int {
            let now = DispatchTime.now().uptimeNanoseconds
            return now >= ends ? 0 : Int((ends - now) / 1_000_000)
        }
        // The master's resource rows: stock and capacity that the orders together could exceed.
        var stockRows: [Int: Int] = [:]
        var nodeRows: [Int: Int] = [:]
        var limits: [Double] = []
        var mostOfStock: [Int: Int] = [:]
        var mostOfNode: [Int: Int] = [:]
        for candidate in problem.candidates {
            let key = PreparedProblem.stockKey(node: candidate.node, sku: problem.lines[candidate.line].sku, skuCount: problem.skuIDs.count)
            mostOfStock[key, default: 0] += candidate.upperBound
            mostOfNode[candidate.node, default: 0] += candidate.upperBound
        }
        for key in mostOfStock.keys.sorted() where mostOfStock[key]! > problem.usable[key] {
            stockRows[key] = limits.count
            limits.append(Double(problem.usable[key]))
        }
        for node in mostOfNode.keys.sorted() {
            guard let capacity = problem.request.nodes[node].capacityUnits, mostOfNode[node]! > capacity else { continue }
            nodeRows[node] = limits.count
            limits.append(Double(capacity))
        }
        let rowOfStock = stockRows
        let rowOfNode = nodeRows
        let skuOfID = Dictionary(uniqueKeysWithValues: problem.skuIDs.enumerated().map { ($1, $0) })
        let rowsOfSKU = Dictionary(grouping: stock, by: \.sku)
        // Each order alone with every unit of stock: what pricing reprices.
        let alone: [PreparedProblem] = request.orders.map { order in
            let rows = Set(order.lines.map(\.sku)).sorted().flatMap { rowsOfSKU[$0] ?? [] }
            return PreparedProblem(
                OptimizeRequest(
                    orders: [order], nodes: request.nodes, skus: request.skus, inventory: rows, rates: request.rates,
                    rules: request.rules),
                availability: rows, pruning: false)
        }
        /// The master rows a candidate of an order's own problem uses.
        @Sendable func resourceRows(_ own: PreparedProblem, candidate: Candidate) -> [Int] {
            let sku = skuOfID[own.skuIDs[own.lines[candidate.line].sku]]!
            let key = PreparedProblem.stockKey(node: candidate.node, sku: sku, skuCount: problem.skuIDs.count)
            return [rowOfStock[key], rowOfNode[candidate.node]].compactMap { $0 }
        }
        @Sendable func plan(order: Int, _ allocation: Allocation, of own: PreparedProblem, cost: Double) -> Plan {
            var uses: [Int: Double] = [:]
            var units: [(Int, String, Int)] = []
            for (index, count) in allocation.units.enumerated() where count > 0 {
                let candidate = own.candidates[index]
                for row in resourceRows(own, candidate: candidate) { uses[row, default: 0] += Double(count) }
                units.append((own.lines[candidate.line].indexInOrder, request.nodes[candidate.node].id, count))
            }
            return Plan(order: order, cost: cost, uses: uses.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, units: units)
        }

        var plans: [Plan] = []
        let limitsOfRows = limits
        let orderCount = request.orders.count
        // Always feasible together: every order backordered whole.
        for order in 0..<orderCount {
            let empty = Allocation(candidateCount: alone[order].candidates.count)
            plans.append(plan(order: order, empty, of: alone[order], cost: alone[order].objective(of: empty)))
        }
        if let start {
            for order in 0..<orderCount {
                var own = Allocation(candidateCount: alone[order].candidates.count)
                for line in problem.linesOfOrder[order] {
                    for candidate in problem.candidatesOfLine[line] where start.units[candidate] > 0 {
                        alone[order].add(
                            units: start.units[candidate], order: 0, lineInOrder: problem.lines[line].indexInOrder,
                            node: request.nodes[problem.candidates[candidate].node].id, to: &own)
                    }
                }
                plans.append(plan(order: order, own, of: alone[order], cost: alone[order].objective(of: own)))
            }
        }

        var bestBound = -Double.infinity
        var proven = true
        var rounds = 0
        while deadline() > 0 && rounds < Limits.columnGenerationRoundsMax {
            rounds += 1
            guard let master = try Self.solveMaster(plans, orderCount: orderCount, limits: limitsOfRows, deadline: deadline) else { break }
            // A ≤ row's dual is ≤ 0 in a minimisation; clamped against rounding.
            let duals = master.rowDuals.map { min(0, $0) }
            // Price every order against the duals, concurrently (one GLPK environment per thread).
            let priced = Mutex<[Int: (Plan, Double)?]>([:])
            let failure = Mutex<FulcrumError?>(nil)
            DispatchQueue.concurrentPerform(iterations: orderCount) { order in
                do throws(FulcrumError) {
                    let result = try Self.price(alone[order], duals: duals, rows: { resourceRows(alone[order], candidate: $0) }, deadline: deadline)
                    priced.withLock {
                        $0[order] = result.map { (plan(order: order, $0.allocation, of: alone[order], cost: $0.cost), $0.reduced) }
                    }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            let results = priced.withLock { $0 }
            guard (0..<orderCount).allSatisfy({ results[$0] ?? nil != nil }) else {
                proven = false
                break
            }
            // Lagrangian bound: each order's cheapest repriced plan, less what the duals charge for the rows' limits.
            let bound = (0..<orderCount).reduce(0.0) { $0 + results[$1]!!.1 } + zip(duals, limitsOfRows).reduce(0.0) { $0 + $1.0 * $1.1 }
            bestBound = max(bestBound, bound)
            var added = 0
            for order in 0..<orderCount {
                let (cheapest, repriced) = results[order]!!
                // Its reduced cost: the repriced objective less the order's convexity dual.
                if repriced - master.orderDuals[order] < -1e-9 * max(1, abs(repriced)) {
                    plans.append(cheapest)
                    added += 1
                }
            }
            // No plan prices out: the master's LP is the Dantzig–Wolfe bound.
            if added == 0 || bestBound >= master.objective - 1e-9 * max(1, master.objective) { break }
        }
        lowerBound = proven && bestBound.isFinite ? bestBound : nil

        // Price and branch: the master with binary columns over the plans generated.
        guard deadline() > 0 else { return }
        let master = MasterModel(plans: plans, orderCount: orderCount, limits: limitsOfRows, binary: true)
        var program = try GLPKProblem(master)
        guard let outcome = try program.solve(incumbent: nil, timeLimitMilliseconds: max(1, deadline())) else { return }
        var allocation = Allocation(candidateCount: problem.candidates.count)
        for (index, chosen) in plans.enumerated() where outcome.columnValues[index + 1] > 0.5 {
            for item in chosen.units {
                problem.add(units: item.units, order: chosen.order, lineInOrder: item.line, node: item.node, to: &allocation)
            }
        }
        best = (allocation, problem.objective(of: allocation))
    }

    /// The order's cheapest plan with each unit also paying the duals of the
    /// rows it uses: (the plan, its true cost, its repriced objective); nil
    /// when its solve is not proven optimal before the deadline.
    private static func price(
        _ own: PreparedProblem, duals: [Double], rows: (Candidate) -> [Int], deadline: () -> Int
    ) throws(FulcrumError) -> (allocation: Allocation, cost: Double, reduced: Double)? {
        // A ≤ row's dual is ≤ 0 in a minimisation: using the row costs -dual per unit.
        let repriced = own.repriced { candidate in rows(candidate).reduce(0.0) { $0 - min(0, duals[$1]) } }
        let solution = try repriced.solveSingleOrder(timeLimitMilliseconds: max(1, deadline()))
        guard solution.status == .optimal else { return nil }
        return (solution.allocation, own.objective(of: solution.allocation), repriced.objective(of: solution.allocation))
    }

    private static func solveMaster(_ plans: [Plan], orderCount: Int, limits: [Double], deadline: () -> Int) throws(FulcrumError)
        -> (objective: Double, orderDuals: [Double], rowDuals: [Double])?
    {
        let model = MasterModel(plans: plans, orderCount: orderCount, limits: limits, binary: false)
        var program = try GLPKProblem(model)
        guard let (objective, duals) = try program.relaxation(timeLimitMilliseconds: deadline()) else { return nil }
        return (objective, Array(duals[..<orderCount]), Array(duals[orderCount...]))
    }
}

/// The master: a column per plan, a row per order (its plans' weights sum
/// to one), a row per shared resource (at most its limit).
private struct MasterModel: LinearModel {
    var kinds: [LinearColumnKind]
    var upperBounds: [Double]
    var costs: [Double]
    var rows: [LinearRow]

    init(plans: [ColumnGeneration.Plan], orderCount: Int, limits: [Double], binary: Bool) {
        kinds = Array(repeating: binary ? .binary : .continuous, count: plans.count)
        upperBounds = Array(repeating: 1, count: plans.count)
        costs = plans.map(\.cost)
        var orderRows = Array(repeating: LinearRow(bound: .equal(1), entries: []), count: orderCount)
        var resourceRows = limits.map { LinearRow(bound: .atMost($0), entries: []) }
        for (column, plan) in plans.enumerated() {
            orderRows[plan.order].entries.append((column, 1))
            for use in plan.uses { resourceRows[use.row].entries.append((column, use.units)) }
        }
        rows = orderRows + resourceRows
    }
}
