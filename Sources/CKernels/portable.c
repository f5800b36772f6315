/* Plain C kernels: no intrinsics, so they build and run anywhere (the compiler may auto-vectorise
 * them for the baseline ISA). They run on CPUs without AVX2+FMA and in tests that force
 * ELM_ISA_PORTABLE, and they share the blocked driver, so those tests also cover its packing and
 * edge logic with a different tile shape (MR x NR = 4 x 16). */
#include "internal.h"

#define MR 4
#define NR 16
#define KC 256
#define NC 512

static inline __attribute__((always_inline)) void ukr_body(const int mr, const int kmajor, long kc, const float *a,
                                                           const float *b, float *c, long ldc, int nr,
                                                           float alpha, float beta) {
    float acc[MR][NR] = {{0}};
    for (long p = 0; p < kc; p++) {
        for (int i = 0; i < mr; i++) {
            const float ai = kmajor ? a[p * MR + i] : a[i * KC + p];
            for (int j = 0; j < NR; j++) acc[i][j] += ai * b[p * NR + j];
        }
    }
    for (int i = 0; i < mr; i++) {
        float *r = c + i * ldc;
        for (int j = 0; j < nr; j++) r[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * r[j];
    }
}

typedef void (*ukr_fixed)(long, const float *, const float *, float *, long, int, float, float);
#define UKR(M)                                                                                          \
    static void ukr_r##M(long kc, const float *a, const float *b, float *c, long ldc, int nr, float alpha,   \
                         float beta) {                                                                  \
        ukr_body(M, 0, kc, a, b, c, ldc, nr, alpha, beta);                                              \
    }                                                                                                   \
    static void ukr_k##M(long kc, const float *a, const float *b, float *c, long ldc, int nr, float alpha,   \
                         float beta) {                                                                  \
        ukr_body(M, 1, kc, a, b, c, ldc, nr, alpha, beta);                                              \
    }
UKR(1) UKR(2) UKR(3) UKR(4)
static const ukr_fixed ukr_table[2][MR + 1] = {
    {0, ukr_r1, ukr_r2, ukr_r3, ukr_r4},
    {0, ukr_k1, ukr_k2, ukr_k3, ukr_k4},
};

static void ukr(long kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, float alpha,
                float beta, int a_layout) {
    ukr_table[a_layout][mr](kc, a, b, c, ldc, nr, alpha, beta);
}

static inline float bf16(uint16_t h) { return elm_bf16_to_float(h); }

/* Bp panel jr/NR, row p, column j = op(B)[p, jr + j], zero past nc. */
#define PACKB_BODY(CONV)                                                                                 \
    for (long jr = 0; jr < nc; jr += NR) {                                                              \
        float *panel = Bp + jr * kc;                                                                     \
        const long w = elm_min(NR, nc - jr);                                                             \
        for (long p = 0; p < kc; p++) {                                                                  \
            for (long j = 0; j < w; j++) panel[p * NR + j] = CONV(trans ? B[(jr + j) * ldb + p] : B[p * ldb + jr + j]); \
            for (long j = w; j < NR; j++) panel[p * NR + j] = 0.0f;                                      \
        }                                                                                                \
    }
#define SAME(v) (v)

static void packb(long kc, long nc, const float *B, long ldb, int trans, float *Bp) { PACKB_BODY(SAME) }
static void packb16(long kc, long nc, const uint16_t *B, long ldb, int trans, float *Bp) { PACKB_BODY(bf16) }


/* Dot products with 8 partial sums so the loop can vectorise without -ffast-math. */
#define GEMV_N_BODY(CONV)                                                                                \
    for (long i = 0; i < m; i++) {                                                                      \
        float s[8] = {0};                                                                                \
        long j = 0;                                                                                      \
        for (; j + 8 <= n; j += 8)                                                                       \
            for (int l = 0; l < 8; l++) s[l] += CONV(A[i * lda + j + l]) * x[j + l];                     \
        for (; j < n; j++) s[0] += CONV(A[i * lda + j]) * x[j];                                          \
        elm_put(y + i * incy, ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])), alpha, beta); \
    }

static void gemv_n(long m, long n, float alpha, const float *A, long lda, const float *x, float beta, float *y,
                   long incy) {
    GEMV_N_BODY(SAME)
}
static void gemv16_n(long m, long n, float alpha, const uint16_t *A, long lda, const float *x, float beta,
                     float *y, long incy) {
    GEMV_N_BODY(bf16)
}

#define NB 512
#define GEMV_T_BODY(CONV)                                                                                \
    float acc[NB];                                                                                       \
    for (long j0 = 0; j0 < n; j0 += NB) {                                                               \
        const long nb = elm_min(NB, n - j0);                                                             \
        for (long j = 0; j < nb; j++) acc[j] = 0.0f;                                                     \
        for (long p = 0; p < k; p++) {                                                                   \
            const float xp = x[p];                                                                       \
            for (long j = 0; j < nb; j++) acc[j] += xp * CONV(B[p * ldb + j0 + j]);                     \
        }                                                                                                \
        for (long j = 0; j < nb; j++) elm_put(y + (j0 + j) * incy, acc[j], alpha, beta);                    \
    }

static void gemv_t(long k, long n, float alpha, const float *B, long ldb, const float *x, float beta, float *y,
                   long incy) {
    GEMV_T_BODY(SAME)
}
static void gemv16_t(long k, long n, float alpha, const uint16_t *B, long ldb, const float *x, float beta,
                     float *y, long incy) {
    GEMV_T_BODY(bf16)
}

const elm_kernels elm_kernels_portable = {
    .isa = ELM_ISA_PORTABLE, .mr = MR, .nr = NR, .kc = KC, .mc = 3072, .nc = NC,
    .ukr = ukr, .packb = packb, .packb16 = packb16,
    .gemv_n = gemv_n, .gemv16_n = gemv16_n, .gemv_t = gemv_t, .gemv16_t = gemv16_t,
};
