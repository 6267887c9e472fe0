/* coroutines.c - the tutorial's await, in C: one thread, one epoll loop, and
 * every task a coroutine running the same straight-line task code as blocking,
 * processes and threads, on a small stack of its own (strategies/coro.c). Where
 * that code would block it calls bench/core/wait.h, whose hooks here yield to
 * the loop: a sleep becomes a deadline in a min-heap behind one timerfd, a read
 * goes to worker threads that wake the loop through an eventfd, a transfer
 * joins libcurl's multi handle. The loop resumes the coroutine when its event
 * comes. Teaches: swapcontext, epoll_wait, timerfd, eventfd, sigaltstack. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "coro.h"
#include "loop_http.h"
#include "loop_pool.h"
#include "../bench/core/minheap.h"
#include "../bench/core/strategy.h"
#include "../bench/core/wait.h"

#define LOOP_EVENTS 256 /* events taken per epoll_wait() */
#define SLOT_LOCALS 4	/* wait_local_set() keys a coroutine may hold */
#define ALT_STACK_BYTES (64u << 10)    /* the SIGSEGV handler's own stack */
#define RESCUE_STACK_BYTES (64u << 10) /* where an overflow ends */

/* What an epoll event is about: the pointer in epoll_event.data points at one
 * of these. */
enum source_kind {
	SOURCE_STOP,	    /* the run's stop eventfd: Ctrl-C or SIGTERM */
	SOURCE_TIMER,	    /* the timerfd behind the sleep deadlines */
	SOURCE_POOL,	    /* file: the eventfd the read workers signal */
	SOURCE_HTTP_SOCKET, /* http: a socket libcurl asked us to watch */
	SOURCE_HTTP_TIMER,  /* http: the timerfd behind libcurl's timeout */
};

struct source {
	enum source_kind kind; /* which handler gets the event */
	int fd;		       /* the descriptor watched */
};

/* What a coroutine waits for, while it is switched out. */
enum slot_state {
	SLOT_FREE = 0,	/* no task */
	SLOT_RUNNING,	/* switched to, or runnable */
	SLOT_SLEEPING,	/* a deadline in the heap */
	SLOT_ELSEWHERE, /* a read worker has its work */
	SLOT_TRANSFER,	/* its easy handle is in the multi handle */
	SLOT_ABANDONED, /* it overflowed its stack: never resumed */
};

/* wait_local_set() for a coroutine, as pthread_setspecific for a thread. */
struct slot_local {
	pthread_key_t key;		 /* the workload's key */
	void *value;			 /* this coroutine's value */
	void (*destructor)(void *value); /* called at the end of the run */
};

/* One coroutine: its context and stack, and what it waits for. A slot runs one
 * task after another (with --jobs below the task count), as a thread of a pool
 * would. */
struct slot {
	struct coro coro;	  /* context and stack */
	struct task *task;	  /* the task it runs, NULL when free */
	enum slot_state state;	  /* what it waits for */
	int wake;		  /* what its wait returns: 0 or -ECANCELED */
	void (*work)(void *arg);  /* elsewhere: what a worker runs for it */
	void *work_arg;		  /* ... with this */
	CURLcode transfer_result; /* transfer: what libcurl said */
	CURL *easy;		  /* transfer: the handle in the multi handle */
	struct slot_local locals[SLOT_LOCALS]; /* wait_local_set()'s values */
	int local_count;		       /* entries in locals */
	bool overflowed;		       /* it ran into its guard page */
	long index; /* its number, 0 .. run_jobs()-1 */
};

/* A slot's record lives at the top of its own stack, in the page that the
 * coroutine's first frames use anyway: a sleeping coroutine touches one page,
 * not one and a piece of an array. */
#define SLOT_RECORD_BYTES ((sizeof(struct slot) + 63) & ~(size_t)63)

struct http; /* libcurl's multi handle on the loop, below */

struct loop {
	struct run *run;	  /* the run being carried out */
	int epoll_fd;		  /* the epoll instance */
	struct source stop;	  /* run_stop_fd */
	struct source timer;	  /* a timerfd armed at the earliest deadline */
	struct minheap deadlines; /* (deadline, slot index) of sleepers */
	int64_t timer_armed_ns;	  /* what the timerfd is armed for, 0: none */
	struct coro thread; /* the loop's own flow, on the thread's stack */
	struct coro_stacks stacks; /* every slot's stack, guard pages below */
	long slot_count;	   /* coroutines: run_jobs() */
	long *free_slots;	   /* free slots' indexes, the lowest on top */
	long free_count;	   /* entries in free_slots */
	long slots_used;	   /* slots 0 .. slots_used-1 have run a task */
	struct slot *current; /* the coroutine running now, NULL in the loop */
	long next_task;	      /* the next task to start */
	long done;	      /* tasks finished */
	bool winding_down;    /* stopping: waits return at once, cancelled */
	bool failed;	      /* a harness failure or an overflow: stop */
	struct loop_pool *pool;	   /* file: the read workers, or NULL */
	struct source pool_source; /* file: the pool's eventfd */
	struct http *http;	   /* http: the multi handle */
	void *rescue_stack;	   /* where an overflowed coroutine ends */
};

/* The loop of this process, for the SIGSEGV handler and the read workers. */
static struct loop *coroutines_loop;

static struct slot *slot_at(const struct loop *loop, long index)
{
	char *stack = coro_stack(&loop->stacks, index);

	return (struct slot *)(stack + coro_stack_bytes(&loop->stacks) -
			       SLOT_RECORD_BYTES);
}

static int loop_fail(struct loop *loop, int err, const char *what)
{
	loop->failed = true;
	return run_fail(loop->run, err, "coroutines: %s: %s", what,
			strerror(err));
}

static int watch(struct loop *loop, struct source *source, uint32_t events)
{
	struct epoll_event event = {.events = events, .data.ptr = source};
	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, source->fd, &event);
}

/* ---- switching: the loop resumes, a coroutine yields --------------------- */

static void slot_finished(struct loop *loop, struct slot *slot);
static void slot_overflowed(struct loop *loop, struct slot *slot);

/* Run slot until it waits again or its task is over (or it overflowed its
 * stack). */
static void resume(struct loop *loop, struct slot *slot)
{
	slot->state = SLOT_RUNNING;
	loop->current = slot;
	coro_switch(&loop->thread, &slot->coro);
	loop->current = NULL;
	if (slot->overflowed)
		slot_overflowed(loop, slot);
	else if (slot->coro.finished)
		slot_finished(loop, slot);
}

/* In a coroutine: give the thread back to the loop until it resumes us. */
static void yield(struct loop *loop, struct slot *slot, enum slot_state state)
{
	slot->state = state;
	coro_switch(&slot->coro, &loop->thread);
}

/* Every coroutine's body: the task as blocking runs it, start line to done
 * line. */
static void slot_main(void *arg)
{
	struct slot *slot = arg;

	run_task_blocking(coroutines_loop->run, slot->task);
}

static void slot_start(struct loop *loop, struct task *task)
{
	long index = loop->free_slots[--loop->free_count];
	struct slot *slot = slot_at(loop, index);

	if (index + 1 > loop->slots_used)
		loop->slots_used = index + 1;
	slot->task = task;
	slot->index = index;
	coro_make(&slot->coro, coro_stack(&loop->stacks, index),
		  coro_stack_bytes(&loop->stacks) - SLOT_RECORD_BYTES,
		  slot_main, slot, &loop->thread);
	run_inflight_add(loop->run, 1);
	resume(loop, slot);
}

static void slot_finished(struct loop *loop, struct slot *slot)
{
	slot->task = NULL;
	slot->state = SLOT_FREE;
	loop->free_slots[loop->free_count++] = slot->index;
	run_inflight_add(loop->run, -1);
	loop->done++;
}

/* ---- stack overflow: a guard page below every stack ---------------------- */

/* A number in decimal, for the handler, which may call only async-signal-safe
 * functions. */
static size_t format_ulong(char *buf, unsigned long value)
{
	char digits[24];
	size_t len = 0, n = 0;

	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	while (n > 0)
		buf[len++] = digits[--n];
	return len;
}

static void say(const char *text)
{
	if (write(STDERR_FILENO, text, strlen(text)) < 0) {
		/* stderr is gone: the result document still says it */
	}
}

/* Where an overflowed coroutine goes when the handler returns: on the rescue
 * stack, still as that coroutine, it ends itself, switching back to the loop
 * for the last time. */
static void overflow_exit(void)
{
	struct slot *slot = coroutines_loop->current;

	slot->overflowed = true;
	coro_exit(&slot->coro);
}

/* SIGSEGV, on its own stack (sigaltstack: the coroutine's is used up). A fault
 * in a guard page is a coroutine that ran off the bottom of its stack: say
 * which, at once (the rest of the run may not get far if the coroutine held a
 * lock), and return into overflow_exit() rather than into the fault; the loop
 * abandons the coroutine and stops the run. Any other fault is a bug: the
 * default action, a core. */
static void on_segv(int signo, siginfo_t *info, void *context)
{
	struct loop *loop = coroutines_loop;
	char line[200];
	size_t len = 0;

	long index = loop != NULL
			 ? coro_stacks_guard_of(&loop->stacks, info->si_addr)
			 : -1;
	if (index < 0 || loop->current != slot_at(loop, index)) {
		signal(signo, SIG_DFL);
		return; /* the faulting instruction runs again, and the default
			   action ends it */
	}
	const char *parts[] = {
	    "iostrat: coroutines: task ", NULL, " overflowed its stack of ",
	    NULL,
	    " bytes (--stack): the fault is in the guard page below it; "
	    "the task is abandoned and the run stops\n"};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (i == 1)
			len += format_ulong(
			    line + len, (unsigned long)loop->current->task->id);
		else if (i == 3)
			len += format_ulong(line + len,
					    coro_stack_bytes(&loop->stacks));
		else if (len + strlen(parts[i]) < sizeof(line)) {
			memcpy(line + len, parts[i], strlen(parts[i]));
			len += strlen(parts[i]);
		}
	}
	line[len] = '\0';
	say(line);
	coro_redirect(context, overflow_exit, loop->rescue_stack,
		      RESCUE_STACK_BYTES);
}

/* Back in the loop after an overflow: the task failed, its coroutine is never
 * resumed (what its frames held is abandoned), and the run stops; the other
 * coroutines are unwound. */
static void slot_overflowed(struct loop *loop, struct slot *slot)
{
	struct task *task = slot->task;

	slot->state = SLOT_ABANDONED;
	task->status = TASK_ERROR;
	snprintf(task->error, sizeof(task->error),
		 "stack overflow: --stack %zu bytes is too small for this task",
		 coro_stack_bytes(&loop->stacks));
	run_task_finished(loop->run, task);
	run_inflight_add(loop->run, -1);
	loop->done++;
	run_fail(loop->run, 0,
		 "coroutines: task %d overflowed its stack of %zu bytes "
		 "(--stack); the run was stopped",
		 task->id, coro_stack_bytes(&loop->stacks));
	loop->failed = true;
}

struct overflow_watch {
	stack_t old_stack;	   /* the thread's alternate stack before */
	struct sigaction old_segv; /* SIGSEGV's action before */
	void *alt_stack; /* the handler's stack, then the rescue stack */
};

static int overflow_watch_start(struct loop *loop, struct overflow_watch *w)
{
	struct sigaction action = {.sa_sigaction = on_segv,
				   .sa_flags = SA_SIGINFO | SA_ONSTACK};
	w->alt_stack =
	    mmap(NULL, ALT_STACK_BYTES + RESCUE_STACK_BYTES,
		 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->alt_stack == MAP_FAILED) {
		w->alt_stack = NULL;
		return loop_fail(loop, errno, "mmap for the signal stack");
	}
	loop->rescue_stack = (char *)w->alt_stack + ALT_STACK_BYTES;
	stack_t alt = {.ss_sp = w->alt_stack, .ss_size = ALT_STACK_BYTES};
	if (sigaltstack(&alt, &w->old_stack) < 0)
		return loop_fail(loop, errno, "sigaltstack");
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGSEGV, &action, &w->old_segv) < 0)
		return loop_fail(loop, errno, "sigaction SIGSEGV");
	return 0;
}

static void overflow_watch_stop(struct overflow_watch *w)
{
	if (w->alt_stack == NULL)
		return;
	sigaction(SIGSEGV, &w->old_segv, NULL);
	sigaltstack(&w->old_stack, NULL);
	munmap(w->alt_stack, ALT_STACK_BYTES + RESCUE_STACK_BYTES);
}

/* ---- sleep: deadlines in a min-heap behind one timerfd ------------------- */

/* Arm the timerfd for the earliest deadline (absolute, so no time is lost
 * computing it). */
static int arm_timer(struct loop *loop)
{
	struct itimerspec when = {0};

	if (loop->deadlines.len == 0 ||
	    loop->timer_armed_ns == minheap_top(&loop->deadlines).key)
		return 0;
	int64_t deadline = minheap_top(&loop->deadlines).key;
	if (deadline <= 0)
		deadline = 1; /* an all-zero it_value would disarm it */
	when.it_value.tv_sec = deadline / 1000000000LL;
	when.it_value.tv_nsec = deadline % 1000000000LL;
	if (timerfd_settime(loop->timer.fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
		return loop_fail(loop, errno, "timerfd_settime");
	loop->timer_armed_ns = deadline;
	return 0;
}

/* wait_sleep() in a coroutine: a deadline in the heap, then back to the loop.
 */
static int hook_sleep_until(void *self, int64_t deadline_ns)
{
	struct loop *loop = self;
	struct slot *slot = loop->current;

	if (loop->winding_down || run_stopping())
		return -ECANCELED;
	if (minheap_push(&loop->deadlines, deadline_ns, slot->index) < 0)
		return -ENOMEM;
	yield(loop, slot, SLOT_SLEEPING);
	return slot->wake;
}

/* The timerfd fired: resume every coroutine whose deadline has passed. */
static int on_timer(struct loop *loop)
{
	uint64_t expirations;

	if (read(loop->timer.fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return loop_fail(loop, errno, "read timerfd");
	loop->timer_armed_ns = 0;
	int64_t now = run_now_ns();
	while (loop->deadlines.len > 0 &&
	       minheap_top(&loop->deadlines).key <= now && !loop->failed) {
		struct slot *slot =
		    slot_at(loop, minheap_pop(&loop->deadlines).value);
		slot->wake = 0;
		resume(loop, slot);
	}
	return 0;
}

/* ---- file: a read handed to worker threads ------------------------------- */

/* epoll cannot wait for a regular file (epoll_ctl fails with EPERM): a
 * coroutine's read() is handed to the loops' worker pool
 * (strategies/loop_pool.c), whose ids here are slot indexes, and the coroutine
 * yields until a worker has done it and woken the loop through the pool's
 * eventfd, as Python's loop.run_in_executor() does. With --inline the coroutine
 * reads in the loop thread itself, blocking every other coroutine meanwhile. */

/* In a worker thread: the read a coroutine handed over. */
static void pool_work(void *user, long index)
{
	struct slot *slot = slot_at(user, index);

	slot->work(slot->work_arg);
}

static void pool_done(void *user, long index)
{
	struct loop *loop = user;

	resume(loop, slot_at(loop, index));
}

static int pool_setup(struct loop *loop)
{
	struct run *run = loop->run;

	if (run->params.workload->kind != WORKLOAD_FILE)
		return 0;
	run->mode = run->params.inline_reads ? "inline" : "pool";
	if (run->params.inline_reads)
		return 0;
	loop->pool = loop_pool_create(run, loop->slot_count,
				      run->params.pool_threads, pool_work,
				      loop);
	if (loop->pool == NULL) {
		loop->failed = true;
		return -1;
	}
	loop->pool_source = (struct source){.kind = SOURCE_POOL,
					    .fd = loop_pool_fd(loop->pool)};
	if (watch(loop, &loop->pool_source, EPOLLIN) < 0)
		return loop_fail(loop, errno,
				 "epoll_ctl for the pool's eventfd");
	return 0;
}

/* wait_read() in a coroutine: the read goes to a worker, the coroutine to
 * sleep. Winding down (Ctrl-C), or with --inline, it is done here: a block, and
 * the task sees the stop after it. */
static void hook_elsewhere(void *self, void (*work)(void *arg), void *arg)
{
	struct loop *loop = self;
	struct slot *slot = loop->current;

	if (loop->pool == NULL || loop->winding_down) {
		work(arg);
		return;
	}
	slot->work = work;
	slot->work_arg = arg;
	loop_pool_submit(loop->pool, slot->index);
	yield(loop, slot, SLOT_ELSEWHERE);
}

/* Winding down: the workers finish the read in hand and are joined; what they
 * did resumes its coroutine, and reads still queued are done by the loop (a
 * block each) before their coroutines are resumed. */
static void pool_wind_down(struct loop *loop)
{
	long index;

	if (loop->pool == NULL)
		return;
	loop_pool_stop(loop->pool);
	loop_pool_drain(loop->pool, pool_done, loop);
	while ((index = loop_pool_pop(loop->pool)) >= 0) {
		pool_work(loop, index);
		resume(loop, slot_at(loop, index));
	}
}

/* ---- http: the coroutine's easy handle in the multi handle --------------- */

/* libcurl's multi-socket API, as in curl's docs/examples/ephiperfifo.c: it
 * tells the loop which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to
 * call it back (CURLMOPT_TIMERFUNCTION, a timerfd here); the loop reports
 * readiness with curl_multi_socket_action(), and a finished transfer
 * (curl_multi_info_read) resumes the coroutine that waits for it. */
struct http_socket {
	struct source source; /* first member: epoll hands back &source */
	uint32_t events; /* what epoll was last told, 0 when not registered */
	bool wanted; /* libcurl waits on it: else an event for it is dropped */
};

struct http {
	CURLM *multi;	     /* libcurl's multi handle */
	struct source timer; /* timerfd armed for libcurl's next timeout */
	struct http_socket *
	    *sockets;	      /* records by descriptor, made on first use */
	size_t sockets_len;   /* entries in sockets */
	long added;	      /* transfers added in this round of the loop */
	long started;	      /* transfers handed to libcurl */
	long ended;	      /* transfers libcurl has handed back */
	int64_t timer_due_ns; /* when the timerfd fires (CLOCK_MONOTONIC), 0:
				 disarmed */
	int callback_errno;   /* why one of libcurl's callbacks failed, or 0 */
};

static struct http_socket *http_socket_of(struct http *http, curl_socket_t fd)
{
	size_t index = (size_t)fd;

	if (index >= http->sockets_len) {
		size_t len = http->sockets_len > 0 ? http->sockets_len * 2 : 64;
		while (len <= index)
			len *= 2;
		struct http_socket **grown =
		    realloc(http->sockets, len * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + http->sockets_len, 0,
		       (len - http->sockets_len) * sizeof(*grown));
		http->sockets = grown;
		http->sockets_len = len;
	}
	if (http->sockets[index] == NULL)
		http->sockets[index] = calloc(1, sizeof(**http->sockets));
	return http->sockets[index];
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl waits for. A socket it
 * lets go of stays registered: the next transfer usually wants its connection
 * again, and closing it takes it out of the epoll set by itself; an event for
 * it meanwhile is dropped. */
static int http_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
			  void *socketp)
{
	struct loop *loop = userp;
	struct http *http = loop->http;
	(void)easy;
	(void)socketp;

	if (what == CURL_POLL_REMOVE) {
		if ((size_t)fd < http->sockets_len && http->sockets[fd] != NULL)
			http->sockets[fd]->wanted = false;
		return 0;
	}
	struct http_socket *entry = http_socket_of(http, fd);
	if (entry == NULL) {
		http->callback_errno = ENOMEM;
		return -1;
	}
	entry->source = (struct source){.kind = SOURCE_HTTP_SOCKET, .fd = fd};
	struct epoll_event event = {
	    .events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
		      ((what & CURL_POLL_OUT) ? EPOLLOUT : 0),
	    .data.ptr = &entry->source,
	};
	int op = entry->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	int done = epoll_ctl(loop->epoll_fd, op, fd, &event);
	if (done < 0 &&
	    errno == ENOENT) /* closed (so unregistered) and reopened */
		done = epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event);
	if (done < 0) {
		http->callback_errno = errno;
		return -1;
	}
	entry->events = event.events != 0 ? event.events : EPOLLERR;
	entry->wanted = true;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call libcurl back in timeout_ms (-1: never; 0: at
 * once, from the loop). libcurl asks for 0 on every handle added: a timerfd
 * that is due already stays readable until the loop reads it, and needs no new
 * system call. */
static int http_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct loop *loop = userp;
	struct http *http = loop->http;
	struct itimerspec when = {0}; /* all zero disarms it */
	int64_t now_ns = run_now_ns();
	int64_t due_ns = 0;
	(void)multi;

	if (timeout_ms == 0 && http->timer_due_ns != 0 &&
	    http->timer_due_ns <= now_ns)
		return 0;
	if (timeout_ms < 0 && http->timer_due_ns == 0)
		return 0;
	if (timeout_ms >= 0) {
		due_ns = now_ns + (int64_t)timeout_ms * 1000000LL;
		when.it_value.tv_sec = due_ns / 1000000000LL;
		when.it_value.tv_nsec = due_ns % 1000000000LL;
	}
	if (timerfd_settime(http->timer.fd, TFD_TIMER_ABSTIME, &when, NULL) <
	    0) {
		http->callback_errno = errno;
		return -1;
	}
	http->timer_due_ns = due_ns;
	return 0;
}

static void http_free(struct loop *loop)
{
	struct http *http = loop->http;

	if (http == NULL)
		return;
	if (http->multi != NULL)
		curl_multi_cleanup(
		    http->multi); /* closes the connections it keeps */
	for (size_t fd = 0; fd < http->sockets_len; fd++)
		free(http->sockets[fd]);
	free(http->sockets);
	if (http->timer.fd >= 0)
		close(http->timer.fd);
	free(http);
	loop->http = NULL;
}

static int http_setup(struct loop *loop)
{
	struct http *http;

	if (loop->run->params.workload->kind != WORKLOAD_HTTP)
		return 0;
	http = calloc(1, sizeof(*http));
	if (http == NULL)
		return loop_fail(loop, ENOMEM, "http state");
	loop->http = http;
	http->timer = (struct source){.kind = SOURCE_HTTP_TIMER, .fd = -1};
	http->timer.fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (http->timer.fd < 0)
		return loop_fail(loop, errno, "timerfd_create for libcurl");
	if (watch(loop, &http->timer, EPOLLIN) < 0)
		return loop_fail(loop, errno, "epoll_ctl for libcurl's timer");
	http->multi = curl_multi_init();
	if (http->multi == NULL)
		return loop_fail(loop, ENOMEM, "curl_multi_init");
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, http_on_socket);
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, http_on_timer);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, loop);
	/* one idle connection kept per coroutine (libcurl's own bound shrinks
	 * as finished handles are removed, and then it closes what the next
	 * tasks would reuse) */
	curl_multi_setopt(http->multi, CURLMOPT_MAXCONNECTS, loop->slot_count);
	return 0;
}

/* wait_transfer() in a coroutine: its easy handle joins the multi handle, and
 * the coroutine yields until libcurl hands the transfer back. libcurl 7.88
 * walks every connection for one to reuse when a transfer starts, and its cache
 * when a finished one is removed: n^2 with n in flight. Before any transfer has
 * ended there is none to reuse (CURLOPT_FRESH_CONNECT); when every task left
 * has a coroutine already, none will reuse this one's connection
 * (CURLOPT_FORBID_REUSE). */
static CURLcode hook_transfer(void *self, CURL *easy)
{
	struct loop *loop = self;
	struct slot *slot = loop->current;
	struct http *http = loop->http;
	long unstarted = loop->run->params.tasks - loop->next_task;

	if (loop->winding_down || run_stopping() || http == NULL)
		return CURLE_ABORTED_BY_CALLBACK;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, slot);
	curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT,
			 http->ended == 0 ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE,
			 unstarted <= loop->free_count ? 1L : 0L);
	if (curl_multi_add_handle(http->multi, easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	http->started++;
	slot->easy = easy;
	yield(loop, slot, SLOT_TRANSFER);
	return slot->transfer_result;
}

/* Every transfer libcurl has finished: its coroutine goes on (checks it, prints
 * it). */
static void http_resume_done(struct loop *loop)
{
	struct http *http = loop->http;
	int queued;

	while (!loop->failed) {
		CURLMsg *message = curl_multi_info_read(http->multi, &queued);
		if (message == NULL)
			break;
		if (message->msg != CURLMSG_DONE)
			continue;
		struct slot *slot = NULL;
		CURLcode result =
		    message->data.result; /* message is gone with the handle */
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE,
				  (char **)&slot);
		curl_multi_remove_handle(http->multi, slot->easy);
		http->ended++;
		slot->easy = NULL;
		slot->transfer_result = result;
		resume(loop, slot);
	}
}

static int http_act(struct loop *loop, curl_socket_t fd, int flags)
{
	struct http *http = loop->http;
	int running;
	CURLMcode rc =
	    curl_multi_socket_action(http->multi, fd, flags, &running);

	if (rc != CURLM_OK) {
		if (http->callback_errno != 0)
			return loop_fail(loop, http->callback_errno,
					 "curl_multi_socket_action");
		loop->failed = true;
		return run_fail(loop->run, EIO,
				"coroutines: curl_multi_socket_action: %s",
				curl_multi_strerror(rc));
	}
	http_resume_done(loop);
	return 0;
}

static int on_http_socket(struct loop *loop, struct source *source,
			  uint32_t events)
{
	struct http_socket *entry = (struct http_socket *)source;
	int flags = 0;

	if (!entry->wanted) {
		/* libcurl let go of it (an idle connection the server closed,
		 * say): level- triggered epoll would report it again and again,
		 * so stop watching it */
		if (entry->events != 0)
			epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, source->fd,
				  NULL);
		entry->events = 0;
		return 0;
	}
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	return http_act(loop, source->fd, flags);
}

static int on_http_timer(struct loop *loop)
{
	uint64_t expirations;

	if (read(loop->http->timer.fd, &expirations, sizeof(expirations)) < 0) {
		if (errno == EAGAIN)
			return 0; /* rearmed for later since epoll_wait() saw it
				     fire */
		return loop_fail(loop, errno, "read libcurl's timerfd");
	}
	loop->http->timer_due_ns =
	    0; /* a one-shot timer that fired is disarmed */
	return http_act(loop, CURL_SOCKET_TIMEOUT, 0);
}

/* Winding down: every transfer in flight leaves the multi handle, cancelled. */
static void http_wind_down(struct loop *loop)
{
	for (long i = 0; loop->http != NULL && i < loop->slots_used; i++) {
		struct slot *slot = slot_at(loop, i);
		if (slot->state != SLOT_TRANSFER)
			continue;
		curl_multi_remove_handle(loop->http->multi, slot->easy);
		slot->easy = NULL;
		slot->transfer_result = CURLE_ABORTED_BY_CALLBACK;
		resume(loop, slot);
	}
}

/* ---- storage per coroutine (pthread_setspecific's) ----------------------- */

static void *hook_local_get(void *self, pthread_key_t key)
{
	struct loop *loop = self;
	struct slot *slot = loop->current;

	for (int i = 0; i < slot->local_count; i++) {
		if (slot->locals[i].key == key)
			return slot->locals[i].value;
	}
	return NULL;
}

static int hook_local_set(void *self, pthread_key_t key, void *value,
			  void (*destructor)(void *value))
{
	struct loop *loop = self;
	struct slot *slot = loop->current;
	int i = 0;

	while (i < slot->local_count && slot->locals[i].key != key)
		i++;
	if (i == SLOT_LOCALS)
		return ENOMEM;
	if (i == slot->local_count)
		slot->local_count++;
	slot->locals[i] = (struct slot_local){key, value, destructor};
	return 0;
}

/* The end of the run: each coroutine's values go, as a thread's do when it
 * exits. */
static void locals_free(struct loop *loop)
{
	for (long i = 0; i < loop->slots_used; i++) {
		struct slot *slot = slot_at(loop, i);
		for (int k = 0; k < slot->local_count; k++) {
			if (slot->locals[k].destructor != NULL &&
			    slot->locals[k].value != NULL)
				slot->locals[k].destructor(
				    slot->locals[k].value);
		}
		slot->local_count = 0;
	}
}

static const struct wait_hooks coroutine_hooks = {
    .sleep_until = hook_sleep_until,
    .elsewhere = hook_elsewhere,
    .transfer = hook_transfer,
    .local_get = hook_local_get,
    .local_set = hook_local_set,
};

/* ---- the loop ------------------------------------------------------------ */

/* Start tasks until --jobs are in flight; each runs until its first wait. HTTP:
 * at most LOOP_HTTP_ADDS_PER_ROUND per round (see strategies/loop_http.h). */
static int start_tasks(struct loop *loop)
{
	struct run *run = loop->run;
	long round = 0;

	while (loop->next_task < run->params.tasks && loop->free_count > 0 &&
	       !run_stopping() && !loop->failed &&
	       (loop->http == NULL || round < LOOP_HTTP_ADDS_PER_ROUND)) {
		slot_start(loop, &run->tasks[loop->next_task++]);
		round++;
	}
	return loop->failed ? -1 : arm_timer(loop);
}

static int loop_iterate(struct loop *loop)
{
	struct epoll_event events[LOOP_EVENTS];
	int result = 0;

	int ready = epoll_wait(loop->epoll_fd, events, LOOP_EVENTS, -1);
	if (ready < 0)
		return errno == EINTR ? 0
				      : loop_fail(loop, errno, "epoll_wait");
	for (int i = 0; i < ready && result == 0 && !loop->failed; i++) {
		struct source *source = events[i].data.ptr;
		switch (source->kind) {
		case SOURCE_STOP:
			return 0; /* the caller sees run_stopping() */
		case SOURCE_TIMER:
			result = on_timer(loop);
			break;
		case SOURCE_POOL:
			result = loop_pool_drain(loop->pool, pool_done, loop);
			break;
		case SOURCE_HTTP_SOCKET:
			result = on_http_socket(loop, source, events[i].events);
			break;
		case SOURCE_HTTP_TIMER:
			result = on_http_timer(loop);
			break;
		}
	}
	if (result < 0 || loop->failed)
		return -1;
	run_sample_threads(loop->run, false);
	return start_tasks(loop);
}

/* The run stops (Ctrl-C, a failure) or is done: every coroutine still waiting
 * is resumed with its wait cancelled, and runs its own code to its end (closes
 * its file, frees its buffer), as a thread would after Ctrl-C; later waits
 * return at once. */
static void wind_down(struct loop *loop)
{
	loop->winding_down = true;
	pool_wind_down(loop);
	http_wind_down(loop);
	while (loop->deadlines.len > 0) {
		struct slot *slot =
		    slot_at(loop, minheap_pop(&loop->deadlines).value);
		slot->wake = -ECANCELED;
		resume(loop, slot);
	}
}

static int loop_setup(struct loop *loop)
{
	struct run *run = loop->run;
	const char *failed = "mmap";

	loop->slot_count = run_jobs(run);
	loop->free_slots =
	    calloc((size_t)loop->slot_count, sizeof(*loop->free_slots));
	if (loop->free_slots == NULL)
		return loop_fail(loop, ENOMEM, "coroutine slots");
	for (long i = loop->slot_count - 1; i >= 0; i--)
		loop->free_slots[loop->free_count++] = i; /* slot 0 on top */
	int err = coro_stacks_init(&loop->stacks, loop->slot_count,
				   (size_t)run->params.stack_bytes, &failed);
	if (err < 0) {
		loop->failed = true;
		return run_fail(run, -err,
				"coroutines: %s, %ld stacks of %llu bytes (--jobs, "
				"--stack): %s",
				failed, loop->slot_count,
				(unsigned long long)run->params.stack_bytes,
				strerror(-err));
	}
	run->stack_reserved_bytes =
	    (uint64_t)loop->slot_count * coro_stack_bytes(&loop->stacks);
	if (minheap_init(&loop->deadlines, (size_t)loop->slot_count) < 0)
		return loop_fail(loop, ENOMEM, "timer heap");
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		return loop_fail(loop, errno, "epoll_create1");
	loop->timer.fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->timer.fd < 0)
		return loop_fail(loop, errno, "timerfd_create");
	if (watch(loop, &loop->stop, EPOLLIN) < 0 ||
	    watch(loop, &loop->timer, EPOLLIN) < 0)
		return loop_fail(loop, errno, "epoll_ctl");
	if (pool_setup(loop) < 0 || http_setup(loop) < 0)
		return -1;
	coro_thread(&loop->thread, run->params.minimal_switch
				       ? CORO_MINIMAL
				       : CORO_SWAPCONTEXT);
	run->coroutine_switch =
	    run->params.minimal_switch ? "minimal" : "swapcontext";
	return 0;
}

static void loop_teardown(struct loop *loop)
{
	locals_free(loop); /* the easy handles, before the multi handle goes */
	http_free(loop);
	loop_pool_free(loop->pool);
	for (long i = 0; i < loop->slots_used; i++)
		coro_forget(&slot_at(loop, i)->coro);
	loop->run->stack_resident_bytes =
	    coro_stacks_resident_bytes(&loop->stacks, loop->slots_used);
	loop->run->coroutine_switches = coro_switches();
	coro_stacks_free(&loop->stacks);
	if (loop->timer.fd >= 0)
		close(loop->timer.fd);
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	minheap_free(&loop->deadlines);
	free(loop->free_slots);
}

static int coroutines_run(struct run *run)
{
	struct loop loop = {
	    .run = run,
	    .epoll_fd = -1,
	    .stop = {.kind = SOURCE_STOP, .fd = run_stop_fd},
	    .timer = {.kind = SOURCE_TIMER, .fd = -1},
	};
	struct overflow_watch overflow = {0};
	int result = -1;

	if (run->params.minimal_switch && coro_minimal_unavailable() != NULL)
		return run_fail(run, 0, "coroutines: --switch minimal: %s",
				coro_minimal_unavailable());
	coroutines_loop = &loop;
	if (loop_setup(&loop) < 0 || overflow_watch_start(&loop, &overflow) < 0)
		goto out_teardown;
	wait_hooks_install(&coroutine_hooks, &loop);
	start_tasks(&loop);
	while (loop.done < run->params.tasks && !run_stopping() &&
	       !loop.failed) {
		if (loop_iterate(&loop) < 0)
			break;
	}
	result = loop.failed && run->harness_message[0] != '\0' ? -1 : 0;
	wind_down(&loop);
	wait_hooks_install(NULL, NULL);
out_teardown:
	overflow_watch_stop(&overflow);
	loop_teardown(&loop);
	coroutines_loop = NULL;
	run_cancel_pending(run); /* never started: the run stops, or broke down */
	return result;
}

const struct strategy strategy_coroutines = {
    .name = "coroutines",
    .summary = "one thread: each task's blocking code on its own stack, "
	       "yielding to an "
	       "epoll loop where it would block (swapcontext)",
    .flags = STRATEGY_ONE_THREAD | STRATEGY_FILE_POOL,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = coroutines_run,
};
