/* AVX-512 GEMM microkernel and B packers (Skylake-SP class: two 512-bit FMA units).
 *
 * Microkernel: MR x NR = 12 x 32. Per depth step it loads two zmm of the B panel, broadcasts 12
 * scalars of A from memory (broadcast loads use the load ports, not the shuffle port) and issues 24
 * independent FMAs into 24 zmm accumulators: 24 chains cover the 4-cycle FMA latency on two ports
 * three times over, and 14 loads per 24 FMAs stay under the two load ports. The mr < 12 row edges
 * get their own instantiations (the count is a compile-time constant, so the accumulators stay in
 * registers); the nr < 32 column edges use masked loads/stores of C.
 *
 * Blocking: KC = 384 (an A micro-panel, 12 x 384 floats = 18 KB, stays in the 32 KB L1 while B
 * micro-panels stream past it), NC = 512 (a 384 x 512 B block = 768 KB stays in the 1 MB L2).
 * KC in {256, 384, 512} x NC in {256, 512, 768} measured within noise of each other on a Skylake-SP
 * VM; 384 x 512 was best or tied. A software prefetch of the B stream (ELM512_PFB) gave ~+15%.
 *
 * Packing B with transB (the weights stored [n,k]) transposes 16 x 16 blocks in registers; the
 * cost of packing is then mostly reading B from DRAM (~10% of the time at m = 256). */
#include "simd_avx512.h"

#if ELM_X86

#define MR 12
#define NR 32
#ifndef ELM512_KC
#define ELM512_KC 384
#endif
#ifndef ELM512_NC
#define ELM512_NC 512
#endif
#define KC ELM512_KC
/* Prefetch distance (depth steps) for the B micro-panel, which streams from L2 while the A panel
 * stays in L1: without it the kernel stalls on B loads (measured: ~70 -> ~84 GFLOP/s at 256x3072x1024). */
#ifndef ELM512_PFB
#define ELM512_PFB 8
#endif

/* The microkernel body; mr and kmajor are compile-time constants in every instantiation below. */
static inline __attribute__((always_inline)) ELM_TARGET_AVX512 void
ukr_body(const int mr, const int kmajor, long kc, const float *a, const float *b, float *c, long ldc,
         int nr, float alpha, float beta) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < mr; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
        /* Start pulling this tile of C in now; it is needed only after the depth loop. */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
    }
    for (long p = 0; p < kc; p++) {
#if ELM512_PFB
        _mm_prefetch((const char *)(b + (p + ELM512_PFB) * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + (p + ELM512_PFB) * NR + 16), _MM_HINT_T0);
#endif
        const __m512 b0 = _mm512_load_ps(b + p * NR);
        const __m512 b1 = _mm512_load_ps(b + p * NR + 16);
        for (int i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(kmajor ? a[p * MR + i] : a[i * KC + p]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
    }
    store_tile32(mr, c0, c1, c, ldc, nr, alpha, beta);
}

typedef void (*ukr_fixed)(long, const float *, const float *, float *, long, int, float, float);
#define UKR(M)                                                                                          \
    static ELM_TARGET_AVX512 void ukr_r##M(long kc, const float *a, const float *b, float *c, long ldc,  \
                                           int nr, float alpha, float beta) {                          \
        ukr_body(M, 0, kc, a, b, c, ldc, nr, alpha, beta);                                              \
    }                                                                                                   \
    static ELM_TARGET_AVX512 void ukr_k##M(long kc, const float *a, const float *b, float *c, long ldc,  \
                                           int nr, float alpha, float beta) {                          \
        ukr_body(M, 1, kc, a, b, c, ldc, nr, alpha, beta);                                              \
    }
UKR(1) UKR(2) UKR(3) UKR(4) UKR(5) UKR(6) UKR(7) UKR(8) UKR(9) UKR(10) UKR(11) UKR(12)
static const ukr_fixed ukr_table[2][MR + 1] = {
    {0, ukr_r1, ukr_r2, ukr_r3, ukr_r4, ukr_r5, ukr_r6, ukr_r7, ukr_r8, ukr_r9, ukr_r10, ukr_r11, ukr_r12},
    {0, ukr_k1, ukr_k2, ukr_k3, ukr_k4, ukr_k5, ukr_k6, ukr_k7, ukr_k8, ukr_k9, ukr_k10, ukr_k11, ukr_k12},
};

static void ukr(long kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, float alpha,
                float beta, int a_layout) {
    ukr_table[a_layout][mr](kc, a, b, c, ldc, nr, alpha, beta);
}

#define PFROWS 4

static inline __attribute__((always_inline)) ELM_TARGET_AVX512 void
packb_body(const int bf16, long kc, long nc, const void *B, long ldb, int trans, float *Bp) {
    if (!trans) {
        /* B stored [k,n]: read each row of the block once, left to right, scattering 32-float pieces
         * to the panels (the panels are in cache; the source may not be). */
        const long esz = bf16 ? 2 : 4;
        for (long p = 0; p < kc; p++) {
            for (long jr = 0; jr < nc; jr += NR) {
                float *dst = Bp + jr * kc + p * NR;
                const long w = nc - jr;
                /* The source is usually cold (weights in DRAM) and each row piece is short, too short
                 * for the hardware prefetcher to ramp up: fetch PFROWS rows ahead ourselves. */
                if (p + PFROWS < kc) _mm_prefetch((const char *)B + ((p + PFROWS) * ldb + jr) * esz, _MM_HINT_T0);
                _mm512_store_ps(dst, load16(bf16, B, p * ldb + jr, tail16(w)));
                _mm512_store_ps(dst + 16, load16(bf16, B, p * ldb + jr + 16, tail16(w - 16)));
            }
        }
        return;
    }
    /* B stored [n,k]: 16 rows x 16 depth steps at a time, transposed in registers. */
    for (long jr = 0; jr < nc; jr += NR) {
        float *panel = Bp + jr * kc;
        for (int h = 0; h < 2; h++) {
            const long j0 = jr + 16 * h;
            const long rows = nc - j0 >= 16 ? 16 : nc - j0 > 0 ? nc - j0 : 0;
            /* Prefetch the next 16 source rows at the same depth while transposing these, into L2: in
             * L1 they pushed out the rows being transposed (frozen step +3 %, prefill +2 %). */
            const long nrows = nc - j0 - 16 >= 16 ? 16 : nc - j0 - 16 > 0 ? nc - j0 - 16 : 0;
            for (long p = 0; p < kc; p += 16) {
                const long kk = elm_min(16, kc - p);
                const __mmask16 km = tail16(kk);
                for (long i = 0; i < nrows; i++)
                    _mm_prefetch((const char *)B + ((j0 + 16 + i) * ldb + p) * (bf16 ? 2 : 4), _MM_HINT_T1);
                __m512 r[16];
                for (int i = 0; i < 16; i++)
                    r[i] = i < rows ? load16(bf16, B, (j0 + i) * ldb + p, km) : _mm512_setzero_ps();
                transpose16(r);
                float *dst = panel + p * NR + 16 * h;
                for (int q = 0; q < 16; q++)
                    if (q < kk) _mm512_store_ps(dst + q * NR, r[q]);
            }
        }
    }
}

static ELM_TARGET_AVX512 void packb(long kc, long nc, const float *B, long ldb, int trans, float *Bp) {
    packb_body(0, kc, nc, B, ldb, trans, Bp);
}

static ELM_TARGET_AVX512 void packb16(long kc, long nc, const uint16_t *B, long ldb, int trans, float *Bp) {
    packb_body(1, kc, nc, B, ldb, trans, Bp);
}

void elm_avx512_gemv_n(long, long, float, const float *, long, const float *, float, float *, long);
void elm_avx512_gemv16_n(long, long, float, const uint16_t *, long, const float *, float, float *, long);
void elm_avx512_gemv_t(long, long, float, const float *, long, const float *, float, float *, long);
void elm_avx512_gemv16_t(long, long, float, const uint16_t *, long, const float *, float, float *, long);
void elm_avx512_rows_nt(long, long, long, float, const float *, long, const float *, long, float, float *, long);
void elm_avx512_rows16_nt(long, long, long, float, const float *, long, const uint16_t *, long, float, float *, long);

const elm_kernels elm_kernels_avx512 = {
    .isa = ELM_ISA_AVX512, .mr = MR, .nr = NR, .kc = KC, .mc = 3072, .nc = ELM512_NC,
    .ukr = ukr, .packb = packb, .packb16 = packb16,
    .gemv_n = elm_avx512_gemv_n, .gemv16_n = elm_avx512_gemv16_n,
    .gemv_t = elm_avx512_gemv_t, .gemv16_t = elm_avx512_gemv16_t,
    .rows_nt = elm_avx512_rows_nt, .rows16_nt = elm_avx512_rows16_nt,
};
#endif
