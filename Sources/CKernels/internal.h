/* Private to CKernels: the per-ISA kernel table that the portable driver (driver.c) and the public
 * entry points (dispatch.c) call through. Not part of the Swift-visible API. */
#ifndef ELM_INTERNAL_H
#define ELM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define ELM_X86 1
#define ELM_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define ELM_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#else
#define ELM_X86 0
#endif

/* How a packed A micro-panel (mr <= MR rows of op(A), kc columns) is laid out. Both are plain copies
 * of the source, so A never needs transposing:
 *   ELM_A_ROWS:   row i at a + i*KC (KC = the table's kc, a compile-time constant in each kernel),
 *                 used when A is stored [m,k];
 *   ELM_A_KMAJOR: element (i, p) at a + p*MR + i, used when A is stored [k,m]. */
enum { ELM_A_ROWS = 0, ELM_A_KMAJOR = 1 };

/* C[mr,nr] (ldc) = alpha * Apanel * Bpanel + beta * C, with beta == 0 not reading C.
 * Bpanel is kc x NR floats, row p at b + p*NR, zero-padded past nr. */
typedef void (*elm_ukr_fn)(long kc, const float *a, const float *b, float *c, long ldc,
                           int mr, int nr, float alpha, float beta, int a_layout);

/* Pack the kc x nc block of op(B) whose first element is B (already offset by the caller) into
 * ceil(nc/NR) panels of kc x NR floats each, zero-padded to NR columns. `trans`: B stored [n,k]. */
typedef void (*elm_packb_fn)(long kc, long nc, const float *B, long ldb, int trans, float *Bp);
typedef void (*elm_packb16_fn)(long kc, long nc, const uint16_t *B, long ldb, int trans, float *Bp);

/* y[i*incy] = alpha * sum_j A[i*lda + j] x[j] + beta * y[i*incy], i < m (beta == 0: y not read). */
typedef void (*elm_gemv_n_fn)(long m, long n, float alpha, const float *A, long lda, const float *x,
                              float beta, float *y, long incy);
typedef void (*elm_gemv16_n_fn)(long m, long n, float alpha, const uint16_t *A, long lda, const float *x,
                                float beta, float *y, long incy);
/* y[j*incy] = alpha * sum_p B[p*ldb + j] x[p] + beta * y[j*incy], j < n, p < k: a GEMV over the
 * rows of B (y = B^T x), vectorised along n. */
typedef void (*elm_gemv_t_fn)(long k, long n, float alpha, const float *B, long ldb, const float *x,
                              float beta, float *y, long incy);
typedef void (*elm_gemv16_t_fn)(long k, long n, float alpha, const uint16_t *B, long ldb, const float *x,
                                float beta, float *y, long incy);

/* C[i*ldc + j] = alpha * sum_p A[i*lda + p] B[j*ldb + p] + beta * C (beta == 0: C not read), for a
 * few rows of A (m <= ELM_ROWS_MAX) by B stored [n,k]: no packing (rows_avx512.c). */
typedef void (*elm_rows_nt_fn)(long m, long n, long k, float alpha, const float *A, long lda, const float *B,
                               long ldb, float beta, float *C, long ldc);
typedef void (*elm_rows16_nt_fn)(long m, long n, long k, float alpha, const float *A, long lda, const uint16_t *B,
                                 long ldb, float beta, float *C, long ldc);
/* Up to this many rows, rows_nt beats packing B (bench/kernels/run.sh bench rows, one thread: 2-2.5x
 * at 2-4 rows, 1.2-1.5x at 24; even with f32 at 32). */
enum { ELM_ROWS_MAX = 24 };

typedef struct elm_kernels {
    int isa;
    int mr, nr;      /* microkernel tile */
    long kc, mc, nc; /* cache blocking: kc = depth (and ELM_A_ROWS stride), mc x kc of A, kc x nc of B */
    elm_ukr_fn ukr;
    elm_packb_fn packb;
    elm_packb16_fn packb16;
    elm_gemv_n_fn gemv_n;
    elm_gemv16_n_fn gemv16_n;
    elm_gemv_t_fn gemv_t;
    elm_gemv16_t_fn gemv16_t;
    elm_rows_nt_fn rows_nt;     /* optional (NULL: the blocked GEMM) */
    elm_rows16_nt_fn rows16_nt;
} elm_kernels;

extern const elm_kernels elm_kernels_portable;
#if ELM_X86
extern const elm_kernels elm_kernels_avx2;
extern const elm_kernels elm_kernels_avx512;
#endif

/* The blocked (Goto/BLIS) GEMM over any kernel table; B is float32 or, with bf16b, bfloat16.
 * Apacked: op(A) already packed by elm_pack_a_all (m <= the table's mc), or NULL to pack here. */
void elm_gemm_blocked(const elm_kernels *K, int transA, int transB, int bf16b, long m, long n, long k,
                      float alpha, const float *A, long lda, const float *Apacked, const void *B, long ldb,
                      float beta, float *C, long ldc);
/* All of op(A) [m,k] packed for elm_gemm_blocked, depth block after depth block. */
size_t elm_packed_a_floats(const elm_kernels *K, long m, long k);
void elm_pack_a_all(const elm_kernels *K, int transA, long m, long k, const float *A, long lda, float *Ap);

/* bf16 compute (sgemm_bf16dot_avx512.c, AVX-512 BF16 only): C = alpha * bf16(A) op(B) + beta * C
 * for A stored [m,k] and B bfloat16. Apacked: A packed by elm_bf16dot_pack_a_all (m <= ELM_BF16DOT_MC),
 * or NULL to pack here. */
enum { ELM_BF16DOT_MC = 3072 };
size_t elm_bf16dot_packed_a_bytes(long m, long k);
void elm_bf16dot_pack_a_all(long m, long k, const float *A, long lda, uint16_t *Ap);
void elm_bf16dot_gemm(int transB, long m, long n, long k, float alpha, const float *A, long lda, const uint16_t *Apacked,
                      const uint16_t *B, long ldb, float beta, float *C, long ldc);

/* Thread-local, 64-byte-aligned scratch that grows as needed and is freed when the thread exits.
 * Slots are independent; a pointer stays valid until the same slot is asked for more bytes. */
enum { ELM_SCRATCH_A = 0, ELM_SCRATCH_B = 1, ELM_SCRATCH_VEC = 2, ELM_SCRATCH_GEMV = 3, ELM_SCRATCH_SHARED_A = 4, ELM_SCRATCH_SLOTS = 5 };
void *elm_scratch(int slot, size_t bytes);

static inline long elm_min(long a, long b) { return a < b ? a : b; }

/* *y = alpha * v + beta * *y; beta == 0 does not read *y (it may be NaN). */
static inline void elm_put(float *y, float v, float alpha, float beta) { *y = beta == 0.0f ? alpha * v : alpha * v + beta * *y; }

#endif
