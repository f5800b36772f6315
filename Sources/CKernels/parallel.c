/* The per-thread mark of elm_parallel.h: C's _Thread_local is a plain TLS slot, cheaper than
 * anything Swift offers on Linux for a flag read on every parallel call. */
#include "elm_parallel.h"

static _Thread_local int inside_parallel;

int elm_parallel_mark(int inside) {
    int previous = inside_parallel;
    inside_parallel = inside;
    return previous;
}

int elm_parallel_inside(void) { return inside_parallel; }
