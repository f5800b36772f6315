/* Private to CKernels: the AVX2 + FMA helpers every AVX2 kernel file shares (target attribute, tail
 * masks, loads that widen bf16). Included only from files compiled with run-time dispatch. */
#ifndef ELM_SIMD_AVX2_H
#define ELM_SIMD_AVX2_H

#include "internal.h"

#if ELM_X86
#include <immintrin.h>

#define T ELM_TARGET_AVX2
#define INL static inline __attribute__((always_inline))

static const int32_t elm_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
/* Lanes [0, w) set, w clamped to [0, 8]. */
INL T __m256i tail8(long w) {
    w = w < 0 ? 0 : w > 8 ? 8 : w;
    return _mm256_loadu_si256((const __m256i *)(elm_mask_table + 8 - w));
}

/* Loads w (0..8) consecutive source elements as floats, zero-filling the rest; bf16 != 0: src is
 * uint16_t, widened on load (a short tail through a zero-padded copy: AVX2 has no masked 16-bit load). */
INL T __m256 load8(const int bf16, const void *src, long off, long w) {
    if (bf16) {
        const uint16_t *s = (const uint16_t *)src + off;
        __m128i h;
        if (w >= 8) {
            h = _mm_loadu_si128((const __m128i *)s);
        } else {
            uint16_t tmp[8] = {0};
            for (long i = 0; i < w; i++) tmp[i] = s[i];
            h = _mm_loadu_si128((const __m128i *)tmp);
        }
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    const float *s = (const float *)src + off;
    return w >= 8 ? _mm256_loadu_ps(s) : _mm256_maskload_ps(s, tail8(w));
}
#endif

#endif
