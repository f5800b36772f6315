/* Run-time ISA choice and the public entry points.
 *
 * The ISA is detected once with cpuid/xgetbv (not __builtin_cpu_supports, which needs libgcc's or
 * compiler-rt's CPU model symbols at link time). AVX-512 needs the F, DQ, BW and VL subsets and the
 * OS saving the opmask and zmm state; AVX2 needs AVX2, FMA and the OS saving ymm state. The chosen
 * kernel table is published through an atomic pointer; elm_set_isa swaps it (call it before use). */
#include "internal.h"

#if ELM_X86
#include <cpuid.h>

static unsigned long long xcr0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

static int detect_isa(void) {
#if ELM_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return ELM_ISA_PORTABLE;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx)) return ELM_ISA_PORTABLE;
    const unsigned long long xcr = xcr0();
    if ((xcr & 0x6) != 0x6) return ELM_ISA_PORTABLE; /* XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return ELM_ISA_PORTABLE;
    if (!((b >> 5) & 1)) return ELM_ISA_PORTABLE; /* AVX2 */
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (f && dq && bw && vl && (xcr & 0xE6) == 0xE6) return ELM_ISA_AVX512; /* + opmask, ZMM_Hi256, Hi16_ZMM */
    return ELM_ISA_AVX2;
#else
    return ELM_ISA_PORTABLE;
#endif
}

/* AVX-512 BF16 (cpuid leaf 7 subleaf 1, EAX bit 5), on top of the AVX-512 level. */
static int detect_bf16(void) {
#if ELM_X86
    unsigned a, b, c, d;
    if (detect_isa() != ELM_ISA_AVX512 || !__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1;
#else
    return 0;
#endif
}

static int host_isa = -1, host_bf16 = -1;
static const elm_kernels *active;

static const elm_kernels *table_for(int isa) {
#if ELM_X86
    if (isa == ELM_ISA_AVX512) return &elm_kernels_avx512;
    if (isa == ELM_ISA_AVX2) return &elm_kernels_avx2;
#endif
    (void)isa;
    return &elm_kernels_portable;
}

/* *cache, filled by detect() on first use (a race detects twice, with the same answer). */
static int detected(int *cache, int (*detect)(void)) {
    int h = __atomic_load_n(cache, __ATOMIC_RELAXED);
    if (h < 0) {
        h = detect();
        __atomic_store_n(cache, h, __ATOMIC_RELAXED);
    }
    return h;
}

int elm_host_isa(void) { return detected(&host_isa, detect_isa); }

void elm_set_isa(int isa) {
    const int host = elm_host_isa();
    isa = isa < ELM_ISA_PORTABLE ? ELM_ISA_PORTABLE : isa > host ? host : isa;
    __atomic_store_n(&active, table_for(isa), __ATOMIC_RELEASE);
}

static const elm_kernels *kernels(void) {
    const elm_kernels *k = __atomic_load_n(&active, __ATOMIC_ACQUIRE);
    if (__builtin_expect(k != 0, 1)) return k;
    const elm_kernels *expected = 0;
    k = table_for(elm_host_isa());
    /* If another thread published first (or elm_set_isa ran), keep its choice. */
    if (!__atomic_compare_exchange_n(&active, &expected, k, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) k = expected;
    return k;
}

int elm_active_isa(void) { return kernels()->isa; }

int elm_host_bf16(void) { return detected(&host_bf16, detect_bf16); }

static int compute = ELM_COMPUTE_F32;

void elm_set_compute(int c) { __atomic_store_n(&compute, c == ELM_COMPUTE_BF16 ? c : ELM_COMPUTE_F32, __ATOMIC_RELAXED); }

int elm_active_compute(void) {
    const int bf16 = __atomic_load_n(&compute, __ATOMIC_RELAXED) == ELM_COMPUTE_BF16 && elm_host_bf16() &&
                     kernels()->isa == ELM_ISA_AVX512;
    return bf16 ? ELM_COMPUTE_BF16 : ELM_COMPUTE_F32;
}

/* Whether a blocked product with bfloat16 B runs in bf16 compute. */
static int takes_bf16dot(int bf16b, int transA) {
#if ELM_X86
    return bf16b && !transA && elm_active_compute() == ELM_COMPUTE_BF16;
#else
    (void)bf16b, (void)transA;
    return 0;
#endif
}

/* C = beta * C (beta == 0 writes zeros without reading C). */
static void scale_rows(long m, long n, float beta, float *C, long ldc) {
    if (beta == 1.0f) return;
    for (long i = 0; i < m; i++) {
        float *r = C + i * ldc;
        if (beta == 0.0f)
            for (long j = 0; j < n; j++) r[j] = 0.0f;
        else
            for (long j = 0; j < n; j++) r[j] *= beta;
    }
}

/* Row counts up to which op(B) = B^T products go through rows_nt (see elm_set_rows_max). */
static long elm_rows_max = ELM_ROWS_MAX;

void elm_set_rows_max(long rows) { __atomic_store_n(&elm_rows_max, rows < 0 ? ELM_ROWS_MAX : rows, __ATOMIC_RELAXED); }

/* Whether op(A) op(B) goes through the unpacked few-rows kernel. */
static int takes_rows_kernel(const elm_kernels *K, int transA, int transB, long m) {
    return !transA && transB && m <= __atomic_load_n(&elm_rows_max, __ATOMIC_RELAXED) && K->rows_nt;
}

static void gemm(int transA, int transB, int bf16b, long m, long n, long k, float alpha, const float *A, long lda,
                 const void *B, long ldb, float beta, float *C, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_rows(m, n, beta, C, ldc);
        return;
    }
    const elm_kernels *K = kernels();
    const float *Bf = (const float *)B;
    const uint16_t *Bh = (const uint16_t *)B;
    if (m == 1) {
        /* One output row: C[0,:] = alpha * a op(B) + beta * C with a = op(A)[0,:]. With transB that
         * is a GEMV over B's rows; without, a GEMV over B's columns (y = B^T a), vectorised along n. */
        const float *a = A;
        if (transA && k > 1) {
            float *t = elm_scratch(ELM_SCRATCH_VEC, (size_t)k * sizeof(float));
            for (long p = 0; p < k; p++) t[p] = A[p * lda];
            a = t;
        }
        if (transB) {
            if (bf16b) K->gemv16_n(n, k, alpha, Bh, ldb, a, beta, C, 1);
            else K->gemv_n(n, k, alpha, Bf, ldb, a, beta, C, 1);
        } else {
            if (bf16b) K->gemv16_t(k, n, alpha, Bh, ldb, a, beta, C, 1);
            else K->gemv_t(k, n, alpha, Bf, ldb, a, beta, C, 1);
        }
        return;
    }
    if (n == 1) {
        /* One output column (stride ldc): a GEMV of op(A) with b = op(B)[:,0], gathered contiguous
         * (and widened, for bf16) when it is strided. */
        const float *b = Bf;
        if (bf16b || (!transB && k > 1)) {
            float *t = elm_scratch(ELM_SCRATCH_VEC, (size_t)k * sizeof(float));
            const long s = transB ? 1 : ldb;
            if (bf16b)
                for (long p = 0; p < k; p++) t[p] = elm_bf16_to_float(Bh[p * s]);
            else
                for (long p = 0; p < k; p++) t[p] = Bf[p * s];
            b = t;
        }
        if (!transA) K->gemv_n(m, k, alpha, A, lda, b, beta, C, ldc);
        else K->gemv_t(k, m, alpha, A, lda, b, beta, C, ldc);
        return;
    }
    if (takes_rows_kernel(K, transA, transB, m)) {
        if (bf16b) K->rows16_nt(m, n, k, alpha, A, lda, Bh, ldb, beta, C, ldc);
        else K->rows_nt(m, n, k, alpha, A, lda, Bf, ldb, beta, C, ldc);
        return;
    }
#if ELM_X86
    if (takes_bf16dot(bf16b, transA)) {
        elm_bf16dot_gemm(transB, m, n, k, alpha, A, lda, 0, Bh, ldb, beta, C, ldc);
        return;
    }
#endif
    elm_gemm_blocked(K, transA, transB, bf16b, m, n, k, alpha, A, lda, 0, B, ldb, beta, C, ldc);
}

const void *elm_pack_a_shared(int bf16b, int transA, int transB, long m, long n, long k, float alpha, const float *A,
                              long lda) {
    const elm_kernels *K = kernels();
    transA = transA != 0;
    /* Exactly the products gemm() sends to the blocked kernels, with one block of rows (m <= mc). */
    if (m <= 1 || n <= 1 || k <= 0 || alpha == 0.0f || takes_rows_kernel(K, transA, transB, m) || m > K->mc) return 0;
#if ELM_X86
    if (takes_bf16dot(bf16b, transA)) {
        if (m > ELM_BF16DOT_MC) return 0;
        uint16_t *Ap = elm_scratch(ELM_SCRATCH_SHARED_A, elm_bf16dot_packed_a_bytes(m, k));
        elm_bf16dot_pack_a_all(m, k, A, lda, Ap);
        return Ap;
    }
#endif
    float *Ap = elm_scratch(ELM_SCRATCH_SHARED_A, elm_packed_a_floats(K, m, k) * sizeof(float));
    elm_pack_a_all(K, transA, m, k, A, lda, Ap);
    return Ap;
}

void elm_sgemm_packed_a(int transA, int transB, long m, long n, long k, float alpha, const void *Ap, const float *B,
                        long ldb, float beta, float *C, long ldc) {
    if (n > 0) elm_gemm_blocked(kernels(), transA != 0, transB != 0, 0, m, n, k, alpha, 0, 0, Ap, B, ldb, beta, C, ldc);
}

void elm_sgemm_bf16b_packed_a(int transA, int transB, long m, long n, long k, float alpha, const void *Ap,
                              const uint16_t *B, long ldb, float beta, float *C, long ldc) {
    if (n <= 0) return;
#if ELM_X86
    if (takes_bf16dot(1, transA != 0)) {
        elm_bf16dot_gemm(transB != 0, m, n, k, alpha, 0, 0, Ap, B, ldb, beta, C, ldc);
        return;
    }
#endif
    elm_gemm_blocked(kernels(), transA != 0, transB != 0, 1, m, n, k, alpha, 0, 0, Ap, B, ldb, beta, C, ldc);
}

void elm_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *A, long lda,
               const float *B, long ldb, float beta, float *C, long ldc) {
    gemm(transA != 0, transB != 0, 0, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void elm_sgemm_bf16b(int transA, int transB, long m, long n, long k, float alpha, const float *A, long lda,
                     const uint16_t *B, long ldb, float beta, float *C, long ldc) {
    gemm(transA != 0, transB != 0, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void elm_sgemv(long m, long n, float alpha, const float *A, long lda, const float *x, float beta, float *y) {
    if (m <= 0) return;
    if (n <= 0 || alpha == 0.0f) {
        scale_rows(m, 1, beta, y, 1);
        return;
    }
    kernels()->gemv_n(m, n, alpha, A, lda, x, beta, y, 1);
}

void elm_sgemv_bf16(long m, long n, float alpha, const uint16_t *A, long lda, const float *x, float beta, float *y) {
    if (m <= 0) return;
    if (n <= 0 || alpha == 0.0f) {
        scale_rows(m, 1, beta, y, 1);
        return;
    }
    kernels()->gemv16_n(m, n, alpha, A, lda, x, beta, y, 1);
}
