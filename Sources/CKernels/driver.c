/* The Goto/BLIS blocked GEMM, shared by every ISA (the ISA only supplies the microkernel, the B
 * packer and the block sizes).
 *
 * Loop nest, outermost first:
 *   ic: mc rows of op(A)                       (A block, packed once per ic/pc; lives in L3)
 *   pc: kc of the depth                        (beta applies on the first pc only)
 *   jc: nc columns of op(B) -> pack kc x nc    (B block, sized to stay in L2)
 *   ir: MR rows  -> one A micro-panel          (MR x kc, stays in L1 across the jr loop)
 *   jr: NR cols  -> one B micro-panel          (streamed from L2)
 * MC is large, so for the model's shapes (m <= 1024 rows per call) B is packed exactly once: B is the
 * weight matrix, and packing it is the expensive part (a transpose when transB). A is packed by
 * plain copies in either layout (see ELM_A_ROWS / ELM_A_KMAJOR), so it never needs a transpose; a
 * product cut into column blocks over threads packs A once for all of them (elm_pack_a_all).
 */
#include <string.h>
#include "internal.h"

static void pack_a(int transA, long mc, long kc, const float *A, long lda, long mr_max, long kstride, float *Ap) {
    for (long q = 0; q < mc; q += mr_max) {
        long mr = elm_min(mr_max, mc - q);
        if (!transA) {
            /* Row layout: each panel row is a contiguous copy of kc floats, stride kstride (= KC). */
            float *dst = Ap + q * kstride;
            for (long i = 0; i < mr; i++) memcpy(dst + i * kstride, A + (q + i) * lda, (size_t)kc * sizeof(float));
        } else {
            /* K-major: A is stored [k,m]; each depth step copies mr contiguous floats. */
            float *dst = Ap + q * kc;
            for (long p = 0; p < kc; p++) {
                const float *src = A + p * lda + q;
                for (long i = 0; i < mr; i++) dst[p * mr_max + i] = src[i];
            }
        }
    }
}

size_t elm_packed_a_floats(const elm_kernels *K, long m, long k) {
    const long mcap = (m + K->mr - 1) / K->mr * K->mr;
    return (size_t)mcap * (size_t)K->kc * (size_t)((k + K->kc - 1) / K->kc);
}

void elm_pack_a_all(const elm_kernels *K, int transA, long m, long k, const float *A, long lda, float *Ap) {
    const long KC = K->kc, mcap = (m + K->mr - 1) / K->mr * K->mr;
    for (long pc = 0; pc < k; pc += KC) {
        const float *a0 = transA ? A + pc * lda : A + pc;
        pack_a(transA, m, elm_min(KC, k - pc), a0, lda, K->mr, KC, Ap + (pc / KC) * mcap * KC);
    }
}

void elm_gemm_blocked(const elm_kernels *K, int transA, int transB, int bf16b, long m, long n, long k,
                      float alpha, const float *A, long lda, const float *Apacked, const void *B, long ldb,
                      float beta, float *C, long ldc) {
    const long MR = K->mr, NR = K->nr, KC = K->kc, MC = K->mc, NC = K->nc;
    const long mcap = elm_min(MC, (m + MR - 1) / MR * MR);
    const long ncap = elm_min(NC, (n + NR - 1) / NR * NR);
    const long kcap = elm_min(KC, k);
    float *Ap = Apacked ? 0 : elm_scratch(ELM_SCRATCH_A, (size_t)mcap * KC * sizeof(float));
    float *Bp = elm_scratch(ELM_SCRATCH_B, (size_t)kcap * ncap * sizeof(float));
    const int layout = transA ? ELM_A_KMAJOR : ELM_A_ROWS;

    for (long ic = 0; ic < m; ic += MC) {
        const long mc = elm_min(MC, m - ic);
        for (long pc = 0; pc < k; pc += KC) {
            const long kc = elm_min(KC, k - pc);
            const float be = pc == 0 ? beta : 1.0f;
            if (Apacked) {
                Ap = (float *)Apacked + (pc / KC) * mcap * KC; /* m <= MC: one ic block */
            } else {
                const float *a0 = transA ? A + pc * lda + ic : A + ic * lda + pc;
                pack_a(transA, mc, kc, a0, lda, MR, KC, Ap);
            }
            const long apanel = MR * (transA ? kc : KC);
            for (long jc = 0; jc < n; jc += NC) {
                const long nc = elm_min(NC, n - jc);
                const long boff = transB ? jc * ldb + pc : pc * ldb + jc;
                if (bf16b) K->packb16(kc, nc, (const uint16_t *)B + boff, ldb, transB, Bp);
                else K->packb(kc, nc, (const float *)B + boff, ldb, transB, Bp);
                for (long ir = 0; ir < mc; ir += MR) {
                    const float *a = Ap + (ir / MR) * apanel;
                    float *c = C + (ic + ir) * ldc + jc;
                    const int mr = (int)elm_min(MR, mc - ir);
                    for (long jr = 0; jr < nc; jr += NR)
                        K->ukr(kc, a, Bp + jr * kc, c + jr, ldc, mr, (int)elm_min(NR, nc - jr), alpha, be, layout);
                }
            }
        }
    }
}
