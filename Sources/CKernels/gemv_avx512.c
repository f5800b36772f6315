/* AVX-512 GEMV kernels. These are memory-bound (each weight is used once), so the aim is only to
 * keep DRAM streaming: the rows of A are read one after another, so that a weight matrix (rows
 * contiguous) is one sequential stream per thread, which the hardware prefetchers follow at full
 * speed; four accumulators per row cover the FMA latency. (Four rows at a time with software
 * prefetch, the earlier design, made four short streams 2 - 4 KB apart: on an AMD EPYC with AVX-512
 * BF16 that ran at half the single-core read, 1.3x slower than this on two threads and 2x on one;
 * bench/kernels/run.sh bench gemv.)
 *
 * bf16 rows use the even/odd trick instead of a widening shuffle: a 512-bit load holds 32 bf16 as
 * 16 dwords; (dword << 16) is the even element as float32 and (dword & 0xFFFF0000) the odd one, two
 * cheap integer ops and no shuffle-port work. x is split once per call into its even and odd
 * elements (xe[i] = x[2i], xo[i] = x[2i+1]) so the products line up. */
#include "simd_avx512.h"

#if ELM_X86

/* y = alpha * A x + beta * y, f32 rows. */
T void elm_avx512_gemv_n(long m, long n, float alpha, const float *A, long lda, const float *x, float beta,
                         float *y, long incy) {
    const long n64 = n & ~63L;
    for (long i = 0; i < m; i++) {
        const float *a = A + i * lda;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        long j = 0;
        for (; j < n64; j += 64) {
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(x + j), s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(x + j + 16), s1);
            s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 32), _mm512_loadu_ps(x + j + 32), s2);
            s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 48), _mm512_loadu_ps(x + j + 48), s3);
        }
        for (; j < n; j += 16) {
            const __mmask16 mk = tail16(n - j);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a + j), _mm512_maskz_loadu_ps(mk, x + j), s0);
        }
        elm_put(y + i * incy, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))), alpha, beta);
    }
}

/* Splits x into xe (even) and xo (odd) halves, zero-padded to a whole number of 16-float vectors,
 * in thread-local scratch. Returns xe; xo = xe + *half. */
INL T float *split_even_odd(const float *x, long n, long *half) {
    const long h = ((n + 31) / 32) * 16;
    float *xe = elm_scratch(ELM_SCRATCH_GEMV, (size_t)(2 * h) * sizeof(float)), *xo = xe + h;
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
    for (long j = 0; j < n; j += 32) {
        const __m512 lo = _mm512_maskz_loadu_ps(tail16(n - j), x + j);
        const __m512 hi = _mm512_maskz_loadu_ps(tail16(n - j - 16), x + j + 16);
        _mm512_store_ps(xe + j / 2, _mm512_permutex2var_ps(lo, ie, hi));
        _mm512_store_ps(xo + j / 2, _mm512_permutex2var_ps(lo, io, hi));
    }
    *half = h;
    return xe;
}

/* s += even(v) * xe + odd(v) * xo for one 512-bit block of 32 bf16. */
#define BF16_STEP(v, e, o, s, t)                                                                         \
    do {                                                                                                \
        const __m512i v_ = (v);                                                                         \
        s = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v_, 16)), e, s);                      \
        t = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v_, hm)), o, t);                       \
    } while (0)

T void elm_avx512_gemv16_n(long m, long n, float alpha, const uint16_t *A, long lda, const float *x, float beta,
                           float *y, long incy) {
    long h;
    const float *xe = split_even_odd(x, n, &h), *xo = xe + h;
    const __m512i hm = _mm512_set1_epi32((int)0xFFFF0000u);
    const long n64 = n & ~63L;
    for (long i = 0; i < m; i++) {
        const uint16_t *a = A + i * lda;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, t0 = s0, t1 = s0;
        long j = 0;
        for (; j < n64; j += 64) {
            BF16_STEP(_mm512_loadu_si512(a + j), _mm512_load_ps(xe + j / 2), _mm512_load_ps(xo + j / 2), s0, t0);
            BF16_STEP(_mm512_loadu_si512(a + j + 32), _mm512_load_ps(xe + j / 2 + 16), _mm512_load_ps(xo + j / 2 + 16), s1, t1);
        }
        for (; j < n; j += 32)
            BF16_STEP(_mm512_maskz_loadu_epi16(tail32(n - j), a + j), _mm512_load_ps(xe + j / 2), _mm512_load_ps(xo + j / 2), s0, t0);
        elm_put(y + i * incy, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, t0), _mm512_add_ps(s1, t1))), alpha, beta);
    }
}

/* y = alpha * B^T x + beta * y over the rows of B: a column block of y's accumulators stays in L1
 * (NB floats) while four rows of B at a time stream through it, each row a contiguous run. */
#define NB 1024

INL T __m512 ld32(const float *p, long off, __mmask16 m) { return load16(0, p, off, m); }
INL T __m512 ld16(const uint16_t *p, long off, __mmask16 m) { return load16(1, p, off, m); }

#define GEMV_T_BODY(LOAD)                                                                                \
    float acc[NB] __attribute__((aligned(64)));                                                          \
    for (long j0 = 0; j0 < n; j0 += NB) {                                                               \
        const long nb = elm_min(NB, n - j0), nv = (nb + 15) / 16;                                         \
        const __mmask16 tm = tail16(nb - (nv - 1) * 16);                                                  \
        for (long v = 0; v < nv; v++) _mm512_store_ps(acc + 16 * v, _mm512_setzero_ps());                \
        long p = 0;                                                                                      \
        for (; p + 4 <= k; p += 4) {                                                                     \
            const long o0 = p * ldb + j0, o1 = o0 + ldb, o2 = o1 + ldb, o3 = o2 + ldb;                   \
            const __m512 x0 = _mm512_set1_ps(x[p]), x1 = _mm512_set1_ps(x[p + 1]);                        \
            const __m512 x2 = _mm512_set1_ps(x[p + 2]), x3 = _mm512_set1_ps(x[p + 3]);                    \
            for (long v = 0; v < nv; v++) {                                                              \
                const __mmask16 mk = v == nv - 1 ? tm : (__mmask16)0xFFFF;                                 \
                const long j = 16 * v;                                                                   \
                __m512 s = _mm512_load_ps(acc + j);                                                      \
                s = _mm512_fmadd_ps(x0, LOAD(B, o0 + j, mk), s);                                         \
                s = _mm512_fmadd_ps(x1, LOAD(B, o1 + j, mk), s);                                         \
                s = _mm512_fmadd_ps(x2, LOAD(B, o2 + j, mk), s);                                         \
                s = _mm512_fmadd_ps(x3, LOAD(B, o3 + j, mk), s);                                         \
                _mm512_store_ps(acc + j, s);                                                             \
            }                                                                                            \
        }                                                                                                \
        for (; p < k; p++) {                                                                             \
            const __m512 x0 = _mm512_set1_ps(x[p]);                                                      \
            for (long v = 0; v < nv; v++) {                                                              \
                const __mmask16 mk = v == nv - 1 ? tm : (__mmask16)0xFFFF;                                 \
                _mm512_store_ps(acc + 16 * v,                                                            \
                                _mm512_fmadd_ps(x0, LOAD(B, p * ldb + j0 + 16 * v, mk), _mm512_load_ps(acc + 16 * v))); \
            }                                                                                            \
        }                                                                                                \
        float *yb = y + j0 * incy;                                                                       \
        if (incy == 1) {                                                                                 \
            const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                          \
            for (long v = 0; v < nv; v++) {                                                              \
                const __mmask16 mk = v == nv - 1 ? tm : (__mmask16)0xFFFF;                                 \
                __m512 r = _mm512_mul_ps(va, _mm512_load_ps(acc + 16 * v));                               \
                if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, yb + 16 * v), r);     \
                _mm512_mask_storeu_ps(yb + 16 * v, mk, r);                                               \
            }                                                                                            \
        } else {                                                                                         \
            for (long j = 0; j < nb; j++) elm_put(yb + j * incy, acc[j], alpha, beta);                       \
        }                                                                                                \
    }

T void elm_avx512_gemv_t(long k, long n, float alpha, const float *B, long ldb, const float *x, float beta,
                         float *y, long incy) {
    GEMV_T_BODY(ld32)
}

T void elm_avx512_gemv16_t(long k, long n, float alpha, const uint16_t *B, long ldb, const float *x, float beta,
                           float *y, long incy) {
    GEMV_T_BODY(ld16)
}
#endif
