/* Private to CKernels: the AVX-512 helpers every AVX-512 kernel file shares (target attribute, tail
 * masks, loads that widen bf16). Included only from files compiled with run-time dispatch. */
#ifndef ELM_SIMD_AVX512_H
#define ELM_SIMD_AVX512_H

#include "internal.h"

#if ELM_X86
#include <immintrin.h>

#define T ELM_TARGET_AVX512
#define INL static inline __attribute__((always_inline))

/* Lanes [0, w) set, w clamped to [0, 16]. */
INL T __mmask16 tail16(long w) {
    return w >= 16 ? (__mmask16)0xFFFF : w <= 0 ? (__mmask16)0 : (__mmask16)((1u << w) - 1);
}

/* 16 bf16 as float32: the bits shifted into the upper half of each dword (exact). */
INL T __m512 widen16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

/* The masked lanes of 16 consecutive source elements as floats (the rest 0); bf16 != 0: src is
 * uint16_t, widened on load. */
INL T __m512 load16(const int bf16, const void *src, long off, __mmask16 m) {
    if (bf16) return widen16(_mm256_maskz_loadu_epi16(m, (const uint16_t *)src + off));
    return _mm512_maskz_loadu_ps(m, (const float *)src + off);
}

/* Lanes [0, w) set, w clamped to [0, 32] (16-bit elements). */
INL T __mmask32 tail32(long w) {
    return w >= 32 ? (__mmask32)0xFFFFFFFFu : w <= 0 ? (__mmask32)0 : (__mmask32)((1u << w) - 1);
}

/* In-register transpose of 16 rows of 16 floats: unpack pairs, then pairs of pairs, then 128-bit
 * lanes twice. Afterwards r[q] holds column q of the input. */
INL T void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 4; g++) {
        const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
        r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* Now r[4g + c], 128-bit lane L = rows 4g..4g+3 of column 4L + c. */
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xdd);
    }
}

/* The microkernels' epilogue: C[mr, nr] (ldc) = alpha * acc + beta * C, the tile's 32 columns held as
 * c0 (0..15) and c1 (16..31) per row; beta == 0 does not read C; columns past nr are not written. */
INL T void store_tile32(const int mr, const __m512 *c0, const __m512 *c1, float *c, long ldc, int nr, float alpha,
                        float beta) {
    const __mmask16 m0 = tail16(nr), m1 = tail16(nr - 16);
    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
        for (int i = 0; i < mr; i++) {
            _mm512_mask_storeu_ps(c + i * ldc, m0, _mm512_mul_ps(va, c0[i]));
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, _mm512_mul_ps(va, c1[i]));
        }
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
        for (int i = 0; i < mr; i++) {
            float *r = c + i * ldc;
            _mm512_mask_storeu_ps(r, m0, _mm512_fmadd_ps(va, c0[i], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, r))));
            _mm512_mask_storeu_ps(r + 16, m1, _mm512_fmadd_ps(va, c1[i], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, r + 16))));
        }
    }
}
#endif

#endif
