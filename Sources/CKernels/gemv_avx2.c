/* AVX2 + FMA GEMV kernels: the same shapes as gemv_avx512.c with 256-bit vectors (rows one after
 * another, one sequential stream; bf16 rows via the even/odd trick on 16 bf16 per load; y = B^T x
 * through an L1 block of accumulators). Tails are handled with maskload (f32) or a zero-padded copy
 * (bf16). */
#include "simd_avx2.h"

#if ELM_X86

INL T float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

T void elm_avx2_gemv_n(long m, long n, float alpha, const float *A, long lda, const float *x, float beta,
                       float *y, long incy) {
    const long n32 = n & ~31L;
    for (long i = 0; i < m; i++) {
        const float *a = A + i * lda;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        long j = 0;
        for (; j < n32; j += 32) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(x + j), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(x + j + 8), s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(x + j + 16), s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(x + j + 24), s3);
        }
        for (; j < n; j += 8) {
            const __m256i mk = tail8(n - j);
            s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + j, mk), _mm256_maskload_ps(x + j, mk), s0);
        }
        elm_put(y + i * incy, hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))), alpha, beta);
    }
}

/* xe[i] = x[2i], xo[i] = x[2i+1], zero-padded to whole 8-float vectors (16 bf16 per load). */
INL T float *split_even_odd(const float *x, long n, long *half) {
    const long h = ((n + 15) / 16) * 8;
    float *xe = elm_scratch(ELM_SCRATCH_GEMV, (size_t)(2 * h) * sizeof(float)), *xo = xe + h;
    for (long i = 0; i < h; i++) {
        xe[i] = 2 * i < n ? x[2 * i] : 0.0f;
        xo[i] = 2 * i + 1 < n ? x[2 * i + 1] : 0.0f;
    }
    *half = h;
    return xe;
}

#define BF16_STEP(v, e, o, s, t)                                                                         \
    do {                                                                                                \
        const __m256i v_ = (v);                                                                         \
        s = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v_, 16)), e, s);                      \
        t = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v_, hm)), o, t);                       \
    } while (0)

/* 16 bf16 from p, of which only the first w (< 16) exist: a zero-padded copy. */
INL T __m256i load_tail16(const uint16_t *p, long w) {
    uint16_t tmp[16] = {0};
    for (long i = 0; i < w; i++) tmp[i] = p[i];
    return _mm256_loadu_si256((const __m256i *)tmp);
}

T void elm_avx2_gemv16_n(long m, long n, float alpha, const uint16_t *A, long lda, const float *x, float beta,
                         float *y, long incy) {
    long h;
    const float *xe = split_even_odd(x, n, &h), *xo = xe + h;
    const __m256i hm = _mm256_set1_epi32((int)0xFFFF0000u);
    const long n32 = n & ~31L, n16 = n & ~15L, tw = n - n16;
    for (long i = 0; i < m; i++) {
        const uint16_t *a = A + i * lda;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, t0 = s0, t1 = s0;
        long j = 0;
        for (; j < n32; j += 32) {
            BF16_STEP(_mm256_loadu_si256((const __m256i *)(a + j)), _mm256_load_ps(xe + j / 2), _mm256_load_ps(xo + j / 2), s0, t0);
            BF16_STEP(_mm256_loadu_si256((const __m256i *)(a + j + 16)), _mm256_load_ps(xe + j / 2 + 8),
                      _mm256_load_ps(xo + j / 2 + 8), s1, t1);
        }
        for (; j < n16; j += 16)
            BF16_STEP(_mm256_loadu_si256((const __m256i *)(a + j)), _mm256_load_ps(xe + j / 2), _mm256_load_ps(xo + j / 2), s0, t0);
        if (tw) BF16_STEP(load_tail16(a + j, tw), _mm256_load_ps(xe + j / 2), _mm256_load_ps(xo + j / 2), s0, t0);
        elm_put(y + i * incy, hsum(_mm256_add_ps(_mm256_add_ps(s0, t0), _mm256_add_ps(s1, t1))), alpha, beta);
    }
}

#define NB 1024

INL T __m256 ld32(const float *p, long off, long w) { return load8(0, p, off, w); }
INL T __m256 ld16(const uint16_t *p, long off, long w) { return load8(1, p, off, w); }

/* y = alpha * B^T x + beta * y: an L1 block of NB accumulators, four rows of B per pass. */
#define GEMV_T_BODY(LOAD)                                                                                \
    float acc[NB] __attribute__((aligned(32)));                                                          \
    for (long j0 = 0; j0 < n; j0 += NB) {                                                               \
        const long nb = elm_min(NB, n - j0), nv = (nb + 7) / 8;                                           \
        for (long v = 0; v < nv; v++) _mm256_store_ps(acc + 8 * v, _mm256_setzero_ps());                 \
        long p = 0;                                                                                      \
        for (; p + 4 <= k; p += 4) {                                                                     \
            const long o0 = p * ldb + j0, o1 = o0 + ldb, o2 = o1 + ldb, o3 = o2 + ldb;                   \
            const __m256 x0 = _mm256_set1_ps(x[p]), x1 = _mm256_set1_ps(x[p + 1]);                        \
            const __m256 x2 = _mm256_set1_ps(x[p + 2]), x3 = _mm256_set1_ps(x[p + 3]);                    \
            for (long v = 0; v < nv; v++) {                                                              \
                const long j = 8 * v, w = nb - j;                                                        \
                __m256 s = _mm256_load_ps(acc + j);                                                      \
                s = _mm256_fmadd_ps(x0, LOAD(B, o0 + j, w), s);                                          \
                s = _mm256_fmadd_ps(x1, LOAD(B, o1 + j, w), s);                                          \
                s = _mm256_fmadd_ps(x2, LOAD(B, o2 + j, w), s);                                          \
                s = _mm256_fmadd_ps(x3, LOAD(B, o3 + j, w), s);                                          \
                _mm256_store_ps(acc + j, s);                                                             \
            }                                                                                            \
        }                                                                                                \
        for (; p < k; p++) {                                                                             \
            const __m256 x0 = _mm256_set1_ps(x[p]);                                                      \
            for (long v = 0; v < nv; v++)                                                                \
                _mm256_store_ps(acc + 8 * v, _mm256_fmadd_ps(x0, LOAD(B, p * ldb + j0 + 8 * v, nb - 8 * v), \
                                                             _mm256_load_ps(acc + 8 * v)));              \
        }                                                                                                \
        float *yb = y + j0 * incy;                                                                       \
        for (long j = 0; j < nb; j++) elm_put(yb + j * incy, acc[j], alpha, beta);                           \
    }

T void elm_avx2_gemv_t(long k, long n, float alpha, const float *B, long ldb, const float *x, float beta,
                       float *y, long incy) {
    GEMV_T_BODY(ld32)
}

T void elm_avx2_gemv16_t(long k, long n, float alpha, const uint16_t *B, long ldb, const float *x, float beta,
                         float *y, long incy) {
    GEMV_T_BODY(ld16)
}
#endif
