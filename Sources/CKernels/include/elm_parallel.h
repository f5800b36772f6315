/* The worker pool behind Compute's Parallel, and the per-thread mark that keeps nested loops on
 * their thread.
 *
 * A decoded token is ~200 products of 0.1 – 0.4 ms each; handing each to a parked thread costs a
 * futex wake and the thread's late start, a tenth of the product. The pool's helpers instead spin
 * a short while after each task for the next one (then park), and chunks are claimed one at a time,
 * so a helper that arrives late, or whose core a neighbouring process took, costs only its
 * unfinished chunk. */
#ifndef ELM_PARALLEL_H
#define ELM_PARALLEL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the calling thread as inside (1) or outside (0) a parallel chunk; returns the previous mark.
 * Work started inside a chunk runs on that thread instead of dispatching to workers again, so nested
 * loops never oversubscribe the cores. */
int elm_parallel_mark(int inside);
int elm_parallel_inside(void);

/* One chunk of a task: chunk is in 0..<chunks. */
typedef void (*elm_chunk_fn)(void *context, long chunk);

/* Runs fn(context, c) for every c in 0..<chunks on the calling thread and whichever helpers are
 * free, each chunk marked inside; returns when all have finished. Returns 0 without running
 * anything when another thread's task holds the pool (the caller runs it some other way). */
int elm_pool_run(elm_chunk_fn fn, void *context, long chunks);

/* A helper's loop, for ever: the caller gives it a thread of its own (Compute starts them on
 * Dispatch threads). Helpers may join at any time; a task never waits for one to arrive. */
void elm_pool_serve(void);

/* How long a helper spins for the next task before it parks, in microseconds (default 200). */
void elm_pool_set_spin_us(long microseconds);

#ifdef __cplusplus
}
#endif

#endif
