/* heap.h - the heap counters: every malloc-family call of the process (the
 * program's own, libcurl's, jansson's, libc's) is counted, the counterpart of
 * Python's tracemalloc. */
#ifndef IOSTRAT_HEAP_H
#define IOSTRAT_HEAP_H

#include <stdbool.h>
#include <stdint.h>

/* true when this build counts (the malloc replacement is in); false in
 * sanitizer builds, where the sanitizer's own allocator must stay in charge. */
bool heap_measured(void);
uint64_t heap_current_bytes(void);
uint64_t heap_peak_bytes(void);
/* Start a new peak from the current figure (tracemalloc.reset_peak()). */
void heap_reset_peak(void);

#endif
