/* ExplicitLM's own float32 GEMM/GEMV kernels (x86-64: AVX-512, AVX2+FMA, portable C).
 *
 * Every matrix is row-major. Every call is single-threaded: callers split the output over their own
 * threads (each call uses thread-local packing buffers, so calls on different threads never share
 * state). The instruction set is chosen at run time, so one binary runs on any x86-64 and only
 * executes AVX-512 where the CPU and OS support it. */
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

#include "elm_parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { ELM_ISA_PORTABLE = 0, ELM_ISA_AVX2 = 1, ELM_ISA_AVX512 = 2 };

/* The best level this CPU (and OS) supports. */
int elm_host_isa(void);
/* Choose a level, clamped to elm_host_isa(). Set it before calling from several threads. */
void elm_set_isa(int isa);
/* The level the kernels use now (elm_host_isa() unless elm_set_isa chose lower). */
int elm_active_isa(void);

/* C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C.
 * transA != 0: A is stored [k,m] (lda >= m), else [m,k] (lda >= k).
 * transB != 0: B is stored [n,k] (ldb >= k), else [k,n] (ldb >= n).
 * beta == 0 never reads C (it may hold NaN); alpha == 0 or k == 0 gives C = beta * C. */
/* Products of at most `rows` rows by a transposed B skip packing (the default; 0 always packs, a
 * negative value restores the default). For the correctness check and the benchmark. */
void elm_set_rows_max(long rows);

void elm_sgemm(int transA, int transB, long m, long n, long k, float alpha,
               const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc);

/* The same with B in bfloat16 (uint16_t bit patterns), widened exactly to float32 inside the
 * kernel; products and sums are float32. */
void elm_sgemm_bf16b(int transA, int transB, long m, long n, long k, float alpha,
                     const float *A, long lda, const uint16_t *B, long ldb, float beta, float *C, long ldc);

/* y[m] = alpha * A[m,n] x + beta * y, A row-major with leading dimension lda >= n.
 * beta == 0 never reads y. */
/* A product cut into column blocks (over threads) packs op(A) once: elm_pack_a_shared returns op(A)
 * packed for the blocked GEMM, in the calling thread's scratch (valid until its next call), or NULL
 * when the product does not take the blocked path (then call elm_sgemm for each block). Each block
 * (columns c0..c1 of op(B) and C) then runs elm_sgemm_packed_a with the same transA, m, k and alpha. */
const float *elm_pack_a_shared(int transA, int transB, long m, long n, long k, float alpha, const float *A, long lda);
void elm_sgemm_packed_a(int transA, int transB, long m, long n, long k, float alpha, const float *Ap,
                        const float *B, long ldb, float beta, float *C, long ldc);
void elm_sgemm_bf16b_packed_a(int transA, int transB, long m, long n, long k, float alpha, const float *Ap,
                              const uint16_t *B, long ldb, float beta, float *C, long ldc);

void elm_sgemv(long m, long n, float alpha, const float *A, long lda, const float *x, float beta, float *y);
void elm_sgemv_bf16(long m, long n, float alpha, const uint16_t *A, long lda, const float *x, float beta, float *y);

/* bfloat16 bits -> float32 (exact). */
static inline float elm_bf16_to_float(uint16_t h) {
    union { uint32_t u; float f; } v;
    v.u = (uint32_t)h << 16;
    return v.f;
}

#ifdef __cplusplus
}
#endif

#endif
