/* Correctness check of every CKernels entry point against a naive double-precision reference, for
 * each ISA level the host supports (forced with elm_set_isa). Exits 1 on any failure.
 *
 * Per entry: |got - ref| <= 1e-5 * (sum_p |op(A)[i,p]| |op(B)[p,j]| + |beta * C0|) + 1e-30.
 * bf16 entry points are compared with the reference on the widened bf16 values. Besides the values,
 * it checks that beta == 0 never reads C (C is pre-filled with NaN), that the padding between the
 * logical width and the leading dimension is never written, and that y is not written past m. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static float uni(void) { return (float)((double)(next() >> 11) / 9007199254740992.0 * 2.0 - 1.0); }
static long pick(long lo, long hi) { return lo + (long)(next() % (uint64_t)(hi - lo + 1)); }

static uint16_t to_bf16(float f) { /* round to nearest even */
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* As bf16 compute reads A: nearest even, denormals as zero. */
static float bf16_daz(float f) { return fabsf(f) < 1.17549435e-38f ? 0.0f * f : elm_bf16_to_float(to_bf16(f)); }

static const float SENTINEL = 12345.0f;

typedef struct {
    long cases, fails;
    double worst; /* max |got - ref| / tolerance */
    char worst_case[160];
} stats;
static stats st;
static char cur_case[160];

static void record(double got, double ref, double tol, long i, long j) {
    const double err = fabs(got - ref);
    const double ratio = err / tol;
    if (!(ratio <= 1.0)) { /* catches NaN too */
        if (st.fails < 10)
            fprintf(stderr, "  FAIL %s at (%ld,%ld): got %.9g ref %.9g tol %.3g\n", cur_case, i, j, got, ref, tol);
        st.fails++;
    }
    if (ratio > st.worst || ratio != ratio) {
        st.worst = ratio != ratio ? INFINITY : ratio;
        snprintf(st.worst_case, sizeof st.worst_case, "%s", cur_case);
    }
}

static void fill(float *p, long count) {
    for (long i = 0; i < count; i++) p[i] = uni();
}

/* One GEMM case. pad > 0 makes every leading dimension larger than its logical width. */
/* When set, products run as Backend runs a product cut over threads: op(A) packed once
 * (elm_pack_a_shared) and three uneven column blocks, each through elm_sgemm*_packed_a. */
static int shared_a;
/* The few-rows kernel's limit in this pass (elm_set_rows_max). */
static long rows_max = 24;

static void gemm_in_column_blocks(int bf16, int ta, int tb, long m, long n, long k, float alpha, const float *A, long lda,
                                  const float *B, const uint16_t *Bh, long ldb, float beta, float *C, long ldc) {
    const void *Ap = elm_pack_a_shared(bf16, ta, tb, m, n, k, alpha, A, lda);
    const long cuts[4] = {0, n / 3, n - n / 4, n};
    for (int q = 0; q < 3; q++) {
        const long c0 = cuts[q], w = cuts[q + 1] - c0, boff = tb ? c0 * ldb : c0;
        if (w <= 0) continue;
        if (Ap && bf16) elm_sgemm_bf16b_packed_a(ta, tb, m, w, k, alpha, Ap, Bh + boff, ldb, beta, C + c0, ldc);
        else if (Ap) elm_sgemm_packed_a(ta, tb, m, w, k, alpha, Ap, B + boff, ldb, beta, C + c0, ldc);
        else if (bf16) elm_sgemm_bf16b(ta, tb, m, w, k, alpha, A, lda, Bh + boff, ldb, beta, C + c0, ldc);
        else elm_sgemm(ta, tb, m, w, k, alpha, A, lda, B + boff, ldb, beta, C + c0, ldc);
    }
}

static void check_gemm(int bf16, int ta, int tb, long m, long n, long k, float alpha, float beta, long pad) {
    const long lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    const long arows = ta ? k : m, brows = tb ? n : k;
    float *A = malloc(sizeof(float) * (size_t)(arows * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)(brows * ldb + 1)); /* float values (widened bf16 when bf16) */
    uint16_t *Bh = malloc(sizeof(uint16_t) * (size_t)(brows * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(m * ldc + 1)), *C0 = malloc(sizeof(float) * (size_t)(m * ldc + 1));
    fill(A, arows * lda);
    fill(B, brows * ldb);
    if (bf16)
        for (long i = 0; i < brows * ldb; i++) {
            Bh[i] = to_bf16(B[i]);
            B[i] = elm_bf16_to_float(Bh[i]);
        }
    for (long i = 0; i < m; i++)
        for (long j = 0; j < ldc; j++) C[i * ldc + j] = j < n ? (beta == 0.0f ? NAN : uni()) : SENTINEL;
    memcpy(C0, C, sizeof(float) * (size_t)(m * ldc));
    snprintf(cur_case, sizeof cur_case, "%s tA=%d tB=%d m=%ld n=%ld k=%ld alpha=%g beta=%g pad=%ld",
             bf16 ? "sgemm_bf16b" : "sgemm", ta, tb, m, n, k, alpha, beta, pad);

    /* In bf16 compute the kernel rounds A to bf16 (denormals to zero) where the mode applies: the
     * reference then uses those values, so a kernel that skips or botches the rounding fails. */
    const int rounds_a = bf16 && !ta && m > 1 && n > 1 && !(tb && m <= rows_max) && elm_active_compute() == ELM_COMPUTE_BF16;
    float *Ar = malloc(sizeof(float) * (size_t)(arows * lda + 1));
    for (long i = 0; i < arows * lda; i++) Ar[i] = rounds_a ? bf16_daz(A[i]) : A[i];

    if (shared_a) gemm_in_column_blocks(bf16, ta, tb, m, n, k, alpha, A, lda, B, Bh, ldb, beta, C, ldc);
    else if (bf16) elm_sgemm_bf16b(ta, tb, m, n, k, alpha, A, lda, Bh, ldb, beta, C, ldc);
    else elm_sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);

    /* Big shapes: check the first and last rows and columns (edge tiles) plus random entries. */
    const int sample = (double)m * n * k > 3e7;
    const long count = sample ? 4096 + 2 * (m + n) : m * n;
    for (long e = 0; e < count; e++) {
        long i, j;
        if (!sample) i = e / n, j = e % n;
        else if (e < 2 * n) i = e < n ? 0 : m - 1, j = e % n;
        else if (e < 2 * (m + n)) i = (e - 2 * n) % m, j = e - 2 * n < m ? 0 : n - 1;
        else i = pick(0, m - 1), j = pick(0, n - 1);
        double s = 0, sa = 0;
        for (long p = 0; p < k; p++) {
            const double a = ta ? Ar[p * lda + i] : Ar[i * lda + p];
            const double b = tb ? B[j * ldb + p] : B[p * ldb + j];
            s += a * b;
            sa += fabs(a * b);
        }
        const double c0 = beta == 0.0f ? 0.0 : C0[i * ldc + j];
        const double ref = alpha * s + beta * c0;
        record(C[i * ldc + j], ref, 1e-5 * (sa + fabs(beta * c0)) + 1e-30, i, j);
    }
    for (long i = 0; i < m; i++)
        for (long j = n; j < ldc; j++)
            if (C[i * ldc + j] != SENTINEL) {
                if (st.fails < 10) fprintf(stderr, "  FAIL %s: wrote padding at (%ld,%ld)\n", cur_case, i, j);
                st.fails++;
            }
    st.cases++;
    free(A), free(Ar), free(B), free(Bh), free(C), free(C0);
}

static void check_gemv(int bf16, long m, long n, float alpha, float beta, long pad) {
    const long lda = n + pad;
    float *A = malloc(sizeof(float) * (size_t)(m * lda + 1));
    uint16_t *Ah = malloc(sizeof(uint16_t) * (size_t)(m * lda + 1));
    float *x = malloc(sizeof(float) * (size_t)(n + 1)), *y = malloc(sizeof(float) * (size_t)(m + 1)),
          *y0 = malloc(sizeof(float) * (size_t)(m + 1));
    fill(A, m * lda);
    fill(x, n);
    if (bf16)
        for (long i = 0; i < m * lda; i++) {
            Ah[i] = to_bf16(A[i]);
            A[i] = elm_bf16_to_float(Ah[i]);
        }
    for (long i = 0; i < m; i++) y[i] = beta == 0.0f ? NAN : uni();
    y[m] = SENTINEL;
    memcpy(y0, y, sizeof(float) * (size_t)(m + 1));
    snprintf(cur_case, sizeof cur_case, "%s m=%ld n=%ld alpha=%g beta=%g pad=%ld", bf16 ? "sgemv_bf16" : "sgemv", m,
             n, alpha, beta, pad);
    if (bf16) elm_sgemv_bf16(m, n, alpha, Ah, lda, x, beta, y);
    else elm_sgemv(m, n, alpha, A, lda, x, beta, y);
    for (long i = 0; i < m; i++) {
        double s = 0, sa = 0;
        for (long j = 0; j < n; j++) {
            s += (double)A[i * lda + j] * x[j];
            sa += fabs((double)A[i * lda + j] * x[j]);
        }
        const double c0 = beta == 0.0f ? 0.0 : y0[i];
        record(y[i], alpha * s + beta * c0, 1e-5 * (sa + fabs(beta * c0)) + 1e-30, i, 0);
    }
    if (y[m] != SENTINEL) {
        if (st.fails < 10) fprintf(stderr, "  FAIL %s: wrote y[m]\n", cur_case);
        st.fails++;
    }
    st.cases++;
    free(A), free(Ah), free(x), free(y), free(y0);
}

static const long sizes[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 129, 257};
enum { NSIZES = sizeof sizes / sizeof sizes[0], NSMALL = 10 /* sizes up to 33 */ };
static const float alphas[] = {1.0f, 0.5f};
static const float betas[] = {0.0f, 1.0f, -0.25f};

static void run_isa(void) {
    memset(&st, 0, sizeof st);
    long counter = 0;
    /* 1. Small sizes: every m, n, k up to 33 with every trans, alpha, beta, dtype. */
    for (int a = 0; a < NSMALL; a++)
        for (int b = 0; b < NSMALL; b++)
            for (int c = 0; c < NSMALL; c++)
                for (int t = 0; t < 8; t++)
                    for (int ab = 0; ab < 6; ab++)
                        check_gemm(t >> 2, (t >> 1) & 1, t & 1, sizes[a], sizes[b], sizes[c], alphas[ab / 3],
                                   betas[ab % 3], (counter++ % 3) ? pick(1, 5) : 0);
    /* 2. All sizes in m, n and k (cross product), trans/alpha/beta/dtype rotating. */
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < NSIZES; b++)
            for (int c = 0; c < NSIZES; c++) {
                if (a < NSMALL && b < NSMALL && c < NSMALL) continue;
                const long r = counter++;
                check_gemm((int)(r / 4 % 2), (int)(r & 1), (int)(r >> 1 & 1), sizes[a], sizes[b], sizes[c],
                           alphas[r / 8 % 2], betas[r % 3], pick(0, 9));
            }
    /* 3. Random sizes (some deep enough for several KC blocks). */
    for (int r = 0; r < 300; r++) {
        const long k = r % 10 == 0 ? pick(400, 1000) : pick(1, 300);
        check_gemm((int)(next() & 1), (int)(next() & 1), (int)(next() & 1), pick(1, 300), pick(1, 300), k,
                   alphas[next() % 2], betas[next() % 3], pick(0, 17));
    }
    /* 4. The Qwen3-0.6B shapes (sampled entries), f32 and bf16 weights. */
    static const long fw[][3] = {{256, 1024, 1024}, {256, 2048, 1024}, {256, 512, 1024}, {256, 3072, 1024},
                                 {256, 1024, 3072}, {256, 16384, 1024}, {1024, 3072, 1024}};
    for (unsigned s = 0; s < sizeof fw / sizeof fw[0]; s++)
        for (int bf = 0; bf < 2; bf++) check_gemm(bf, 0, 1, fw[s][0], fw[s][1], fw[s][2], 1.0f, bf ? 1.0f : 0.0f, 0);
    for (int bf = 0; bf < 2; bf++) {
        check_gemm(bf, 0, 0, 256, 1024, 3072, 1.0f, 0.0f, 0); /* dX = dY W (down/up) */
        check_gemm(bf, 0, 0, 256, 3072, 1024, 1.0f, 1.0f, 0);
        check_gemm(bf, 1, 0, 1024, 3072, 256, 1.0f, 1.0f, 0); /* dW = dY^T X */
        check_gemm(bf, 1, 0, 3072, 1024, 256, 0.5f, 0.0f, 0);
        check_gemm(bf, 0, 1, 1, 3072, 1024, 1.0f, 0.0f, 0); /* one token */
        check_gemm(bf, 0, 0, 1, 3072, 1024, 1.0f, -0.25f, 0);
        check_gemm(bf, 1, 0, 1024, 1, 256, 1.0f, 0.0f, 3);
        check_gemm(bf, 0, 1, 8, 3072, 1024, 1.0f, 0.0f, 0); /* a short prompt */
        check_gemm(bf, 0, 1, 5, 1024, 3072, 0.5f, 1.0f, 1);
        check_gemm(bf, 0, 1, 16, 2048, 1024, 1.0f, -0.25f, 0);
    }
    /* 5. GEMV: all size pairs, then the model's weight shapes. */
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < NSIZES; b++)
            for (int ab = 0; ab < 6; ab++)
                for (int bf = 0; bf < 2; bf++)
                    check_gemv(bf, sizes[a], sizes[b], alphas[ab / 3], betas[ab % 3], (counter++ % 2) ? pick(1, 9) : 0);
    static const long gv[][2] = {{3072, 1024}, {1024, 3072}, {2048, 1024}, {1024, 2048}, {151936 / 8, 1024}};
    for (unsigned s = 0; s < sizeof gv / sizeof gv[0]; s++)
        for (int bf = 0; bf < 2; bf++) check_gemv(bf, gv[s][0], gv[s][1], 1.0f, bf ? 0.0f : 1.0f, 0);
    /* A row of 64-element steps, one 32-element step and a tail (n = 64 + 32 + 5). */
    for (int bf = 0; bf < 2; bf++) check_gemv(bf, 9, 101, 1.0f, 0.5f, 3);
    /* 6. alpha == 0 scales C only. */
    check_gemm(0, 0, 1, 17, 33, 65, 0.0f, -0.25f, 2);
    check_gemm(1, 1, 0, 17, 33, 65, 0.0f, 0.0f, 2);
    check_gemv(0, 17, 33, 0.0f, 1.0f, 1);
}

int main(void) {
    static const char *names[] = {"portable", "avx2", "avx512"};
    const int host = elm_host_isa();
    int bad = 0;
    printf("host ISA: %s\n", names[host]);
    /* Each ISA as dispatched; once more packing every product (elm_set_rows_max(0)), so the blocked
     * GEMM is checked at the row counts the unpacked few-rows kernel normally takes; and once more
     * in column blocks sharing one packed A, as products cut over threads run. */
    /* The same three passes again in bf16 compute where the host has it: only the AVX-512 level
     * takes it (the lower levels check that it does not). */
    static const char *passes[] = {"", " [packing every product]", " [column blocks, A packed once]"};
    for (int pass = 0; pass < (elm_host_bf16() ? 6 : 3); pass++) {
        rows_max = pass % 3 == 1 ? 0 : 24;
        elm_set_rows_max(rows_max);
        shared_a = pass % 3 == 2;
        elm_set_compute(pass >= 3 ? ELM_COMPUTE_BF16 : ELM_COMPUTE_F32);
        for (int isa = ELM_ISA_PORTABLE; isa <= host; isa++) {
            elm_set_isa(isa);
            if (elm_active_isa() != isa) {
                printf("%-8s elm_set_isa did not take (active %d)\n", names[isa], elm_active_isa());
                bad = 1;
                continue;
            }
            if (elm_active_compute() != (pass >= 3 && isa == ELM_ISA_AVX512 ? ELM_COMPUTE_BF16 : ELM_COMPUTE_F32)) {
                printf("%-8s elm_active_compute() is %d in pass %d\n", names[isa], elm_active_compute(), pass);
                bad = 1;
            }
            run_isa();
            printf("%-8s %6ld cases, %ld failures, worst |err|/tol = %.3g (%s)%s%s\n", names[isa], st.cases, st.fails,
                   st.worst, st.worst_case, passes[pass % 3], elm_active_compute() ? " [bf16 compute]" : "");
            if (st.fails) bad = 1;
        }
    }
    elm_set_rows_max(-1);
    elm_set_compute(ELM_COMPUTE_F32);
    elm_set_isa(99); /* clamps to the host */
    if (elm_active_isa() != host) {
        printf("elm_set_isa(99) gave %d, expected the host's %d\n", elm_active_isa(), host);
        bad = 1;
    }
    printf(bad ? "FAILED\n" : "all passed\n");
    return bad;
}
