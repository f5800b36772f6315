/* AVX2 + FMA GEMM microkernel and B packers (Haswell and later, and AMD Zen).
 *
 * Microkernel: MR x NR = 6 x 16: 12 ymm accumulators (two FMA ports x 5-cycle latency needs >= 10
 * independent chains), two B loads and six A broadcast loads per depth step. Row edges get their own
 * instantiations; column edges go through maskload/maskstore of C.
 * Blocking: KC = 256 (A micro-panel 6 KB in L1), NC = 768 (B block 768 KB in L2). */
#include "simd_avx2.h"

#if ELM_X86

#define MR 6
#define NR 16
#define KC 256
#define NC 768


INL T void ukr_body(const int mr, const int kmajor, long kc, const float *a, const float *b, float *c, long ldc,
                    int nr, float alpha, float beta) {
    __m256 c0[MR], c1[MR];
    for (int i = 0; i < mr; i++) {
        c0[i] = _mm256_setzero_ps();
        c1[i] = _mm256_setzero_ps();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
    for (long p = 0; p < kc; p++) {
        /* The B micro-panel streams from L2: fetch it ahead (one 64-byte line per depth step). */
        _mm_prefetch((const char *)(b + (p + 8) * NR), _MM_HINT_T0);
        const __m256 b0 = _mm256_load_ps(b + p * NR), b1 = _mm256_load_ps(b + p * NR + 8);
        for (int i = 0; i < mr; i++) {
            const __m256 ai = _mm256_broadcast_ss(kmajor ? a + p * MR + i : a + i * KC + p);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (nr == NR) {
        for (int i = 0; i < mr; i++) {
            float *r = c + i * ldc;
            __m256 r0 = _mm256_mul_ps(va, c0[i]), r1 = _mm256_mul_ps(va, c1[i]);
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(r), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(r + 8), r1);
            }
            _mm256_storeu_ps(r, r0);
            _mm256_storeu_ps(r + 8, r1);
        }
        return;
    }
    const __m256i m0 = tail8(nr), m1 = tail8(nr - 8);
    for (int i = 0; i < mr; i++) {
        float *r = c + i * ldc;
        __m256 r0 = _mm256_mul_ps(va, c0[i]), r1 = _mm256_mul_ps(va, c1[i]);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(r, m0), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(r + 8, m1), r1);
        }
        _mm256_maskstore_ps(r, m0, r0);
        _mm256_maskstore_ps(r + 8, m1, r1);
    }
}

typedef void (*ukr_fixed)(long, const float *, const float *, float *, long, int, float, float);
#define UKR(M)                                                                                          \
    static T void ukr_r##M(long kc, const float *a, const float *b, float *c, long ldc, int nr, float alpha, \
                           float beta) {                                                               \
        ukr_body(M, 0, kc, a, b, c, ldc, nr, alpha, beta);                                              \
    }                                                                                                   \
    static T void ukr_k##M(long kc, const float *a, const float *b, float *c, long ldc, int nr, float alpha, \
                           float beta) {                                                               \
        ukr_body(M, 1, kc, a, b, c, ldc, nr, alpha, beta);                                              \
    }
UKR(1) UKR(2) UKR(3) UKR(4) UKR(5) UKR(6)
static const ukr_fixed ukr_table[2][MR + 1] = {
    {0, ukr_r1, ukr_r2, ukr_r3, ukr_r4, ukr_r5, ukr_r6},
    {0, ukr_k1, ukr_k2, ukr_k3, ukr_k4, ukr_k5, ukr_k6},
};

static void ukr(long kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, float alpha,
                float beta, int a_layout) {
    ukr_table[a_layout][mr](kc, a, b, c, ldc, nr, alpha, beta);
}

/* 8 x 8 in-register transpose: afterwards r[q] holds column q. */
INL T void transpose8(__m256 r[8]) {
    __m256 t[8], s[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 2; g++) {
        s[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        s[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        s[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        s[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
    }
}

INL T void packb_body(const int bf16, long kc, long nc, const void *B, long ldb, int trans, float *Bp) {
    if (!trans) {
        for (long p = 0; p < kc; p++) {
            for (long jr = 0; jr < nc; jr += NR) {
                float *dst = Bp + jr * kc + p * NR;
                const long w = nc - jr;
                _mm256_store_ps(dst, load8(bf16, B, p * ldb + jr, w));
                _mm256_store_ps(dst + 8, w > 8 ? load8(bf16, B, p * ldb + jr + 8, w - 8) : _mm256_setzero_ps());
            }
        }
        return;
    }
    for (long jr = 0; jr < nc; jr += NR) {
        float *panel = Bp + jr * kc;
        for (int h = 0; h < 2; h++) {
            const long j0 = jr + 8 * h;
            const long rows = nc - j0 >= 8 ? 8 : nc - j0 > 0 ? nc - j0 : 0;
            for (long p = 0; p < kc; p += 8) {
                const long kk = elm_min(8, kc - p);
                __m256 r[8];
                for (int i = 0; i < 8; i++) r[i] = i < rows ? load8(bf16, B, (j0 + i) * ldb + p, kk) : _mm256_setzero_ps();
                transpose8(r);
                float *dst = panel + p * NR + 8 * h;
                for (int q = 0; q < 8; q++)
                    if (q < kk) _mm256_store_ps(dst + q * NR, r[q]);
            }
        }
    }
}

static T void packb(long kc, long nc, const float *B, long ldb, int trans, float *Bp) {
    packb_body(0, kc, nc, B, ldb, trans, Bp);
}
static T void packb16(long kc, long nc, const uint16_t *B, long ldb, int trans, float *Bp) {
    packb_body(1, kc, nc, B, ldb, trans, Bp);
}

void elm_avx2_gemv_n(long, long, float, const float *, long, const float *, float, float *, long);
void elm_avx2_gemv16_n(long, long, float, const uint16_t *, long, const float *, float, float *, long);
void elm_avx2_gemv_t(long, long, float, const float *, long, const float *, float, float *, long);
void elm_avx2_gemv16_t(long, long, float, const uint16_t *, long, const float *, float, float *, long);

const elm_kernels elm_kernels_avx2 = {
    .isa = ELM_ISA_AVX2, .mr = MR, .nr = NR, .kc = KC, .mc = 3072, .nc = NC,
    .ukr = ukr, .packb = packb, .packb16 = packb16,
    .gemv_n = elm_avx2_gemv_n, .gemv16_n = elm_avx2_gemv16_n,
    .gemv_t = elm_avx2_gemv_t, .gemv16_t = elm_avx2_gemv16_t,
};
#endif
