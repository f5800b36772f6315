/* Thread-local packing buffers: allocated on first use, grown when a larger problem comes, and
 * freed by a pthread key destructor when the thread exits, so the steady state never mallocs and a
 * thread pool does not leak. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "internal.h"

/* Buffers of at least this size are 2 MB aligned and asked to be backed by transparent huge pages.
 * With 4 KB pages the physical addresses of a packed block are scattered at random, so a B block
 * sized for most of the (physically indexed) L2 hits set conflicts in some runs and not others; a
 * huge page is physically contiguous, so the block maps onto the sets evenly in every run. (Sound in
 * theory; on the noisy VM where this was tuned the gain was not measurable. Costs up to 2 MB.) */
#define HUGE_MIN (512u * 1024u)
#define HUGE_PAGE (2u * 1024u * 1024u)

typedef struct {
    void *ptr[ELM_SCRATCH_SLOTS];
    size_t cap[ELM_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local scratch_set *scratch_tls;

static void scratch_free(void *p) {
    scratch_set *s = p;
    for (int i = 0; i < ELM_SCRATCH_SLOTS; i++) free(s->ptr[i]);
    free(s);
}

static void scratch_make_key(void) { pthread_key_create(&scratch_key, scratch_free); }

static void scratch_fail(size_t bytes) {
    fprintf(stderr, "CKernels: out of memory allocating %zu bytes of scratch\n", bytes);
    abort();
}

void *elm_scratch(int slot, size_t bytes) {
    scratch_set *s = scratch_tls;
    if (!s) {
        pthread_once(&scratch_once, scratch_make_key);
        s = calloc(1, sizeof *s);
        if (!s) scratch_fail(sizeof *s);
        pthread_setspecific(scratch_key, s);
        scratch_tls = s;
    }
    if (s->cap[slot] < bytes || !s->ptr[slot]) {
        /* Round up to whole cache lines (aligned_alloc wants a multiple of the alignment), plus a
         * spare line so vector tails may over-read within the buffer. */
        size_t want = (bytes + 127) & ~(size_t)63;
        size_t align = 64;
        if (want >= HUGE_MIN) {
            align = HUGE_PAGE;
            want = (want + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        }
        free(s->ptr[slot]);
        s->ptr[slot] = aligned_alloc(align, want);
        if (!s->ptr[slot]) scratch_fail(want);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (align == HUGE_PAGE) madvise(s->ptr[slot], want, MADV_HUGEPAGE); /* a hint; failure is harmless */
#endif
        s->cap[slot] = want;
    }
    return s->ptr[slot];
}
