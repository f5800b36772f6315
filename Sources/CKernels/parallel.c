/* The per-thread mark and the worker pool of elm_parallel.h.
 *
 * One task at a time holds the pool (a try-lock; other callers are told to run theirs elsewhere).
 * A task is published as a ticket: its generation in the upper 32 bits, the next unclaimed chunk in
 * the lower. Threads claim a chunk by compare-and-swap on the whole ticket, so a helper still
 * holding an old generation can never claim (or skip) a chunk of the next task; the owner waits
 * for `done` to reach the chunk count before it lets the pool go. */
#define _GNU_SOURCE
#include "elm_parallel.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* C's _Thread_local is a plain TLS slot, cheaper than anything Swift offers on Linux for a flag
 * read on every parallel call. */
static _Thread_local int inside_parallel;

int elm_parallel_mark(int inside) {
    int previous = inside_parallel;
    inside_parallel = inside;
    return previous;
}

int elm_parallel_inside(void) { return inside_parallel; }

static struct {
    _Alignas(64) _Atomic uint64_t ticket; /* generation << 32 | next chunk */
    _Atomic(elm_chunk_fn) fn;
    _Atomic(void *) context;
    _Atomic long chunks;
    _Alignas(64) _Atomic long done;
    _Alignas(64) _Atomic int busy;
    _Atomic int sleepers;
    _Atomic uint32_t wake; /* the futex word parked helpers wait on */
    _Atomic long spin_ns;
    /* Until when (CLOCK_MONOTONIC ns) helpers park at once instead of spinning: set when a thread
     * sees signs that a neighbouring process takes its core (see contended()). */
    _Atomic long calm_after_ns;
} pool = {.spin_ns = 200000};

void elm_pool_set_spin_us(long microseconds) {
    atomic_store_explicit(&pool.spin_ns, microseconds < 0 ? 0 : microseconds * 1000, memory_order_relaxed);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* A helper spinning beside a busy neighbour on its core competes with it for the core, and the
 * scheduler slices them evenly: the helper then runs a claimed chunk late while every other thread
 * waits. A parked helper instead gets the core as soon as it is woken. So a helper that sees it
 * lost its core for a while (a gap in its own spin loop), or a task's owner that waits for a
 * helper's chunk longer than its own share took, makes the helpers park at once for a second. */
static const long preempted_ns = 500000, waited_ns = 500000, calm_ns = 1000000000;

static void contended(long now) { atomic_store_explicit(&pool.calm_after_ns, now + calm_ns, memory_order_relaxed); }

static uint32_t generation(uint64_t ticket) { return (uint32_t)(ticket >> 32); }

/* Claims and runs chunks of task `gen` until none is left (or the pool has moved on). */
static void work(uint32_t gen) {
    uint64_t t = atomic_load(&pool.ticket);
    for (;;) {
        if (generation(t) != gen) return;
        const long c = (long)(uint32_t)t;
        if (c >= atomic_load_explicit(&pool.chunks, memory_order_relaxed)) return;
        elm_chunk_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
        void *context = atomic_load_explicit(&pool.context, memory_order_relaxed);
        /* Succeeds only while the ticket is still (gen, c): the fields read above are task gen's. */
        if (!atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) continue;
        const int outer = elm_parallel_mark(1);
        fn(context, c);
        elm_parallel_mark(outer);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
        t = atomic_load(&pool.ticket);
    }
}

int elm_pool_run(elm_chunk_fn fn, void *context, long chunks) {
    if (chunks <= 0) return 1;
    if (chunks > INT32_MAX) return 0;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&pool.busy, &expected, 1)) return 0;
    const uint32_t gen = generation(atomic_load(&pool.ticket)) + 1;
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.context, context, memory_order_relaxed);
    atomic_store_explicit(&pool.chunks, chunks, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_store(&pool.ticket, (uint64_t)gen << 32); /* publishes the fields above */
    if (atomic_load(&pool.sleepers) > 0) {
        atomic_fetch_add(&pool.wake, 1);
        syscall(SYS_futex, &pool.wake, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
    }
    const long began = now_ns();
    work(gen);
    /* Chunks a helper claimed may still be running: spin briefly, then yield the core (the helper
     * may be sharing one with a neighbour). */
    for (long spins = 0, start = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < chunks; spins++) {
        cpu_relax();
        if (spins < 64) continue;
        const long now = now_ns();
        if (!start) start = now;
        if (now - start < 50000) continue;
        if (now - start > waited_ns && now - start > start - began) contended(now);
        sched_yield();
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
    return 1;
}

void elm_pool_serve(void) {
    uint32_t seen = 0;
    for (;;) {
        const uint32_t gen = generation(atomic_load(&pool.ticket));
        if (gen != seen) {
            seen = gen;
            work(gen);
            continue;
        }
        /* Spin for the next task a while, then park until a task finds this helper asleep. */
        const long start = now_ns();
        const long spin = start < atomic_load_explicit(&pool.calm_after_ns, memory_order_relaxed)
                              ? 0 : atomic_load_explicit(&pool.spin_ns, memory_order_relaxed);
        int arrived = 0;
        for (long spins = 1, last = start; !arrived && spin > 0; spins++) {
            cpu_relax();
            arrived = generation(atomic_load_explicit(&pool.ticket, memory_order_relaxed)) != seen;
            if (spins % 64) continue;
            const long now = now_ns();
            if (now - last > preempted_ns) contended(now);
            if (now - last > preempted_ns || now - start >= spin) break;
            last = now;
        }
        if (arrived) continue;
        const uint32_t wake = atomic_load(&pool.wake);
        atomic_fetch_add(&pool.sleepers, 1);
        if (generation(atomic_load(&pool.ticket)) == seen)
            syscall(SYS_futex, &pool.wake, FUTEX_WAIT_PRIVATE, wake, 0, 0, 0);
        atomic_fetch_sub(&pool.sleepers, 1);
    }
}
