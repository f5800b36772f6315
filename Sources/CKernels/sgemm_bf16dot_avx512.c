/* bf16 compute (AVX-512 BF16): C = alpha * bf16(A) * op(B) + beta * C for B in bfloat16 (the
 * weights), A (the activations, stored [m,k]) rounded to bfloat16 while packing. VDPBF16PS
 * multiplies two bf16 pairs and adds both products to a float32 lane, so one instruction does twice
 * the multiply-adds of a float32 FMA; products of two bf16 are exact in float32 and sums are float32.
 * The only extra error against float32 compute is rounding A to 8 significant bits (relative 2^-9),
 * with denormal inputs read as zero (the instructions' fixed DAZ/FTZ, round to nearest even).
 *
 * Same blocking as the float32 AVX-512 kernel (sgemm_avx512.c), on depth *pairs*: a packed row of
 * A holds KC bf16 (KC / 2 pairs), a B micro-panel holds, for each pair of depth steps, 32 columns as
 * 32 dwords (B[p][j] in the low half, B[p+1][j] in the high half), so the microkernel broadcasts one
 * dword of A per row and issues 24 VDPBF16PS per two loads of B. An odd depth is padded with a zero
 * pair half. KC = 512 bf16 keeps the A panel (12 x 1 KB) in L1 and the 512 x 512 B block (512 KB)
 * in L2, the same bytes per block as the float32 kernel's 384 x 512 plus a deeper block. */
#include "simd_avx512.h"

#if ELM_X86

#define TB __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma")))
#define MR 12
#define NR 32
#define KC 512 /* bf16 elements of depth per block (even) */
#define NC 512
#define PFB 8 /* prefetch distance of the B stream, in depth pairs */

/* Packed A is written as bf16 and read as dwords (depth pairs). */
typedef uint32_t __attribute__((may_alias)) pair_t;

static long round_up(long x, long to) { return (x + to - 1) / to * to; }

size_t elm_bf16dot_packed_a_bytes(long m, long k) {
    return (size_t)round_up(m, MR) * KC * (size_t)((k + KC - 1) / KC) * sizeof(uint16_t);
}

/* kc (<= KC) columns of m rows of A to bf16, row r at Ap + r * KC, zero-padded to an even length. */
static TB void pack_a(long m, long kc, const float *A, long lda, uint16_t *Ap) {
    const long kcp = round_up(kc, 2);
    for (long r = 0; r < m; r++) {
        const float *src = A + r * lda;
        uint16_t *dst = Ap + r * KC;
        for (long p = 0; p < kc; p += 32) {
            const __m512 lo = _mm512_maskz_loadu_ps(tail16(kc - p), src + p);
            const __m512 hi = _mm512_maskz_loadu_ps(tail16(kc - p - 16), src + p + 16);
            _mm512_mask_storeu_epi16(dst + p, tail32(kcp - p), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
    }
}

void elm_bf16dot_pack_a_all(long m, long k, const float *A, long lda, uint16_t *Ap) {
    const long mcap = round_up(m, MR);
    for (long pc = 0; pc < k; pc += KC) pack_a(m, elm_min(KC, k - pc), A + pc, lda, Ap + (pc / KC) * mcap * KC);
}

/* The kc x nc block of op(B) (B already offset) as ceil(nc / NR) panels of kcp / 2 x NR dwords. */
static TB void pack_b(int trans, long kc, long nc, const uint16_t *B, long ldb, uint32_t *Bp) {
    const long pairs = round_up(kc, 2) / 2;
    if (!trans) {
        /* B stored [k,n]: rows p and p + 1, each widened to dwords, the second shifted up. */
        for (long q = 0; q < pairs; q++) {
            const uint16_t *r0 = B + 2 * q * ldb, *r1 = r0 + ldb;
            const int has_r1 = 2 * q + 1 < kc;
            for (long j0 = 0; j0 < nc; j0 += 16) {
                const __mmask16 m = tail16(nc - j0);
                const __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r0 + j0));
                const __m512i hi = has_r1 ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r1 + j0)) : _mm512_setzero_si512();
                _mm512_store_si512(Bp + (j0 / NR) * pairs * NR + q * NR + j0 % NR, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
            }
        }
        return;
    }
    /* B stored [n,k]: in each row, a depth pair is already one dword, so packing is the float32
     * packer's 16 x 16 transpose on dwords (32 depth steps at a time). */
    for (long j0 = 0; j0 < nc; j0 += 16) {
        uint32_t *dst = Bp + (j0 / NR) * pairs * NR + j0 % NR;
        const long rows = elm_min(16, nc - j0), next = elm_min(16, nc - j0 - 16);
        for (long p = 0; p < kc; p += 32) {
            const __mmask32 km = tail32(kc - p);
            for (long i = 0; i < next; i++) _mm_prefetch((const char *)(B + (j0 + 16 + i) * ldb + p), _MM_HINT_T0);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < rows ? _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(km, B + (j0 + i) * ldb + p)) : _mm512_setzero_ps();
            transpose16(r);
            const long n2 = elm_min(16, (kc - p + 1) / 2);
            for (long q = 0; q < n2; q++) _mm512_store_ps((float *)(dst + (p / 2 + q) * NR), r[q]);
        }
    }
}

/* The microkernel over `pairs` depth pairs; row i of the A panel at a + i * KC / 2 (dwords). */
static inline __attribute__((always_inline)) TB void ukr_body(const int mr, long pairs, const pair_t *a, const uint32_t *b,
                                                              float *c, long ldc, int nr, float alpha, float beta) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < mr; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
    }
    for (long q = 0; q < pairs; q++) {
        _mm_prefetch((const char *)(b + (q + PFB) * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + (q + PFB) * NR + 16), _MM_HINT_T0);
        const __m512bh b0 = (__m512bh)_mm512_load_si512(b + q * NR);
        const __m512bh b1 = (__m512bh)_mm512_load_si512(b + q * NR + 16);
        for (int i = 0; i < mr; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * (KC / 2) + q]);
            c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
            c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
        }
    }
    store_tile32(mr, c0, c1, c, ldc, nr, alpha, beta);
}

typedef void (*ukr_fixed)(long, const pair_t *, const uint32_t *, float *, long, int, float, float);
#define UKR(M)                                                                                                      \
    static TB void ukr_##M(long pairs, const pair_t *a, const uint32_t *b, float *c, long ldc, int nr, float alpha, \
                           float beta) {                                                                            \
        ukr_body(M, pairs, a, b, c, ldc, nr, alpha, beta);                                                          \
    }
UKR(1) UKR(2) UKR(3) UKR(4) UKR(5) UKR(6) UKR(7) UKR(8) UKR(9) UKR(10) UKR(11) UKR(12)
static const ukr_fixed ukr[MR + 1] = {0, ukr_1, ukr_2, ukr_3, ukr_4, ukr_5, ukr_6, ukr_7, ukr_8, ukr_9, ukr_10, ukr_11, ukr_12};

void elm_bf16dot_gemm(int transB, long m, long n, long k, float alpha, const float *A, long lda, const uint16_t *Apacked,
                      const uint16_t *B, long ldb, float beta, float *C, long ldc) {
    const long MC = ELM_BF16DOT_MC;
    const long mcap = elm_min(MC, round_up(m, MR)), ncap = elm_min(NC, round_up(n, NR));
    uint16_t *Ap = Apacked ? 0 : elm_scratch(ELM_SCRATCH_A, (size_t)mcap * KC * sizeof(uint16_t));
    uint32_t *Bp = elm_scratch(ELM_SCRATCH_B, (size_t)round_up(elm_min(KC, k), 2) / 2 * ncap * sizeof(uint32_t));
    for (long ic = 0; ic < m; ic += MC) {
        const long mc = elm_min(MC, m - ic);
        for (long pc = 0; pc < k; pc += KC) {
            const long kc = elm_min(KC, k - pc), pairs = round_up(kc, 2) / 2;
            const float be = pc == 0 ? beta : 1.0f;
            const uint16_t *a = Apacked ? Apacked + (pc / KC) * mcap * KC : Ap; /* m <= MC: one ic block */
            if (!Apacked) pack_a(mc, kc, A + ic * lda + pc, lda, Ap);
            for (long jc = 0; jc < n; jc += NC) {
                const long nc = elm_min(NC, n - jc);
                pack_b(transB, kc, nc, B + (transB ? jc * ldb + pc : pc * ldb + jc), ldb, Bp);
                for (long ir = 0; ir < mc; ir += MR) {
                    const pair_t *ap = (const pair_t *)(a + ir * KC);
                    float *c = C + (ic + ir) * ldc + jc;
                    const int mr = (int)elm_min(MR, mc - ir);
                    for (long jr = 0; jr < nc; jr += NR)
                        ukr[mr](pairs, ap, Bp + jr * pairs, c + jr, ldc, (int)elm_min(NR, nc - jr), alpha, be);
                }
            }
        }
    }
}

#endif
