/* AVX-512 products of a few rows by a weight matrix stored [n,k] (C = alpha A B^T + beta C, A [m,k]
 * with m small: a short prompt, a few decode rows). The blocked GEMM would pack (transpose) all of B
 * for a handful of rows, which costs more than the arithmetic; here each weight row is read once,
 * straight from memory, and dotted with up to four rows of A at a time while it is in L1.
 *
 * Tile: 4 rows of A x 4 rows of B, 16 accumulators, 16 depth steps per iteration. Every tile of a
 * block of weight rows fetches a share of the next block into L2 (prefetch_rows). Missing rows of a
 * tile repeat the tile's last row and their results are dropped. bf16 rows are widened on load (widening
 * a block once into scratch for all tiles measured slower: the widening is cheap, the loads are not). */
#include "simd_avx512.h"

#if ELM_X86

/* acc[r][c] += A row r . B row c over p in [p0, p0 + 16), masked by mk. */
#define TILE_STEP(mk)                                                                                    \
    do {                                                                                                \
        const __m512 b0 = load16(bf16, b[0], p, mk), b1 = load16(bf16, b[1], p, mk);                    \
        const __m512 b2 = load16(bf16, b[2], p, mk), b3 = load16(bf16, b[3], p, mk);                    \
        for (int r = 0; r < 4; r++) {                                                                   \
            const __m512 x = _mm512_maskz_loadu_ps(mk, a[r] + p);                                       \
            acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);                                              \
            acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);                                              \
            acc[r][2] = _mm512_fmadd_ps(x, b2, acc[r][2]);                                              \
            acc[r][3] = _mm512_fmadd_ps(x, b3, acc[r][3]);                                              \
        }                                                                                               \
    } while (0)

/* The next four weight rows (4 * bytes from `next`, row stride `stride`), fetched a few lines per
 * depth step by every tile of the current rows: rows are a few KB, too short for the hardware
 * prefetcher to reach full speed, and spreading the fetch over all tiles keeps memory busy while
 * they compute (past the matrix is harmless). */
typedef struct {
    const char *next;
    long stride, bytes, per_step, row, offset;
} row_prefetch;

/* Into L2, not L1: the current rows and the tile's rows of A need L1. */
INL void prefetch_rows(row_prefetch *f) {
    for (long i = 0; i < f->per_step && f->row < 4; i++) {
        _mm_prefetch(f->next + f->row * f->stride + f->offset, _MM_HINT_T1);
        if ((f->offset += 64) >= f->bytes) f->offset = 0, f->row++;
    }
}

/* C[i..i+mb, j..j+nb] for one tile; b[c] are the four weight rows (element size by bf16). */
INL T void tile(int bf16, const float *const a[4], const char *const b[4], long k, row_prefetch *f, long mb, long nb,
                float alpha, float beta, float *C, long ldc) {
    const long k16 = k & ~15L;
    const __mmask16 tm = tail16(k - k16);
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    long p = 0;
    for (; p < k16; p += 16) {
        prefetch_rows(f);
        TILE_STEP((__mmask16)0xFFFF);
    }
    if (tm) TILE_STEP(tm);
    /* Reduce with constant indices first: indexing acc by the runtime mb, nb would keep it in memory. */
    float sum[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) sum[r][c] = _mm512_reduce_add_ps(acc[r][c]);
    for (long r = 0; r < mb; r++)
        for (long c = 0; c < nb; c++) elm_put(C + r * ldc + c, sum[r][c], alpha, beta);
}

INL T void rows_body(int bf16, long m, long n, long k, float alpha, const float *A, long lda, const void *B, long ldb,
                     float beta, float *C, long ldc) {
    const size_t esz = bf16 ? 2 : 4;
    const long bytes = k * (long)esz, tiles = (m + 3) / 4, steps = k >= 16 ? k / 16 : 1;
    const long per_step = (4 * ((bytes + 63) / 64) + tiles * steps - 1) / (tiles * steps);
    for (long j = 0; j < n; j += 4) {
        const long nb = elm_min(4, n - j);
        const char *b[4];
        for (int c = 0; c < 4; c++) b[c] = (const char *)B + (size_t)(j + elm_min(c, nb - 1)) * (size_t)ldb * esz;
        row_prefetch f = {b[0] + 4 * ldb * (long)esz, ldb * (long)esz, bytes, per_step, 0, 0};
        for (long i = 0; i < m; i += 4) {
            const long mb = elm_min(4, m - i);
            const float *a[4];
            for (int r = 0; r < 4; r++) a[r] = A + (i + elm_min(r, mb - 1)) * lda;
            tile(bf16, a, b, k, &f, mb, nb, alpha, beta, C + i * ldc + j, ldc);
        }
    }
}

T void elm_avx512_rows_nt(long m, long n, long k, float alpha, const float *A, long lda, const float *B, long ldb,
                          float beta, float *C, long ldc) {
    rows_body(0, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

T void elm_avx512_rows16_nt(long m, long n, long k, float alpha, const float *A, long lda, const uint16_t *B,
                            long ldb, float beta, float *C, long ldc) {
    rows_body(1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif
