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
#endif

#endif
