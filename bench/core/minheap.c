/* minheap.c - a binary min-heap in an array: push and pop in O(log n). */
#include <errno.h>
#include <stdlib.h>

#include "minheap.h"

int minheap_init(struct minheap *heap, size_t cap)
{
	heap->len = 0;
	heap->cap = cap > 0 ? cap : 16;
	heap->items = malloc(heap->cap * sizeof(heap->items[0]));
	return heap->items != NULL ? 0 : -ENOMEM;
}

void minheap_free(struct minheap *heap)
{
	free(heap->items);
	heap->items = NULL;
	heap->len = heap->cap = 0;
}

int minheap_push(struct minheap *heap, int64_t key, long value)
{
	if (heap->len == heap->cap) {
		size_t cap = heap->cap * 2;
		struct minheap_item *items =
		    realloc(heap->items, cap * sizeof(items[0]));
		if (items == NULL)
			return -ENOMEM;
		heap->items = items;
		heap->cap = cap;
	}
	size_t i = heap->len++;
	while (i > 0 && heap->items[(i - 1) / 2].key > key) {
		heap->items[i] = heap->items[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap->items[i] = (struct minheap_item){.key = key, .value = value};
	return 0;
}

struct minheap_item minheap_top(const struct minheap *heap)
{
	return heap->items[0];
}

struct minheap_item minheap_pop(struct minheap *heap)
{
	struct minheap_item top = heap->items[0];
	struct minheap_item last = heap->items[--heap->len];
	size_t i = 0;

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= heap->len)
			break;
		if (child + 1 < heap->len &&
		    heap->items[child + 1].key < heap->items[child].key)
			child++;
		if (heap->items[child].key >= last.key)
			break;
		heap->items[i] = heap->items[child];
		i = child;
	}
	if (heap->len > 0)
		heap->items[i] = last;
	return top;
}
