/* poll.c - one thread, one poll() over every descriptor in flight: the loop
 * servers ran before epoll. The kernel is handed the whole pollfd array at
 * every wake-up and the loop scans all of it for the few that are ready: the
 * cost per wake-up grows with the descriptors watched, not with those ready
 * (the C10K problem). The same state machines as epoll: sleepers in a min-heap,
 * files through the worker pool, libcurl's multi handle. --select waits with
 * select() instead, limited to FD_SETSIZE descriptors. Teaches: ppoll (poll
 * with a timeout in ns), pselect, FD_SET. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "../bench/core/log.h"
#include "../bench/core/strategy.h"
#include "../bench/workloads/file.h"
#include "loop_http.h"
#include "loop_pool.h"
#include "loop_tasks.h"

#define SELECT_RESERVE 24 /* descriptors below FD_SETSIZE the run holds */
#define SOCKET_RESERVE 64 /* descriptors kept for all but the sockets */

/* What a watched descriptor is about. */
enum source_kind {
	SOURCE_STOP = 1,    /* the run's stop eventfd: Ctrl-C or SIGTERM */
	SOURCE_FILE_POOL,   /* file: the eventfd the read workers write */
	SOURCE_HTTP_SOCKET, /* http: a socket libcurl asked us to watch */
};

/* One descriptor that a wake-up found ready, copied out of the array before
 * handling: handlers add to and take from the array. */
struct ready {
	enum source_kind kind; /* which handler gets it */
	int fd;		       /* the descriptor */
	short revents;	       /* what poll() said about it */
};

struct loop {
	struct run *run;    /* the run being carried out */
	bool use_select;    /* --select: pselect() instead of ppoll() */
	struct pollfd *fds; /* the descriptors watched, packed: fds[0 .. len) */
	enum source_kind *kinds; /* kinds[i]: what fds[i] is */
	struct ready *ready; /* room for len entries: one wake-up's findings */
	size_t len;	     /* entries in use */
	size_t cap;	     /* entries allocated in each of the three */
	struct loop_tasks tasks; /* starting, ending, the sleepers' heap */
	struct loop_pool *pool;	 /* file: the read workers, or the inline queue
				  */
	bool inline_reads;	/* file: --inline, the loop reads, no workers */
	struct loop_http *http; /* http: libcurl's multi handle and slots */
	int64_t http_due_ns;	/* http: when libcurl wants a call, -1: never */
};

static int loop_fail(struct loop *loop, const char *what)
{
	int err = errno;
	return run_fail(loop->run, err, "%s: %s: %s",
			loop->run->params.strategy_name, what, strerror(err));
}

/* ---- the pollfd array: O(1) adds and removes, an index kept per socket --- */

/* Watch fd for events: its index in the array, or -1 after run_fail(). */
static long watch(struct loop *loop, enum source_kind kind, int fd,
		  short events)
{
	if (loop->use_select && fd >= FD_SETSIZE)
		return run_fail(
		    loop->run, EMFILE,
		    "poll --select: descriptor %d is not below FD_SETSIZE "
		    "(%d): select() cannot watch it",
		    fd, FD_SETSIZE);
	if (loop->len == loop->cap) {
		size_t cap = loop->cap > 0 ? loop->cap * 2 : 64;
		struct pollfd *fds = realloc(loop->fds, cap * sizeof(*fds));
		if (fds != NULL)
			loop->fds = fds;
		enum source_kind *kinds =
		    realloc(loop->kinds, cap * sizeof(*kinds));
		if (kinds != NULL)
			loop->kinds = kinds;
		struct ready *ready =
		    realloc(loop->ready, cap * sizeof(*ready));
		if (ready != NULL)
			loop->ready = ready;
		if (fds == NULL || kinds == NULL || ready == NULL) {
			errno = ENOMEM;
			return loop_fail(loop, "the pollfd array");
		}
		loop->cap = cap;
	}
	loop->fds[loop->len] = (struct pollfd){.fd = fd, .events = events};
	loop->kinds[loop->len] = kind;
	return (long)loop->len++;
}

/* Stop watching the descriptor at index: the last one moves into its place. */
static void unwatch(struct loop *loop, long index)
{
	size_t last = loop->len - 1;

	if ((size_t)index != last) {
		loop->fds[index] = loop->fds[last];
		loop->kinds[index] = loop->kinds[last];
		if (loop->kinds[index] == SOURCE_HTTP_SOCKET)
			loop_http_socket_find(loop->http, loop->fds[index].fd)
			    ->slot = index;
	}
	loop->len--;
}

/* ---- waiting: ppoll(), or pselect() with --select ------------------------ */

/* Until the earliest of the sleepers' deadlines and libcurl's time; NULL: no
 * end. */
static struct timespec *wait_timeout(const struct loop *loop,
				     struct timespec *ts)
{
	int64_t due_ns = loop_tasks_earliest_ns(&loop->tasks);

	if (loop->http_due_ns >= 0 &&
	    (due_ns < 0 || loop->http_due_ns < due_ns))
		due_ns = loop->http_due_ns;
	if (due_ns < 0)
		return NULL;
	int64_t left_ns = due_ns - run_now_ns();
	if (left_ns < 0)
		left_ns = 0;
	ts->tv_sec = left_ns / 1000000000LL;
	ts->tv_nsec = left_ns % 1000000000LL;
	return ts;
}

/* select(): three bit sets built from the array at every call, and read back
 * into it. */
static int wait_select(struct loop *loop, const struct timespec *timeout)
{
	fd_set readable, writable;
	int most = -1;

	FD_ZERO(&readable);
	FD_ZERO(&writable);
	for (size_t i = 0; i < loop->len; i++) {
		int fd = loop->fds[i].fd; /* below FD_SETSIZE: see watch() */
		if (loop->fds[i].events & POLLIN)
			FD_SET(fd, &readable);
		if (loop->fds[i].events & POLLOUT)
			FD_SET(fd, &writable);
		if (fd > most)
			most = fd;
	}
	int ready =
	    pselect(most + 1, &readable, &writable, NULL, timeout, NULL);
	if (ready < 0)
		return ready;
	ready = 0;
	for (size_t i = 0; i < loop->len; i++) {
		int fd = loop->fds[i].fd;
		loop->fds[i].revents =
		    (short)((FD_ISSET(fd, &readable) ? POLLIN : 0) |
			    (FD_ISSET(fd, &writable) ? POLLOUT : 0));
		if (loop->fds[i].revents != 0)
			ready++;
	}
	return ready;
}

/* The sources' set-ups and handlers, below the loop. */
static int file_setup(struct loop *loop);
static int http_setup(struct loop *loop);
static int on_http_socket(struct loop *loop, int fd, short revents);

/* ---- the loop ------------------------------------------------------------ */

/* Start tasks until --jobs are in flight (http: so many per round): sleepers
 * into the heap, files to the pool, requests to libcurl (loop_tasks.c). */
static int start_tasks(struct loop *loop)
{
	return loop_tasks_start(&loop->tasks, loop->pool, loop->http);
}

static int dispatch(struct loop *loop, const struct ready *ready)
{
	switch (ready->kind) {
	case SOURCE_STOP:
		return 0; /* the loop sees run_stopping() */
	case SOURCE_FILE_POOL:
		return loop_tasks_pool_ready(&loop->tasks, loop->pool,
					     loop->inline_reads);
	case SOURCE_HTTP_SOCKET:
		return on_http_socket(loop, ready->fd, ready->revents);
	}
	return 0;
}

/* Wait, scan the whole array for what is ready, handle it, then the timers. */
static int loop_iterate(struct loop *loop)
{
	struct timespec ts;
	const struct timespec *timeout = wait_timeout(loop, &ts);
	int ready = loop->use_select
			? wait_select(loop, timeout)
			: ppoll(loop->fds, loop->len, timeout, NULL);
	size_t found = 0;

	if (ready < 0 && errno == EINTR)
		return 0; /* a signal: the loop looks at run_stopping() */
	if (ready < 0)
		return loop_fail(loop, loop->use_select ? "pselect" : "ppoll");
	for (size_t i = 0; i < loop->len && found < (size_t)ready; i++) {
		if (loop->fds[i].revents == 0)
			continue;
		loop->ready[found++] =
		    (struct ready){.kind = loop->kinds[i],
				   .fd = loop->fds[i].fd,
				   .revents = loop->fds[i].revents};
	}
	for (size_t i = 0; i < found; i++) {
		if (dispatch(loop, &loop->ready[i]) < 0)
			return -1;
	}
	int64_t now_ns = run_now_ns();
	loop_tasks_wake(&loop->tasks, now_ns, TASK_OK);
	if (loop->http_due_ns >= 0 && loop->http_due_ns <= now_ns) {
		loop->http_due_ns = -1;
		if (loop_http_timeout(loop->http) < 0)
			return -1;
	}
	run_sample_threads(loop->run, false);
	return start_tasks(loop);
}

static int poll_run(struct run *run)
{
	enum workload_kind kind = run->params.workload->kind;
	struct loop loop = {.run = run,
			    .use_select = run->params.use_select,
			    .http_due_ns = -1};
	int result = -1;

	if (kind == WORKLOAD_HTTP)
		run_bound_jobs(run, SOCKET_RESERVE, "sockets");
	run->mode = loop.use_select ? "select" : NULL;
	if (kind == WORKLOAD_FILE && loop.use_select)
		run->mode =
		    run->params.inline_reads ? "select inline" : "select pool";
	else if (kind == WORKLOAD_FILE)
		run->mode = run->params.inline_reads ? "inline" : "pool";
	if (loop_tasks_init(&loop.tasks, run, kind == WORKLOAD_SLEEP) < 0)
		goto out_cancel;
	if (watch(&loop, SOURCE_STOP, run_stop_fd, POLLIN) < 0)
		goto out_cancel;
	if (kind == WORKLOAD_FILE && file_setup(&loop) < 0)
		goto out_cancel;
	if (kind == WORKLOAD_HTTP && http_setup(&loop) < 0)
		goto out_cancel;
	if (start_tasks(&loop) < 0)
		goto out_cancel;
	while (!loop_tasks_all_done(&loop.tasks) && !run_stopping()) {
		if (loop_iterate(&loop) < 0)
			goto out_cancel;
	}
	result = 0;
out_cancel:
	loop_tasks_cancel(&loop.tasks, loop.pool, loop.http);
	loop_http_free(loop.http); /* its callback still finds the array */
	loop_pool_free(loop.pool);
	free(loop.fds);
	free(loop.kinds);
	free(loop.ready);
	loop_tasks_free(&loop.tasks);
	return result;
}

/* ---- file: the worker pool's eventfd is one more descriptor -------------- */

/* The lesson in one call: poll() says a regular file is ready, always, before
 * any read has been asked for, so readiness cannot tell a loop when a read
 * would not block. */
static void file_show_poll_says_ready(struct loop *loop)
{
	struct run *run = loop->run;
	struct pollfd probe = {.fd = run->params.workload->file->open(run, 0),
			       .events = POLLIN};
	char name[FILE_NAME_LEN];
	char line[256];

	if (probe.fd < 0)
		return; /* task 0 will say why */
	int ready = poll(&probe, 1, 0);
	close(probe.fd);
	if (run->params.quiet)
		return;
	run->params.workload->file->name(0, name, sizeof(name));
	int len = snprintf(
	    line, sizeof(line), "poll(%s, POLLIN): %s; the loop %s\n", name,
	    ready == 1 && (probe.revents & POLLIN)
		? "ready at once, as a regular file always is"
		: "not ready (unexpected for a regular file)",
	    loop->inline_reads ? "reads files itself, blocked while it reads"
			       : "hands reads to worker threads");
	log_write(line,
		  (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

static int file_setup(struct loop *loop)
{
	struct run *run = loop->run;

	loop->inline_reads = run->params.inline_reads;
	loop->pool =
	    loop_pool_create(run, run_jobs(run),
			     loop->inline_reads ? 0 : run->params.pool_threads,
			     loop_pool_run_task, run);
	if (loop->pool == NULL)
		return -1;
	if (watch(loop, SOURCE_FILE_POOL, loop_pool_fd(loop->pool), POLLIN) < 0)
		return -1;
	file_show_poll_says_ready(loop);
	return 0;
}

/* ---- http: what libcurl asks of the loop (loop_http.h) ------------------- */

/* A socket libcurl lets go of leaves the array at once: an entry costs every
 * wake-up. */
static int http_watch(void *arg, struct loop_http_socket *socket)
{
	struct loop *loop = arg;
	short events = (short)(((socket->want & LOOP_HTTP_IN) ? POLLIN : 0) |
			       ((socket->want & LOOP_HTTP_OUT) ? POLLOUT : 0));

	if (events == 0) {
		if (socket->slot >= 0)
			unwatch(loop, socket->slot);
		socket->slot = -1;
	} else if (socket->slot >= 0) {
		loop->fds[socket->slot].events = events;
	} else {
		socket->slot =
		    watch(loop, SOURCE_HTTP_SOCKET, socket->fd, events);
		if (socket->slot < 0)
			return -1;
	}
	socket->registered = (unsigned)events;
	return 0;
}

/* libcurl's time is the wait's timeout: nothing to arm. */
static int http_timer(void *arg, int64_t due_ns)
{
	struct loop *loop = arg;

	loop->http_due_ns = due_ns;
	return 0;
}

static void http_finished(void *arg, struct task *task)
{
	struct loop *loop = arg;

	loop_tasks_finish(&loop->tasks, task);
}

static const struct loop_http_backend http_backend = {
    .watch = http_watch,
    .timer = http_timer,
    .finished = http_finished,
};

static int on_http_socket(struct loop *loop, int fd, short revents)
{
	struct loop_http_socket *socket = loop_http_socket_find(loop->http, fd);

	if (socket == NULL || socket->slot < 0)
		return 0; /* let go of by an earlier handler of this wake-up */
	return loop_http_ready(loop->http, fd,
			       ((revents & POLLIN) ? LOOP_HTTP_IN : 0) |
				   ((revents & POLLOUT) ? LOOP_HTTP_OUT : 0) |
				   ((revents & (POLLERR | POLLHUP | POLLNVAL))
					? LOOP_HTTP_ERR
					: 0));
}

static int http_setup(struct loop *loop)
{
	loop->http = loop_http_init(loop->run, &http_backend, loop);
	return loop->http != NULL ? 0 : -1;
}

/* --select with more sockets than FD_SETSIZE allows is refused before the run.
 */
static const char *poll_refuses(const struct params *params)
{
	static char why[256];
	long most = FD_SETSIZE - SELECT_RESERVE;

	if (!params->use_select || params->workload->kind != WORKLOAD_HTTP ||
	    params->jobs <= most)
		return NULL;
	snprintf(why, sizeof(why),
		 "--select: select() watches only descriptors below FD_SETSIZE "
		 "(%d), "
		 "and --jobs %ld holds %ld requests, a socket each, at once "
		 "(at most "
		 "%ld here): use "
		 "poll without --select, or --jobs %ld",
		 FD_SETSIZE, params->jobs, params->jobs, most, most);
	return why;
}

const struct strategy strategy_poll = {
    .name = "poll",
    .summary = "one thread, poll() over every descriptor in flight (the loop "
	       "before epoll; --select: select())",
    .flags = STRATEGY_ONE_THREAD | STRATEGY_FILE_POOL | STRATEGY_SELECT,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .refuses = poll_refuses,
    .run = poll_run,
};
