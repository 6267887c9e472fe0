/* coro_sanitizer.h - telling AddressSanitizer and ThreadSanitizer that the
 * thread changes stacks (strategies/coro.c). Without a sanitizer every call is
 * an empty stub. */
#ifndef IOSTRAT_CORO_SANITIZER_H
#define IOSTRAT_CORO_SANITIZER_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define CORO_SANITIZED 1
static inline void coro_asan_start(void **fake_stack_save, const void *bottom,
				   size_t bytes)
{
	__sanitizer_start_switch_fiber(fake_stack_save, bottom, bytes);
}
static inline void coro_asan_finish(void *fake_stack_save,
				    const void **bottom_old, size_t *bytes_old)
{
	__sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, bytes_old);
}
#else
static inline void coro_asan_start(void **fake_stack_save, const void *bottom,
				   size_t bytes)
{
	(void)fake_stack_save;
	(void)bottom;
	(void)bytes;
}
static inline void coro_asan_finish(void *fake_stack_save,
				    const void **bottom_old, size_t *bytes_old)
{
	(void)fake_stack_save;
	(void)bottom_old;
	(void)bytes_old;
}
#endif

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define CORO_SANITIZED 1
static inline void *coro_tsan_current(void)
{
	return __tsan_get_current_fiber();
}
static inline void *coro_tsan_create(void)
{
	return __tsan_create_fiber(0);
}
static inline void coro_tsan_destroy(void *fiber)
{
	__tsan_destroy_fiber(fiber);
}
static inline void coro_tsan_switch(void *fiber)
{
	__tsan_switch_to_fiber(fiber, 0);
}
#else
static inline void *coro_tsan_current(void)
{
	return NULL;
}
static inline void *coro_tsan_create(void)
{
	return NULL;
}
static inline void coro_tsan_destroy(void *fiber)
{
	(void)fiber;
}
static inline void coro_tsan_switch(void *fiber)
{
	(void)fiber;
}
#endif

#ifndef CORO_SANITIZED
#define CORO_SANITIZED 0
#endif

#endif
