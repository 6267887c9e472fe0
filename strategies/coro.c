/* coro.c - the context switch and the stacks behind strategies/coroutines.c. A
 * switch is glibc's swapcontext(): it saves the callee-saved registers, the
 * stack pointer and the FPU control words, and it also saves and restores the
 * signal mask, which is a system call (rt_sigprocmask) on every switch: the
 * price of a portable switch. Teaches: makecontext, swapcontext, mmap,
 * madvise(MADV_GUARD_INSTALL), mincore. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coro.h"
#include "coro_sanitizer.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL                                                     \
	102 /* Linux 6.13: a guard region that keeps the VMA whole */
#endif
#define CORO_GUARDS_PER_CALL 1024 /* ranges per process_madvise() (IOV_MAX) */
#define CORO_MAPS_RESERVE 1024	  /* mappings left for everything else */

/* The registers a signal handler's context holds, by architecture. */
#if defined(__x86_64__)
static void coro_set_pc_sp(ucontext_t *context, uintptr_t pc, uintptr_t sp)
{
	context->uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
	context->uc_mcontext.gregs[REG_RSP] =
	    (greg_t)(sp - 8); /* as after a call */
}
#elif defined(__aarch64__)
static void coro_set_pc_sp(ucontext_t *context, uintptr_t pc, uintptr_t sp)
{
	context->uc_mcontext.pc = pc;
	context->uc_mcontext.sp = sp;
}
#else
#error "coro_set_pc_sp: only x86-64 and arm64 are known"
#endif

/* The minimal switch, x86-64 System V: push the registers a callee must keep
 * (rbp, rbx, r12-r15) and the SSE and x87 control words, store the stack
 * pointer in *save_sp, load load_sp, pop the same from there and return into
 * the other flow. No system call: the signal mask is the thread's, whichever
 * flow runs. */
#if defined(__x86_64__)
void coro_minimal_switch(void **save_sp, void *load_sp);
__asm__(".text\n"
	".globl coro_minimal_switch\n"
	".hidden coro_minimal_switch\n"
	".type coro_minimal_switch, @function\n"
	"coro_minimal_switch:\n"
	"\tpushq %rbp\n"
	"\tpushq %rbx\n"
	"\tpushq %r12\n"
	"\tpushq %r13\n"
	"\tpushq %r14\n"
	"\tpushq %r15\n"
	"\tsubq $16, %rsp\n"
	"\tstmxcsr 8(%rsp)\n"
	"\tfnstcw (%rsp)\n"
	"\tmovq %rsp, (%rdi)\n"
	"\tmovq %rsi, %rsp\n"
	"\tfldcw (%rsp)\n"
	"\tldmxcsr 8(%rsp)\n"
	"\taddq $16, %rsp\n"
	"\tpopq %r15\n"
	"\tpopq %r14\n"
	"\tpopq %r13\n"
	"\tpopq %r12\n"
	"\tpopq %rbx\n"
	"\tpopq %rbp\n"
	"\tret\n"
	".size coro_minimal_switch, .-coro_minimal_switch\n");

/* A new flow's stack as coro_minimal_switch() leaves one: control words, six
 * registers, then the address it returns to (entry), then a null return address
 * for entry itself, so that entry starts with the stack aligned as after a
 * call. */
static void *coro_minimal_prepare(void *stack, size_t stack_bytes,
				  void (*entry)(void))
{
	uint64_t *top =
	    (uint64_t *)(((uintptr_t)stack + stack_bytes) & ~(uintptr_t)15);
	uint64_t *sp = top - 10;

	memset(sp, 0, 10 * sizeof(*sp));
	sp[0] = 0x037F;		  /* x87 control word: the default */
	sp[1] = 0x1F80;		  /* MXCSR: the default */
	sp[8] = (uintptr_t)entry; /* after the six registers: where ret goes */
	sp[9] = 0;		  /* entry's own return address: none */
	return sp;
}

const char *coro_minimal_unavailable(void)
{
	return NULL;
}
#else
static void coro_minimal_switch(void **save_sp, void *load_sp)
{
	(void)save_sp;
	(void)load_sp;
	abort(); /* refused before: coro_minimal_unavailable() */
}

static void *coro_minimal_prepare(void *stack, size_t stack_bytes,
				  void (*entry)(void))
{
	(void)stack;
	(void)stack_bytes;
	(void)entry;
	return NULL;
}

const char *coro_minimal_unavailable(void)
{
	return "the minimal switch is written for x86-64 only";
}
#endif

static uint64_t coro_switch_count; /* every coro_switch() of the process */
static __thread enum coro_switch_kind coro_kind; /* this thread's switches */
static __thread struct coro
    *coro_entering;			   /* the coroutine being switched to */
static __thread struct coro *coro_leaving; /* the one being switched from */
static __thread struct coro
    *coro_template; /* the thread's: a context to copy */

void coro_thread(struct coro *thread, enum coro_switch_kind kind)
{
	memset(thread, 0, sizeof(*thread));
	coro_kind = kind;
	getcontext(&thread->context);
	thread->tsan_fiber = coro_tsan_current();
	coro_template = thread;
}

uint64_t coro_switches(void)
{
	return coro_switch_count;
}

/* Right after a switch, in the flow that was resumed: AddressSanitizer learns
 * it is on self's stack again, and tells where the stack switched from was (the
 * thread's, the first time). */
static void coro_arrived(struct coro *self)
{
	const void *bottom = NULL;
	size_t bytes = 0;

	coro_asan_finish(self->asan_fake_stack, &bottom, &bytes);
	if (coro_leaving != NULL && coro_leaving->stack == NULL) {
		coro_leaving->asan_bottom = bottom;
		coro_leaving->asan_bytes = bytes;
	}
}

void coro_switch(struct coro *from, struct coro *to)
{
	const void *bottom = to->stack != NULL ? to->stack : to->asan_bottom;
	size_t bytes = to->stack != NULL ? to->stack_bytes : to->asan_bytes;

	coro_switch_count++;
	coro_entering = to;
	coro_leaving = from;
	/* a finished coroutine's fake stack is freed: it is never resumed */
	coro_asan_start(from->finished ? NULL : &from->asan_fake_stack, bottom,
			bytes);
	coro_tsan_switch(to->tsan_fiber);
	if (coro_kind == CORO_MINIMAL)
		coro_minimal_switch(&from->sp, to->sp);
	else
		swapcontext(&from->context, &to->context);
	coro_arrived(from);
}

void coro_exit(struct coro *self)
{
	self->finished = true;
	coro_switch(self, self->back);
	__builtin_unreachable(); /* a finished coroutine is never resumed */
}

void coro_redirect(void *signal_context, void (*fn)(void), void *stack,
		   size_t stack_bytes)
{
	uintptr_t top = ((uintptr_t)stack + stack_bytes) & ~(uintptr_t)15;

	coro_set_pc_sp(signal_context, (uintptr_t)fn, top);
}

/* Where every coroutine begins (makecontext passes only ints: the coroutine is
 * the one being entered), and where it ends: the last switch, back to where it
 * came from. */
static void coro_trampoline(void)
{
	struct coro *self = coro_entering;

	coro_arrived(self);
	self->entry(self->arg);
	coro_exit(self);
}

/* The ucontext way: a copy of the thread's context rather than getcontext(),
 * which is one more rt_sigprocmask: makecontext sets the registers, the mask is
 * the thread's. */
static void coro_make_context(struct coro *coro, void *stack,
			      size_t stack_bytes)
{
	memcpy(&coro->context, &coro_template->context, sizeof(coro->context));
	coro->context.uc_mcontext.fpregs = &coro->context.__fpregs_mem;
	coro->context.uc_stack.ss_sp = stack;
	coro->context.uc_stack.ss_size = stack_bytes;
	coro->context.uc_link = NULL;
	makecontext(&coro->context, coro_trampoline, 0);
}

void coro_make(struct coro *coro, void *stack, size_t stack_bytes,
	       void (*entry)(void *arg), void *arg, struct coro *back)
{
	void *fiber = coro->tsan_fiber;

	if (coro_kind == CORO_MINIMAL)
		coro->sp =
		    coro_minimal_prepare(stack, stack_bytes, coro_trampoline);
	else
		coro_make_context(coro, stack, stack_bytes);
	coro->stack = stack;
	coro->stack_bytes = stack_bytes;
	coro->back = back;
	coro->entry = entry;
	coro->arg = arg;
	coro->finished = false;
	coro->asan_fake_stack = NULL;
	coro->tsan_fiber = fiber != NULL ? fiber : coro_tsan_create();
}

void coro_forget(struct coro *coro)
{
	if (coro->tsan_fiber != NULL && coro->stack != NULL)
		coro_tsan_destroy(coro->tsan_fiber);
	coro->tsan_fiber = NULL;
}

/* ---- stacks -------------------------------------------------------------- */

static size_t coro_page_bytes(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Mappings this process has now: lines of /proc/self/maps. */
static long coro_maps_now(void)
{
	char buf[4096];
	long lines = 0;
	FILE *maps = fopen("/proc/self/maps", "r");

	if (maps == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), maps) != NULL)
		lines += strchr(buf, '\n') != NULL;
	fclose(maps);
	return lines;
}

static long coro_maps_max(void)
{
	long most = 65530;
	FILE *file = fopen("/proc/sys/vm/max_map_count", "r");

	if (file != NULL) {
		if (fscanf(file, "%ld", &most) != 1)
			most = 65530;
		fclose(file);
	}
	return most;
}

/* Every guard page as a guard region, CORO_GUARDS_PER_CALL of them per
 * process_madvise() on this process's pidfd. 0, or -errno (EINVAL: a kernel
 * before 6.13). */
static int coro_guard_regions(struct coro_stacks *stacks)
{
	struct iovec ranges[CORO_GUARDS_PER_CALL];
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int err = 0;

	if (pidfd < 0)
		return -errno;
	for (long first = 0; first < stacks->count && err == 0;
	     first += CORO_GUARDS_PER_CALL) {
		long n = stacks->count - first;
		if (n > CORO_GUARDS_PER_CALL)
			n = CORO_GUARDS_PER_CALL;
		for (long i = 0; i < n; i++) {
			ranges[i].iov_base =
			    stacks->base +
			    (size_t)(first + i) * stacks->slot_bytes;
			ranges[i].iov_len = stacks->guard_bytes;
		}
		if (syscall(SYS_process_madvise, pidfd, ranges, (size_t)n,
			    MADV_GUARD_INSTALL, 0) < 0)
			err = -errno;
	}
	close(pidfd);
	return err;
}

/* An older kernel: a PROT_NONE page per slot, each a mapping of its own (with
 * the stack between, two per slot): refuse what vm.max_map_count would not
 * allow. */
static int coro_guard_pages(struct coro_stacks *stacks, const char **failed)
{
	long needed = 2 * stacks->count + coro_maps_now() + CORO_MAPS_RESERVE;

	if (needed > coro_maps_max()) {
		*failed =
		    "guard pages (vm.max_map_count is too low for a PROT_NONE "
		    "page per stack; lower --jobs)";
		return -ENOMEM;
	}
	for (long i = 0; i < stacks->count; i++) {
		if (mprotect(stacks->base + (size_t)i * stacks->slot_bytes,
			     stacks->guard_bytes, PROT_NONE) < 0) {
			*failed = "mprotect PROT_NONE for a guard page";
			return -errno;
		}
	}
	stacks->guard_kind = "PROT_NONE page";
	return 0;
}

int coro_stacks_init(struct coro_stacks *stacks, long count, size_t stack_bytes,
		     const char **failed)
{
	size_t page = coro_page_bytes();
	size_t usable = (stack_bytes + page - 1) / page * page;

	memset(stacks, 0, sizeof(*stacks));
	stacks->guard_bytes = page;
	stacks->slot_bytes = page + usable;
	stacks->count = count;
	stacks->map_bytes = stacks->slot_bytes * (size_t)count;
	void *map = mmap(
	    NULL, stacks->map_bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (map == MAP_FAILED) {
		*failed = "mmap for the stacks";
		return -errno;
	}
	stacks->base = map;
	stacks->guard_kind = "guard region";
	int err = coro_guard_regions(stacks);
	if (err == 0)
		return 0;
	err = coro_guard_pages(stacks, failed);
	if (err < 0)
		coro_stacks_free(stacks);
	return err;
}

void *coro_stack(const struct coro_stacks *stacks, long index)
{
	return stacks->base + (size_t)index * stacks->slot_bytes +
	       stacks->guard_bytes;
}

size_t coro_stack_bytes(const struct coro_stacks *stacks)
{
	return stacks->slot_bytes - stacks->guard_bytes;
}

long coro_stacks_guard_of(const struct coro_stacks *stacks, const void *address)
{
	uintptr_t at = (uintptr_t)address;
	uintptr_t base = (uintptr_t)stacks->base;

	if (stacks->base == NULL || at < base || at - base >= stacks->map_bytes)
		return -1;
	size_t offset = at - base;
	if (offset % stacks->slot_bytes >= stacks->guard_bytes)
		return -1;
	return (long)(offset / stacks->slot_bytes);
}

uint64_t coro_stacks_resident_bytes(const struct coro_stacks *stacks, long used)
{
	size_t page = coro_page_bytes();
	size_t pages = stacks->slot_bytes * (size_t)used / page;
	size_t slot_pages = stacks->slot_bytes / page;
	uint64_t resident = 0;

	if (used <= 0 || stacks->base == NULL)
		return 0;
	/* one byte a page; mapped, so that it stays out of the heap figures */
	unsigned char *vec = mmap(NULL, pages, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vec == MAP_FAILED)
		return 0;
	if (mincore(stacks->base, pages * page, vec) == 0) {
		for (size_t p = 0; p < pages; p++) {
			if (p % slot_pages != 0) /* not a guard page */
				resident += vec[p] & 1;
		}
	}
	munmap(vec, pages);
	return resident * page;
}

void coro_stacks_free(struct coro_stacks *stacks)
{
	if (stacks->base != NULL)
		munmap(stacks->base, stacks->map_bytes);
	stacks->base = NULL;
}
