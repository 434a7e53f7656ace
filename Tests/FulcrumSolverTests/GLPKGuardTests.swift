import CGLPK
import CGLPKShim
import Testing

@Suite struct GLPKGuardTests {
    /// GLPK calls abort() on an internal error unless a hook takes over: the
    /// guarded call returns FULCRUM_GLPK_ERROR instead, and GLPK works again
    /// afterwards on a fresh environment.
    @Test func aGLPKErrorIsReturnedNotAnAbort() {
        glp_term_out(GLP_OFF)
        let broken = glp_create_prob()
        glp_add_rows(broken, 1)
        glp_add_cols(broken, 1)
        // The same (row, column) twice: glp_load_matrix reports an error.
        let rows: [Int32] = [0, 1, 1]
        let columns: [Int32] = [0, 1, 1]
        let values: [Double] = [0, 1, 2]
        #expect(fulcrum_glpk_load_matrix(UnsafeMutableRawPointer(broken), 2, rows, columns, values) == FULCRUM_GLPK_ERROR)
        // `broken` was freed with its environment; a new problem solves.
        glp_term_out(GLP_OFF)
        let fresh = glp_create_prob()
        defer { glp_delete_prob(fresh) }
        glp_add_cols(fresh, 1)
        glp_set_col_bnds(fresh, 1, GLP_DB, 1, 3)
        glp_set_obj_coef(fresh, 1, 2)
        var parameters = glp_smcp()
        glp_init_smcp(&parameters)
        parameters.msg_lev = GLP_MSG_OFF
        #expect(withUnsafePointer(to: &parameters) { fulcrum_glpk_simplex(UnsafeMutableRawPointer(fresh), $0) } == 0)
        #expect(glp_get_obj_val(fresh) == 2)
    }
}
