/* Benchmark of the CKernels GEMM and GEMV against the machine's measured limits (and OpenBLAS on the
 * same work when built with -DHAVE_OPENBLAS):
 *   - GEMM, one thread, the Qwen3-0.6B shapes: GFLOP/s and the fraction of the per-core FMA peak,
 *     measured here by independent FMA chains (zmm for AVX-512, ymm for AVX2).
 *   - GEMV, two threads (each half the rows of every matrix) over ~1 GB of distinct weight-shaped
 *     matrices: GB/s of matrix bytes and the fraction of a two-thread streaming read of the same bytes.
 * Every number is the best of several repetitions. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"
#ifdef HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int);
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static const char *isa_name[] = {"portable", "avx2", "avx512", "avx512bf16"};
/* The peak table's slot for bf16 compute (VDPBF16PS), after the ISA levels. */
enum { BF16DOT = 3 };
static volatile float sink;

/* ---- FMA peak: NCH independent chains, so latency never limits ---- */
#define NCH 24
__attribute__((target("avx512f,fma"), noinline)) static double peak_avx512(long iters) {
    __m512 acc[NCH];
    for (int i = 0; i < NCH; i++) acc[i] = _mm512_set1_ps((float)i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
    const double t0 = now();
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < NCH; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    const double t = now() - t0;
    __m512 s = acc[0];
    for (int i = 1; i < NCH; i++) s = _mm512_add_ps(s, acc[i]);
    sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * NCH * iters / t / 1e9;
}
__attribute__((target("avx2,fma"), noinline)) static double peak_avx2(long iters) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    const double t0 = now();
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    const double t = now() - t0;
    float s = 0, v[8];
    for (int i = 0; i < 12; i++) {
        _mm256_storeu_ps(v, acc[i]);
        for (int l = 0; l < 8; l++) s += v[l];
    }
    sink = s;
    return 2.0 * 8 * 12 * iters / t / 1e9;
}

/* VDPBF16PS: two multiply-adds per float32 lane, so 4 FLOP per lane. */
__attribute__((target("avx512f,avx512bf16"), noinline)) static double peak_bf16dot(long iters) {
    __m512 acc[NCH];
    for (int i = 0; i < NCH; i++) acc[i] = _mm512_set1_ps((float)i);
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380); /* 1, ~6e-8 */
    const double t0 = now();
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < NCH; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    const double t = now() - t0;
    __m512 s = acc[0];
    for (int i = 1; i < NCH; i++) s = _mm512_add_ps(s, acc[i]);
    sink = _mm512_reduce_add_ps(s);
    return 4.0 * 16 * NCH * iters / t / 1e9;
}

/* Best of many short (~0.5 ms) bursts: on a shared or virtualised machine, longer timings mostly
 * measure the neighbours; the best burst is what the core can do. */
static double best_peak(int isa) {
    double best = 0;
    for (int r = 0; r < 400; r++) {
        const double g = isa == BF16DOT ? peak_bf16dot(40000) : isa == ELM_ISA_AVX512 ? peak_avx512(40000) : peak_avx2(80000);
        if (g > best) best = g;
    }
    return best;
}

/* ---- GEMM ---- */
typedef struct {
    const char *what;
    int ta, tb;
    long m, n, k;
} shape;

static const shape gemm_shapes[] = {
    {"q/o x.Wt", 0, 1, 256, 1024, 1024},    {"q_proj x.Wt", 0, 1, 256, 2048, 1024},
    {"k/v x.Wt", 0, 1, 256, 512, 1024},     {"gate/up x.Wt", 0, 1, 256, 3072, 1024},
    {"down x.Wt", 0, 1, 256, 1024, 3072},   {"lm_head slice", 0, 1, 256, 16384, 1024},
    {"dX=dY.W (down)", 0, 0, 256, 1024, 3072}, {"dX=dY.W (up)", 0, 0, 256, 3072, 1024},
    {"dW=dYt.X", 1, 0, 1024, 3072, 256},    {"gate/up m=1024", 0, 1, 1024, 3072, 1024},
    {"down m=1024", 0, 1, 1024, 1024, 3072}, {"dX m=1024", 0, 0, 1024, 1024, 3072},
};

static void fill(float *p, long count, unsigned seed) {
    for (long i = 0; i < count; i++) p[i] = (float)((i * 2654435761u + seed) % 2001) * 1e-3f - 1.0f;
}

static uint16_t *to_bf16(const float *p, long count) {
    uint16_t *h = malloc(sizeof(uint16_t) * (size_t)count);
    for (long i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, p + i, 4);
        h[i] = (uint16_t)(u >> 16);
    }
    return h;
}

enum { OURS_F32, OURS_BF16, OURS_BF16DOT, OPENBLAS };

/* One timed call of an implementation (ours at the given ISA, ours with bf16 B, or OpenBLAS). */
typedef struct {
    int impl, isa;
    const char *name, *note;
} variant;

static double time_once(const variant *v, const shape *s, const float *A, const float *B, const uint16_t *Bh, float *C) {
    const long lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    if (v->impl != OPENBLAS) elm_set_isa(v->isa == BF16DOT ? ELM_ISA_AVX512 : v->isa);
    const double t0 = now();
    if (v->impl == OURS_F32) elm_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, A, lda, B, ldb, 0.0f, C, s->n);
    else if (v->impl == OURS_BF16) elm_sgemm_bf16b(s->ta, s->tb, s->m, s->n, s->k, 1.0f, A, lda, Bh, ldb, 0.0f, C, s->n);
    else if (v->impl == OURS_BF16DOT) {
        elm_set_compute(ELM_COMPUTE_BF16);
        elm_sgemm_bf16b(s->ta, s->tb, s->m, s->n, s->k, 1.0f, A, lda, Bh, ldb, 0.0f, C, s->n);
        elm_set_compute(ELM_COMPUTE_F32);
    }
#ifdef HAVE_OPENBLAS
    else cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                     (int)s->m, (int)s->n, (int)s->k, 1.0f, A, (int)lda, B, (int)ldb, 0.0f, C, (int)s->n);
#endif
    return now() - t0;
}

static void bench_gemm(const double peak[4]) {
    printf("\nGEMM, 1 thread: GFLOP/s and fraction of the measured FMA peak (ours: of that ISA; OpenBLAS: of %s)\n",
           isa_name[elm_host_isa()]);
    printf("%-8s %-16s %-5s %5s %6s %5s  %8s %6s\n", "isa", "shape", "trans", "m", "n", "k", "GFLOP/s", "peak");
    const int host = elm_host_isa();
    for (unsigned i = 0; i < sizeof gemm_shapes / sizeof gemm_shapes[0]; i++) {
        const shape *s = &gemm_shapes[i];
        float *A = aligned_alloc(64, sizeof(float) * (size_t)(s->m * s->k));
        float *B = aligned_alloc(64, sizeof(float) * (size_t)(s->n * s->k));
        float *C = aligned_alloc(64, sizeof(float) * (size_t)(s->m * s->n));
        fill(A, s->m * s->k, 1);
        fill(B, s->n * s->k, 2);
        uint16_t *Bh = to_bf16(B, s->n * s->k);
        const double flop = 2.0 * s->m * s->n * s->k;
        const int reps = flop > 4e9 ? 4 : flop > 1e9 ? 10 : 20;
        variant vs[6];
        int nv = 0;
        vs[nv++] = (variant){OURS_F32, host, isa_name[host], ""};
        if (host > ELM_ISA_AVX2) vs[nv++] = (variant){OURS_F32, ELM_ISA_AVX2, isa_name[ELM_ISA_AVX2], ""};
        if (i % 3 == 0 || s->ta) vs[nv++] = (variant){OURS_BF16, host, isa_name[host], "   (B in bf16)"};
        if (elm_host_bf16() && !s->ta) vs[nv++] = (variant){OURS_BF16DOT, BF16DOT, isa_name[BF16DOT], "   (B in bf16, bf16 compute)"};
#ifdef HAVE_OPENBLAS
        vs[nv++] = (variant){OPENBLAS, host, "openblas", ""};
#endif
        /* Round-robin over the variants, so that noise from other work on the machine hits all alike. */
        double best[6] = {1e30, 1e30, 1e30, 1e30, 1e30, 1e30};
        for (int r = 0; r <= reps; r++)
            for (int v = 0; v < nv; v++) {
                const double t = time_once(&vs[v], s, A, B, Bh, C);
                if (r > 0 && t < best[v]) best[v] = t; /* r == 0 warms up */
            }
        char tr[8];
        snprintf(tr, sizeof tr, "%c%c", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N');
        for (int v = 0; v < nv; v++) {
            const double g = flop / best[v] / 1e9;
            const double pk = peak[vs[v].impl == OPENBLAS ? host : vs[v].isa];
            printf("%-8s %-16s %-5s %5ld %6ld %5ld  %8.1f %5.1f%%%s\n", vs[v].name, s->what, tr, s->m, s->n, s->k, g,
                   100 * g / pk, vs[v].note);
        }
        elm_set_isa(host);
        free(A), free(B), free(C), free(Bh);
    }
}

/* ---- GEMV and bandwidth, two threads ---- */
enum { NLAYERS = 32, NSHAPES = 3, NTHREADS = 2 };
static const long gemv_shapes[NSHAPES][2] = {{3072, 1024}, {1024, 3072}, {2048, 1024}};
static float *W32[NLAYERS][NSHAPES];
static uint16_t *W16[NLAYERS][NSHAPES];
static float *xv, *yv;

enum { JOB_SUM, JOB_SUM4, JOB_SGEMV, JOB_SGEMV16, JOB_BLAS };
typedef struct {
    int job, t, nthreads;
    pthread_barrier_t *go;
    double sum;
} task;

/* The limit: a plain read (sum) of the same bytes, the faster of two patterns (machines differ in
 * which their prefetchers favour): one sequential stream per thread (JOB_SUM), or four interleaved
 * streams over the quarters of each thread's region with software prefetch (JOB_SUM4). Tails of up
 * to 255 floats per region are skipped. */
__attribute__((target("avx512f"))) static double sum1_avx512(const float *p, long count) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long i = 0; i + 64 <= count; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
__attribute__((target("avx2"))) static double sum1_avx2(const float *p, long count) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long i = 0; i + 32 <= count; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + i + 24));
    }
    float v[8];
    _mm256_storeu_ps(v, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}
__attribute__((target("avx512f"))) static double sum4_avx512(const float *p, long count) {
    const long q = count / 4 / 64 * 64;
    const float *p0 = p, *p1 = p + q, *p2 = p + 2 * q, *p3 = p + 3 * q;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long i = 0; i < q; i += 16) {
        _mm_prefetch((const char *)(p0 + i + 256), _MM_HINT_T0);
        _mm_prefetch((const char *)(p1 + i + 256), _MM_HINT_T0);
        _mm_prefetch((const char *)(p2 + i + 256), _MM_HINT_T0);
        _mm_prefetch((const char *)(p3 + i + 256), _MM_HINT_T0);
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p0 + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p1 + i));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p2 + i));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p3 + i));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
__attribute__((target("avx2"))) static double sum4_avx2(const float *p, long count) {
    const long q = count / 4 / 64 * 64;
    const float *p0 = p, *p1 = p + q, *p2 = p + 2 * q, *p3 = p + 3 * q;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long i = 0; i < q; i += 16) {
        _mm_prefetch((const char *)(p0 + i + 256), _MM_HINT_T0);
        _mm_prefetch((const char *)(p1 + i + 256), _MM_HINT_T0);
        _mm_prefetch((const char *)(p2 + i + 256), _MM_HINT_T0);
        _mm_prefetch((const char *)(p3 + i + 256), _MM_HINT_T0);
        s0 = _mm256_add_ps(s0, _mm256_add_ps(_mm256_loadu_ps(p0 + i), _mm256_loadu_ps(p0 + i + 8)));
        s1 = _mm256_add_ps(s1, _mm256_add_ps(_mm256_loadu_ps(p1 + i), _mm256_loadu_ps(p1 + i + 8)));
        s2 = _mm256_add_ps(s2, _mm256_add_ps(_mm256_loadu_ps(p2 + i), _mm256_loadu_ps(p2 + i + 8)));
        s3 = _mm256_add_ps(s3, _mm256_add_ps(_mm256_loadu_ps(p3 + i), _mm256_loadu_ps(p3 + i + 8)));
    }
    float v[8];
    _mm256_storeu_ps(v, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

/* Each thread takes its half of the rows of every matrix, like a caller splitting each GEMV. The
 * streaming-read reference reads the same halves of the same f32 matrices. */
static void *worker(void *arg) {
    task *tk = arg;
    pthread_barrier_wait(tk->go);
    double s = 0;
    for (int l = 0; l < NLAYERS; l++)
        for (int q = 0; q < NSHAPES; q++) {
            const long m = gemv_shapes[q][0], n = gemv_shapes[q][1];
            const long r0 = m * tk->t / tk->nthreads, r1 = m * (tk->t + 1) / tk->nthreads;
            switch (tk->job) {
            case JOB_SUM:
                s += elm_host_isa() == ELM_ISA_AVX512 ? sum1_avx512(W32[l][q] + r0 * n, (r1 - r0) * n)
                                                      : sum1_avx2(W32[l][q] + r0 * n, (r1 - r0) * n);
                break;
            case JOB_SUM4:
                s += elm_host_isa() == ELM_ISA_AVX512 ? sum4_avx512(W32[l][q] + r0 * n, (r1 - r0) * n)
                                                      : sum4_avx2(W32[l][q] + r0 * n, (r1 - r0) * n);
                break;
            case JOB_SGEMV: elm_sgemv(r1 - r0, n, 1.0f, W32[l][q] + r0 * n, n, xv, 0.0f, yv + q * 4096 + r0); break;
            case JOB_SGEMV16: elm_sgemv_bf16(r1 - r0, n, 1.0f, W16[l][q] + r0 * n, n, xv, 0.0f, yv + q * 4096 + r0); break;
#ifdef HAVE_OPENBLAS
            case JOB_BLAS:
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)(r1 - r0), (int)n, 1.0f, W32[l][q] + r0 * n, (int)n, xv, 1,
                            0.0f, yv + q * 4096 + r0, 1);
                break;
#endif
            }
        }
    tk->sum = s;
    return 0;
}

static double run_threads(int job, int nthreads) {
    pthread_t th[NTHREADS];
    task tk[NTHREADS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, 0, (unsigned)nthreads + 1);
    for (int t = 0; t < nthreads; t++) {
        tk[t] = (task){.job = job, .t = t, .nthreads = nthreads, .go = &go};
        pthread_create(&th[t], 0, worker, &tk[t]);
    }
    const double t0 = now();
    pthread_barrier_wait(&go);
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], 0);
    const double t = now() - t0;
    pthread_barrier_destroy(&go);
    for (int t = 0; t < nthreads; t++) sink = (float)tk[t].sum;
    return t;
}

static double best_threads(int job, int nthreads, int reps) {
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        const double t = run_threads(job, nthreads);
        if (r > 0 && t < best) best = t;
    }
    return best;
}

/* Seconds of the streaming read (the limit) on nthreads: the faster of its two patterns. */
static double read_seconds(int nthreads, int reps) {
    const double one = best_threads(JOB_SUM, nthreads, reps), four = best_threads(JOB_SUM4, nthreads, reps);
    return one < four ? one : four;
}

/* Allocates and fills the GEMV matrices (once); returns their f32 bytes. */
static double alloc_gemv_matrices(void) {
    double bytes32 = 0;
    if (xv) {
        for (int l = 0; l < NLAYERS; l++)
            for (int q = 0; q < NSHAPES; q++) bytes32 += 4.0 * gemv_shapes[q][0] * gemv_shapes[q][1];
        return bytes32;
    }
    for (int l = 0; l < NLAYERS; l++)
        for (int q = 0; q < NSHAPES; q++) {
            const long count = gemv_shapes[q][0] * gemv_shapes[q][1];
            W32[l][q] = aligned_alloc(64, sizeof(float) * (size_t)count);
            W16[l][q] = aligned_alloc(64, sizeof(uint16_t) * (size_t)count);
            fill(W32[l][q], count, (unsigned)(l * 3 + q));
            for (long i = 0; i < count; i++) W16[l][q][i] = (uint16_t)(0x3C00 + (i & 0x7F)); /* small floats */
            bytes32 += 4.0 * count;
        }
    xv = aligned_alloc(64, sizeof(float) * 4096);
    yv = aligned_alloc(64, sizeof(float) * 3 * 4096);
    fill(xv, 4096, 7);
    return bytes32;
}

static void bench_gemv(void) {
    const double bytes32 = alloc_gemv_matrices();
    const int host = elm_host_isa();
    printf("\nGEMV over %d x {[3072,1024], [1024,3072], [2048,1024]} = %.0f MB f32 / %.0f MB bf16 (LLC-busting)\n",
           NLAYERS, bytes32 / 1e6, bytes32 / 2e6);
    printf("%-8s %-28s %3s %8s %7s %6s\n", "isa", "kernel", "thr", "GB/s", "ms/pass", "of BW");
    for (int nt = NTHREADS; nt >= 1; nt--) {
        const double tbw = read_seconds(nt, 5), bw = bytes32 / tbw / 1e9;
        printf("%-8s %-28s %3d %8.1f %7.2f %5.1f%%\n", isa_name[host], "streaming read (the limit)", nt, bw,
               1e3 * tbw, 100.0);
        for (int isa = host; isa >= ELM_ISA_AVX2; isa--) {
            elm_set_isa(isa);
            const double t32 = best_threads(JOB_SGEMV, nt, 5), t16 = best_threads(JOB_SGEMV16, nt, 5);
            printf("%-8s %-28s %3d %8.1f %7.2f %5.1f%%\n", isa_name[isa], "elm_sgemv (f32)", nt, bytes32 / t32 / 1e9,
                   1e3 * t32, 100 * bytes32 / t32 / 1e9 / bw);
            printf("%-8s %-28s %3d %8.1f %7.2f %5.1f%%   (%.2fx the f32 time)\n", isa_name[isa], "elm_sgemv_bf16", nt,
                   bytes32 / 2 / t16 / 1e9, 1e3 * t16, 100 * bytes32 / 2 / t16 / 1e9 / bw, t16 / t32);
        }
        elm_set_isa(host);
#ifdef HAVE_OPENBLAS
        const double tb = best_threads(JOB_BLAS, nt, 5);
        printf("%-8s %-28s %3d %8.1f %7.2f %5.1f%%\n", "openblas", "cblas_sgemv (f32)", nt, bytes32 / tb / 1e9,
               1e3 * tb, 100 * bytes32 / tb / 1e9 / bw);
#endif
    }
}

/* m == 1 GEMM without transB (y = B^T x) on one thread, from cache and from memory. */
static void bench_gemv_t(void) {
    printf("\nm = 1 GEMM (1 thread): transB=0 is y = B^T x (transposed GEMV), transB=1 is y = B x\n");
    const long k = 1024, n = 3072;
    for (int tb = 0; tb < 2; tb++) {
        double best = 1e30;
        for (int r = 0; r < 6; r++) {
            const double t0 = now();
            for (int l = 0; l < NLAYERS; l++)
                elm_sgemm(0, tb, 1, n, k, 1.0f, xv, k, W32[l][0], tb ? k : n, 0.0f, yv, n);
            const double t = now() - t0;
            if (r && t < best) best = t;
        }
        printf("%-8s m=1 n=%ld k=%ld trans=N%c  %6.1f GB/s\n", isa_name[elm_active_isa()], n, k, tb ? 'T' : 'N',
               NLAYERS * 4.0 * n * k / best / 1e9);
    }
}

/* A few rows times every GEMV matrix (as B^T, like a short prompt through the layers), one thread,
 * weights from memory: the unpacked few-rows kernel against packing B for the blocked GEMM. */
static void bench_rows(void) {
    const double bytes32 = alloc_gemv_matrices();
    static const long ms[] = {2, 4, 8, 12, 16, 24, 32};
    float *A = aligned_alloc(64, sizeof(float) * 32 * 4096), *Cm = aligned_alloc(64, sizeof(float) * 32 * 4096);
    fill(A, 32 * 4096, 11);
    printf("\nm rows x B^T over the GEMV matrices (1 thread, weights from memory): GB/s of weights read\n");
    printf("%4s %14s %14s %14s %14s\n", "m", "f32 unpacked", "f32 packed", "bf16 unpacked", "bf16 packed");
    for (unsigned t = 0; t < sizeof ms / sizeof ms[0]; t++) {
        const long m = ms[t];
        double gbs[4];
        for (int v = 0; v < 4; v++) {
            const int bf16 = v >= 2;
            elm_set_rows_max(v % 2 ? 0 : -1);
            double best = 1e30;
            for (int r = 0; r < 4; r++) {
                const double t0 = now();
                for (int l = 0; l < NLAYERS; l++)
                    for (int q = 0; q < NSHAPES; q++) {
                        const long n = gemv_shapes[q][0], k = gemv_shapes[q][1];
                        if (bf16) elm_sgemm_bf16b(0, 1, m, n, k, 1.0f, A, k, W16[l][q], k, 0.0f, Cm, n);
                        else elm_sgemm(0, 1, m, n, k, 1.0f, A, k, W32[l][q], k, 0.0f, Cm, n);
                    }
                const double dt = now() - t0;
                if (r && dt < best) best = dt;
            }
            gbs[v] = bytes32 / (bf16 ? 2 : 1) / best / 1e9;
        }
        elm_set_rows_max(-1);
        printf("%4ld %14.1f %14.1f %14.1f %14.1f\n", m, gbs[0], gbs[1], gbs[2], gbs[3]);
    }
    free(A);
    free(Cm);
}

static void *peak_worker(void *arg) {
    double *g = arg;
    *g = best_peak(elm_host_isa() > ELM_ISA_AVX2 ? ELM_ISA_AVX512 : ELM_ISA_AVX2);
    return 0;
}

static void *bf16_peak_worker(void *arg) {
    double *g = arg;
    *g = best_peak(BF16DOT);
    return 0;
}

/* The sum over NTHREADS threads, running at once, of each one's best burst of `worker`. */
static double peak_of_threads(void *(*worker)(void *)) {
    pthread_t th[NTHREADS];
    double g[NTHREADS], sum = 0;
    for (int t = 0; t < NTHREADS; t++) pthread_create(&th[t], 0, worker, &g[t]);
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], 0);
        sum += g[t];
    }
    return sum;
}

/* The machine's limits as measured now, one JSON line (what the end-to-end benchmarks divide by):
 * the FMA peak of NTHREADS threads running at once (each its best burst; one core's alone beside it:
 * two virtual cores may share less than two cores' worth), and the streaming read over the GEMV
 * matrices with that many threads. */
static void print_limits(void) {
    const int host = elm_host_isa();
    const double bytes32 = alloc_gemv_matrices();
    const double one = best_peak(host > ELM_ISA_AVX2 ? ELM_ISA_AVX512 : ELM_ISA_AVX2);
    const double gflops = peak_of_threads(peak_worker);
    /* bf16 compute's limit (VDPBF16PS), 0 without AVX-512 BF16. */
    const double bf16 = elm_host_bf16() ? peak_of_threads(bf16_peak_worker) : 0;
    const double read = bytes32 / read_seconds(NTHREADS, 5) / 1e9;
    printf("{\"isa\": \"%s\", \"threads\": %d, \"fma_gflops\": %.1f, \"fma_gflops_one_core\": %.1f, \"bf16_gflops\": %.1f, "
           "\"read_gb_s\": %.2f}\n", isa_name[host], NTHREADS, gflops, one, bf16, read);
}

/* bench [gemm] [gemv] [rows] | bench limits: the sections to run (default: all but limits). */
int main(int argc, char **argv) {
    int do_gemm = argc < 2, do_gemv = argc < 2, do_rows = argc < 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "gemm")) do_gemm = 1;
        else if (!strcmp(argv[i], "gemv")) do_gemv = 1;
        else if (!strcmp(argv[i], "rows")) do_rows = 1;
        else if (!strcmp(argv[i], "limits") && argc == 2 && elm_host_isa() != ELM_ISA_PORTABLE) {
            print_limits();
            return 0;
        } else {
            fprintf(stderr, "usage: %s [gemm] [gemv] [rows] | %s limits\n", argv[0], argv[0]);
            return 2;
        }
    }
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
    const int host = elm_host_isa();
    double peak[4] = {1, 1, 1, 1};
    printf("host ISA %s\n", isa_name[host]);
    if (host == ELM_ISA_PORTABLE) {
        printf("no AVX2: nothing to benchmark\n");
        return 0;
    }
    for (int isa = ELM_ISA_AVX2; isa <= host; isa++) {
        peak[isa] = best_peak(isa);
        printf("FMA peak %-7s %.1f GFLOP/s per core (independent FMA chains)\n", isa_name[isa], peak[isa]);
    }
    if (elm_host_bf16()) {
        peak[BF16DOT] = best_peak(BF16DOT);
        printf("bf16 peak %-6s %.1f GFLOP/s per core (independent VDPBF16PS chains)\n", "", peak[BF16DOT]);
    }
    if (do_gemm) bench_gemm(peak);
    if (do_gemv) {
        bench_gemv();
        bench_gemv_t();
    }
    if (do_rows) bench_rows();
    return 0;
}
