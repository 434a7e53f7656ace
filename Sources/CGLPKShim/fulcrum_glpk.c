#include "fulcrum_glpk.h"

#include <glpk.h>
#include <setjmp.h>

/* The jump target of the innermost guarded call on this thread. */
static _Thread_local jmp_buf *guard;

static void on_glpk_error(void *info) {
    (void)info;
    longjmp(*guard, 1);
}

/* Runs `call` with the error hook installed. GLPK leaves its environment
   unusable after an error, so it is freed; the next GLPK call makes a new one. */
#define GUARDED(call)                                   \
    do {                                                \
        jmp_buf here;                                   \
        jmp_buf *outer = guard;                         \
        guard = &here;                                  \
        if (setjmp(here)) {                             \
            guard = outer;                              \
            glp_error_hook(NULL, NULL);                 \
            glp_free_env();                             \
            return FULCRUM_GLPK_ERROR;                  \
        }                                               \
        glp_error_hook(on_glpk_error, NULL);            \
        int result = (call);                            \
        glp_error_hook(NULL, NULL);                     \
        guard = outer;                                  \
        return result;                                  \
    } while (0)

static int load_matrix(void *problem, int count, const int *rows, const int *columns, const double *values) {
    glp_load_matrix((glp_prob *)problem, count, rows, columns, values);
    return 0;
}

int fulcrum_glpk_load_matrix(void *problem, int count, const int *rows, const int *columns, const double *values) {
    GUARDED(load_matrix(problem, count, rows, columns, values));
}

int fulcrum_glpk_simplex(void *problem, const void *parameters) {
    GUARDED(glp_simplex((glp_prob *)problem, (const glp_smcp *)parameters));
}

int fulcrum_glpk_intopt(void *problem, const void *parameters) {
    GUARDED(glp_intopt((glp_prob *)problem, (const glp_iocp *)parameters));
}
