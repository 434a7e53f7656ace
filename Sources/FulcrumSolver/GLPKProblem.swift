import CGLPK
import CGLPKShim
import Foundation
import FulcrumCore

/// Owns one `glp_prob`. Created, solved and freed on one thread: a solve is
/// synchronous and the value never leaves its function (GLPK's environment
/// is thread-local). If GLPK reports an internal error, the guarded call
/// frees the thread's environment with every problem in it; the handle is
/// then dropped, never freed twice.
struct GLPKProblem: ~Copyable {
    private var handle: OpaquePointer?

    /// What the branch-and-bound search ended with.
    struct Outcome {
        var status: OptimizeResponse.Status
        var columnValues: [Double]
        /// The model's objective at the solution.
        var objective: Double
        var gap: Double
    }

    /// The state the search callback reads and writes.
    private final class Search {
        let incumbent: [Double]?
        var offered = false
        var gap = Double.infinity
        init(incumbent: [Double]?) { self.incumbent = incumbent }
    }

    init(_ model: some LinearModel) throws(FulcrumError) {
        // Terminal output is off for this thread's environment, whatever the parameters say.
        glp_term_out(GLP_OFF)
        handle = glp_create_prob()
        try load(model)
    }

    deinit {
        if let handle { glp_delete_prob(handle) }
    }

    private var problem: OpaquePointer {
        guard let handle else { preconditionFailure("use of a GLPK problem after a GLPK error") }
        return handle
    }

    private mutating func load(_ model: some LinearModel) throws(FulcrumError) {
        let columnCount = model.costs.count
        glp_set_obj_dir(problem, GLP_MIN)
        if columnCount > 0 { glp_add_cols(problem, Int32(columnCount)) }
        for index in 0..<columnCount {
            let column = Int32(index + 1)
            switch model.kinds[index] {
            case .binary:
                glp_set_col_kind(problem, column, GLP_BV)
            case .integer:
                glp_set_col_kind(problem, column, GLP_IV)
                glp_set_col_bnds(problem, column, GLP_DB, 0, model.upperBounds[index])
            case .continuous:
                glp_set_col_bnds(problem, column, GLP_DB, 0, model.upperBounds[index])
            }
            glp_set_obj_coef(problem, column, model.costs[index])
        }
        if !model.rows.isEmpty { glp_add_rows(problem, Int32(model.rows.count)) }
        var rowIndices: [Int32] = [0]
        var columnIndices: [Int32] = [0]
        var values: [Double] = [0]
        for (index, row) in model.rows.enumerated() {
            let rowNumber = Int32(index + 1)
            switch row.bound {
            case .equal(let value): glp_set_row_bnds(problem, rowNumber, GLP_FX, value, value)
            case .atMost(let value): glp_set_row_bnds(problem, rowNumber, GLP_UP, 0, value)
            case .atLeast(let value): glp_set_row_bnds(problem, rowNumber, GLP_LO, value, 0)
            }
            for (column, coefficient) in row.entries {
                precondition(column >= 0 && column < columnCount, "a row names a column out of range")
                rowIndices.append(rowNumber)
                columnIndices.append(Int32(column + 1))
                values.append(coefficient)
            }
        }
        let status = fulcrum_glpk_load_matrix(
            UnsafeMutableRawPointer(problem), Int32(values.count - 1), rowIndices, columnIndices, values)
        try check(status, "glp_load_matrix")
    }

    /// The LP relaxation's optimum and each row's dual value (GLPK's sign:
    /// the objective's rate of change as the row's bound grows), or nil when
    /// the time limit passed first.
    mutating func relaxation(timeLimitMilliseconds: Int) throws(FulcrumError) -> (objective: Double, rowDuals: [Double])? {
        var simplex = glp_smcp()
        glp_init_smcp(&simplex)
        simplex.msg_lev = GLP_MSG_OFF
        simplex.presolve = GLP_OFF
        simplex.meth = GLP_DUALP
        simplex.tm_lim = Int32(clamping: max(1, timeLimitMilliseconds))
        let lp = withUnsafePointer(to: &simplex) { fulcrum_glpk_simplex(UnsafeMutableRawPointer(problem), $0) }
        try check(lp, "glp_simplex")
        if lp == GLP_ETMLIM { return nil }
        guard lp == 0, glp_get_status(problem) == GLP_OPT else {
            throw FulcrumError(.solverFailure, "the LP ended with code \(lp), status \(glp_get_status(problem))")
        }
        let duals = (0..<Int(glp_get_num_rows(problem))).map { glp_get_row_dual(problem, Int32($0 + 1)) }
        return (glp_get_obj_val(problem), duals)
    }

    /// Solves the LP relaxation, then branches and bounds from `incumbent`
    /// (column values, index 0 unused; nil: none) within the time limit.
    /// Returns nil when the limit passes before any integer solution is known.
    mutating func solve(incumbent: [Double]?, timeLimitMilliseconds: Int) throws(FulcrumError) -> Outcome? {
        switch try solveOrProveInfeasible(incumbent: incumbent, timeLimitMilliseconds: timeLimitMilliseconds) {
        case .solved(let outcome): return outcome
        case .timedOut: return nil
        case .infeasible:
            // Backordering everything is always feasible: the planning model never gets here.
            throw FulcrumError(.solverFailure, "the model has no feasible plan")
        }
    }

    enum Result {
        case solved(Outcome)
        case timedOut
        /// No plan meets every row (only models with extra rows, such as explain's, can be).
        case infeasible
    }

    /// As `solve`, telling a model without any feasible plan from a time out.
    mutating func solveOrProveInfeasible(incumbent: [Double]?, timeLimitMilliseconds: Int) throws(FulcrumError) -> Result {
        var simplex = glp_smcp()
        glp_init_smcp(&simplex)
        simplex.msg_lev = GLP_MSG_OFF  // no terminal output
        simplex.presolve = GLP_OFF  // the basis must stay for glp_intopt
        // Costs are >= 0, so the starting basis (structurals at zero) is dual
        // feasible: the dual simplex starts there; primal only if it fails.
        simplex.meth = GLP_DUALP
        simplex.tm_lim = Int32(clamping: timeLimitMilliseconds)
        let started = DispatchTime.now().uptimeNanoseconds
        let lp = withUnsafePointer(to: &simplex) { fulcrum_glpk_simplex(UnsafeMutableRawPointer(problem), $0) }
        let spentMilliseconds = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        try check(lp, "glp_simplex")
        if lp == GLP_ETMLIM { return .timedOut }
        if lp == 0, glp_get_status(problem) == GLP_NOFEAS { return .infeasible }
        guard lp == 0, glp_get_status(problem) == GLP_OPT else {
            throw FulcrumError(.solverFailure, "the LP relaxation ended with code \(lp), status \(glp_get_status(problem))")
        }
        // An integral LP optimum is the MIP optimum: no search needed.
        let columnCount = Int(glp_get_num_cols(problem))
        let relaxed = [0.0] + (0..<columnCount).map { glp_get_col_prim(problem, Int32($0 + 1)) }
        if relaxed.allSatisfy({ abs($0 - $0.rounded()) <= 1e-9 }) {
            return .solved(Outcome(
                status: .optimal, columnValues: relaxed.map { $0.rounded() }, objective: glp_get_obj_val(problem), gap: 0))
        }
        let search = Search(incumbent: incumbent)
        var parameters = glp_iocp()
        glp_init_iocp(&parameters)
        parameters.msg_lev = GLP_MSG_OFF  // no terminal output
        parameters.presolve = GLP_OFF  // keep column numbers, so the incumbent can be offered
        // The search gets what the LP left of the limit; then "feasible" with the gap.
        parameters.tm_lim = Int32(clamping: max(1, timeLimitMilliseconds - spentMilliseconds))
        parameters.mip_gap = 0  // prove optimality
        parameters.cb_func = onSearchEvent
        parameters.cb_info = Unmanaged.passUnretained(search).toOpaque()
        let code = withExtendedLifetime(search) {
            withUnsafePointer(to: &parameters) { fulcrum_glpk_intopt(UnsafeMutableRawPointer(problem), $0) }
        }
        try check(code, "glp_intopt")
        let status = glp_mip_status(problem)
        guard status == GLP_OPT || status == GLP_FEAS else {
            if code == GLP_ETMLIM { return .timedOut }
            if status == GLP_NOFEAS { return .infeasible }
            throw FulcrumError(.solverFailure, "branch and bound ended with code \(code) and no integer solution")
        }
        let values = [0.0] + (0..<columnCount).map { glp_mip_col_val(problem, Int32($0 + 1)) }
        let optimal = status == GLP_OPT && code == 0
        return .solved(Outcome(
            status: optimal ? .optimal : .feasible, columnValues: values, objective: glp_mip_obj_val(problem),
            gap: optimal ? 0 : search.gap))
    }

    private mutating func check(_ code: Int32, _ call: String) throws(FulcrumError) {
        if code == FULCRUM_GLPK_ERROR {
            handle = nil  // freed with the environment
            throw FulcrumError(.solverFailure, "\(call) reported an internal GLPK error")
        }
    }
}

/// GLPK's branch-and-bound callback: offers the greedy incumbent once, and
/// keeps the current relative gap.
private let onSearchEvent: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { tree, info in
    guard let tree, let info else { return }
    let search = Unmanaged<AnyObject>.fromOpaque(info).takeUnretainedValue()
    GLPKProblem.handle(tree: tree, search: search)
}

extension GLPKProblem {
    fileprivate static func handle(tree: OpaquePointer, search object: AnyObject) {
        let search = object as! Search
        if glp_ios_reason(tree) == GLP_IHEUR && !search.offered, let incumbent = search.incumbent {
            search.offered = true
            precondition(incumbent.count == Int(glp_get_num_cols(glp_ios_get_prob(tree))) + 1, "incumbent size")
            _ = incumbent.withUnsafeBufferPointer { glp_ios_heur_sol(tree, $0.baseAddress) }
        }
        if glp_ios_best_node(tree) != 0 { search.gap = glp_ios_mip_gap(tree) }
    }
}
