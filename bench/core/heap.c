/* heap.c - counts the heap by replacing malloc, free, calloc, realloc and the
 * aligned allocators (glibc's "Replacing malloc"): each one calls glibc's own
 * allocator (__libc_malloc and friends) and adds or takes away
 * malloc_usable_size() of the block. Two atomic counters, no lock; a forked
 * child starts from its parent's figures, as tracemalloc does. */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "heap.h"

static _Atomic uint64_t heap_current; /* bytes in live blocks, as usable size */
static _Atomic uint64_t heap_peak; /* highest heap_current seen since start or
				      reset */

#ifdef IOSTRAT_NO_HEAP_HOOK

bool heap_measured(void)
{
	return false;
}

#else

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

bool heap_measured(void)
{
	return true;
}

static void heap_add(void *ptr)
{
	if (ptr == NULL)
		return;
	uint64_t bytes = malloc_usable_size(ptr);
	uint64_t now = atomic_fetch_add_explicit(&heap_current, bytes,
						 memory_order_relaxed) +
		       bytes;
	uint64_t peak = atomic_load_explicit(&heap_peak, memory_order_relaxed);
	while (now > peak && !atomic_compare_exchange_weak_explicit(
				 &heap_peak, &peak, now, memory_order_relaxed,
				 memory_order_relaxed))
		;
}

static void heap_sub(void *ptr)
{
	if (ptr != NULL)
		atomic_fetch_sub_explicit(&heap_current,
					  malloc_usable_size(ptr),
					  memory_order_relaxed);
}

void *malloc(size_t size)
{
	void *ptr = __libc_malloc(size);
	heap_add(ptr);
	return ptr;
}

void free(void *ptr)
{
	heap_sub(ptr);
	__libc_free(ptr);
}

void *calloc(size_t count, size_t size)
{
	void *ptr = __libc_calloc(count, size);
	heap_add(ptr);
	return ptr;
}

void *realloc(void *ptr, size_t size)
{
	size_t old_bytes = ptr != NULL ? malloc_usable_size(ptr) : 0;
	void *moved = __libc_realloc(ptr, size);
	if (moved == NULL && size != 0)
		return NULL; /* the old block is untouched */
	atomic_fetch_sub_explicit(&heap_current, old_bytes,
				  memory_order_relaxed);
	heap_add(moved);
	return moved;
}

void *memalign(size_t alignment, size_t size)
{
	void *ptr = __libc_memalign(alignment, size);
	heap_add(ptr);
	return ptr;
}

void *aligned_alloc(size_t alignment, size_t size)
{
	return memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
	if (alignment % sizeof(void *) != 0 ||
	    (alignment & (alignment - 1)) != 0)
		return EINVAL;
	void *ptr = memalign(alignment, size);
	if (ptr == NULL)
		return ENOMEM;
	*out = ptr;
	return 0;
}

void *valloc(size_t size)
{
	return memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return memalign(page, (size + page - 1) / page * page);
}

#endif

uint64_t heap_current_bytes(void)
{
	return atomic_load_explicit(&heap_current, memory_order_relaxed);
}

uint64_t heap_peak_bytes(void)
{
	return atomic_load_explicit(&heap_peak, memory_order_relaxed);
}

void heap_reset_peak(void)
{
	atomic_store_explicit(&heap_peak, heap_current_bytes(),
			      memory_order_relaxed);
}
