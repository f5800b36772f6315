/* Whether the calling thread is running a chunk of a parallel loop (Compute's Parallel): work it
 * starts runs on that thread instead of dispatching to workers again, so nested loops never
 * oversubscribe the cores. */
#ifndef ELM_PARALLEL_H
#define ELM_PARALLEL_H

/* Marks the calling thread as inside (1) or outside (0) a parallel chunk; returns the previous mark. */
int elm_parallel_mark(int inside);
int elm_parallel_inside(void);

#endif
