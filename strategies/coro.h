/* coro.h - stackful coroutines for strategies/coroutines.c: a context switch
 * (glibc's makecontext/swapcontext) and stacks carved from one mapping, each
 * with a guard page below. */
#ifndef IOSTRAT_CORO_H
#define IOSTRAT_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

/* How a switch is made. */
enum coro_switch_kind {
	CORO_SWAPCONTEXT =
	    0, /* glibc's swapcontext(): also the signal mask, a system call */
	CORO_MINIMAL, /* callee-saved registers, stack pointer, FPU control
			 words */
};

/* One flow of control: a coroutine, or the thread's own (made by
 * coro_thread()). */
struct coro {
	ucontext_t
	    context; /* registers, stack pointer, signal mask, switched out */
	void *sp;    /* CORO_MINIMAL: the stack pointer, switched out */
	void *stack; /* its stack's lowest usable byte; the thread's: NULL */
	size_t stack_bytes; /* usable bytes of it */
	struct coro *back;  /* where it goes when its entry function returns */
	void (*entry)(void *arg); /* what it runs */
	void *arg;		  /* entry's argument */
	bool finished; /* entry returned: the coroutine is not to be resumed */
	void *asan_fake_stack; /* AddressSanitizer's fake stack while switched
				  out */
	const void
	    *asan_bottom;  /* the thread's own stack, as ASan reported it */
	size_t asan_bytes; /* ... its size */
	void *tsan_fiber;  /* ThreadSanitizer's fiber, NULL without it */
};

/* The calling thread's own flow, which coroutines are switched from and back
 * to, and how this thread's switches are made. */
void coro_thread(struct coro *thread, enum coro_switch_kind kind);

/* Why this machine has no CORO_MINIMAL switch, or NULL when it has. */
const char *coro_minimal_unavailable(void);

/* A new coroutine on stack [stack, stack + stack_bytes): when resumed first it
 * calls entry(arg); when entry returns it is finished and switches to back for
 * the last time. */
void coro_make(struct coro *coro, void *stack, size_t stack_bytes,
	       void (*entry)(void *arg), void *arg, struct coro *back);

/* Save from, resume to. Returns when something switches back to from. glibc's
 * swapcontext saves and restores the signal mask: one rt_sigprocmask system
 * call per switch; the minimal switch saves what the C calling convention says
 * a function must keep, and makes no system call. */
void coro_switch(struct coro *from, struct coro *to);

/* In a coroutine: end it here (as if its entry function returned), switching to
 * back. */
void coro_exit(struct coro *self) __attribute__((noreturn));

/* In a signal handler, given its third argument: when the handler returns, the
 * interrupted flow goes on in fn, on [stack, stack + stack_bytes), rather than
 * where it was: a way out of a coroutine whose own stack is used up. */
void coro_redirect(void *signal_context, void (*fn)(void), void *stack,
		   size_t stack_bytes);

/* A finished coroutine's last remains (ThreadSanitizer's fiber). */
void coro_forget(struct coro *coro);

/* Switches made in this process so far. */
uint64_t coro_switches(void);

/* The stacks: count slots of guard + stack_bytes in one anonymous mapping
 * reserved without swap (MAP_NORESERVE): pages become resident only when
 * touched. Each guard page is a guard region (madvise MADV_GUARD_INSTALL,
 * Linux 6.13), which keeps the mapping one VMA: 100,000 PROT_NONE pages would
 * be 200,000 mappings, past the usual vm.max_map_count of 65,530. On an older
 * kernel the guards are PROT_NONE pages (mprotect). */
struct coro_stacks {
	char *base;		/* the mapping */
	size_t map_bytes;	/* its size */
	size_t slot_bytes;	/* guard + stack, a multiple of the page size */
	size_t guard_bytes;	/* one page */
	long count;		/* slots */
	const char *guard_kind; /* "guard region" or "PROT_NONE page" */
};

/* 0, or -errno with *failed naming the call. */
int coro_stacks_init(struct coro_stacks *stacks, long count, size_t stack_bytes,
		     const char **failed);
/* Slot index's usable stack: its lowest byte; it is stack_bytes long. */
void *coro_stack(const struct coro_stacks *stacks, long index);
size_t coro_stack_bytes(const struct coro_stacks *stacks);
/* The slot whose guard page holds address, or -1. Async-signal-safe. */
long coro_stacks_guard_of(const struct coro_stacks *stacks,
			  const void *address);
/* Bytes of the first used slots' stacks that are resident (mincore). */
uint64_t coro_stacks_resident_bytes(const struct coro_stacks *stacks,
				    long used);
void coro_stacks_free(struct coro_stacks *stacks);

#endif
