#ifndef FULCRUM_GLPK_H
#define FULCRUM_GLPK_H

/* GLPK calls guarded against GLPK's own error path, which would otherwise
   call abort(): an error hook longjmps back here, the thread's GLPK
   environment (and every problem in it) is freed, and the call returns
   FULCRUM_GLPK_ERROR. Problems are passed as void * so that this module does
   not re-declare glpk.h's types beside the CGLPK module. */

#define FULCRUM_GLPK_ERROR (-1)

int fulcrum_glpk_load_matrix(void *problem, int count, const int *rows, const int *columns, const double *values);
int fulcrum_glpk_simplex(void *problem, const void *parameters);
int fulcrum_glpk_intopt(void *problem, const void *parameters);

#endif
