/* ExplicitLM's own float32 GEMM/GEMV kernels (x86-64: AVX-512, AVX2+FMA, portable C), with B in
 * float32 or bfloat16, and an opt-in bf16 compute mode on AVX-512 BF16 (elm_set_compute).
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

/* The arithmetic of products whose B is bfloat16 (the weights). ELM_COMPUTE_F32 (the default): B is
 * widened exactly and every product and sum is float32. ELM_COMPUTE_BF16: products with A stored
 * [m,k] that take the blocked path (m > 1 and n > 1, and not the few-rows kernel) round A to bfloat16
 * (nearest even, denormals to zero) and multiply bf16 pairs with float32 sums (AVX-512 BF16's
 * VDPBF16PS, twice the float32 FMA rate). It applies only while the AVX-512 kernels are active on a
 * CPU with AVX-512 BF16; elsewhere products stay float32. Set it before calling from several threads,
 * and not between elm_pack_a_shared and the products that use its packing. */
enum { ELM_COMPUTE_F32 = 0, ELM_COMPUTE_BF16 = 1 };
/* Whether this CPU (and OS) has AVX-512 BF16. */
int elm_host_bf16(void);
void elm_set_compute(int compute);
/* ELM_COMPUTE_BF16 only where it applies now (requested, host, active ISA). */
int elm_active_compute(void);

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
 * packed for the blocked GEMM (bf16b: for a product with bfloat16 B, packed as the compute mode
 * needs), in the calling thread's scratch (valid until its next call), or NULL when the product does
 * not take the blocked path (then call elm_sgemm for each block). Each block (columns c0..c1 of
 * op(B) and C) then runs elm_sgemm_packed_a or elm_sgemm_bf16b_packed_a with the same transA, m, k
 * and alpha. */
const void *elm_pack_a_shared(int bf16b, int transA, int transB, long m, long n, long k, float alpha, const float *A,
                              long lda);
void elm_sgemm_packed_a(int transA, int transB, long m, long n, long k, float alpha, const void *Ap,
                        const float *B, long ldb, float beta, float *C, long ldc);
void elm_sgemm_bf16b_packed_a(int transA, int transB, long m, long n, long k, float alpha, const void *Ap,
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
