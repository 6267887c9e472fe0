/* minheap.h - a binary min-heap of (key, value) pairs: the event loop's timers,
 * ordered by deadline, and the slots of the ideal schedule, ordered by the time
 * each comes free. */
#ifndef IOSTRAT_MINHEAP_H
#define IOSTRAT_MINHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct minheap_item {
	int64_t key; /* what the heap is ordered by (a time in ns) */
	long value;  /* what it belongs to (a task id, a slot) */
};

struct minheap {
	struct minheap_item *items; /* items[0] is the smallest key */
	size_t len;		    /* items in use */
	size_t cap;		    /* items allocated */
};

int minheap_init(struct minheap *heap, size_t cap);
void minheap_free(struct minheap *heap);
int minheap_push(struct minheap *heap, int64_t key, long value);
/* The smallest item; the heap must not be empty. */
struct minheap_item minheap_top(const struct minheap *heap);
struct minheap_item minheap_pop(struct minheap *heap);

#endif
