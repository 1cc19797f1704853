// CBLAS comes from OpenBLAS's header; Debian ships no LAPACKE header with libopenblas-dev,
// so the few Fortran LAPACK routines perturbot calls are declared here (all arguments by
// pointer, column-major, with gfortran's trailing hidden lengths of the character arguments).
#ifndef PERTURBOT_COPENBLAS_SHIM_H
#define PERTURBOT_COPENBLAS_SHIM_H

#include <cblas.h>
#include <stddef.h>

void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);

#endif
