/* epoll.c - one thread, one event loop: every task is a state machine driven by
 * epoll_wait(). Sleeps are deadlines in a min-heap behind one timerfd; files go
 * to worker threads that wake the loop through an eventfd (loop_pool.c); HTTP
 * is libcurl's multi-socket API (loop_http.c) on the same epoll set, and so is
 * the run's stop eventfd, so Ctrl-C ends the wait at once. Teaches:
 * epoll_create1, epoll_ctl, epoll_wait, timerfd_create, timerfd_settime. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../bench/core/log.h"
#include "../bench/core/strategy.h"
#include "../bench/workloads/file.h"
#include "loop_http.h"
#include "loop_pool.h"
#include "loop_tasks.h"

#define LOOP_EVENTS 256 /* events taken per epoll_wait() */

/* What an epoll event is about: the top half of epoll_event.data.u64, the
 * descriptor in the bottom half. */
enum source_kind {
	SOURCE_STOP = 1,    /* the run's stop eventfd: Ctrl-C or SIGTERM */
	SOURCE_TIMER,	    /* the timerfd behind the sleepers' deadlines */
	SOURCE_FILE_POOL,   /* file: the eventfd the read workers write */
	SOURCE_HTTP_SOCKET, /* http: a socket libcurl asked us to watch */
	SOURCE_HTTP_TIMER,  /* http: the timerfd behind libcurl's timeout */
};

struct loop {
	struct run *run;	/* the run being carried out */
	int epoll_fd;		/* the epoll instance */
	int timer_fd;		/* a timerfd: the earliest sleeper's deadline */
	int64_t timer_armed_ns; /* what timer_fd is armed for, 0: disarmed */
	struct loop_tasks tasks; /* starting, ending, the sleepers' heap */
	struct loop_pool *pool;	 /* file: the read workers, or inline queue */
	bool inline_reads;	 /* file: --inline, the loop reads itself */
	struct loop_http *http;	 /* http: libcurl's multi handle and slots */
	int http_timer_fd;	 /* http: a timerfd armed for libcurl */
	int64_t http_timer_ns;	 /* what http_timer_fd is armed for, 0: none */
};

static int loop_fail(struct loop *loop, const char *what)
{
	int err = errno;
	return run_fail(loop->run, err, "epoll: %s: %s", what, strerror(err));
}

static uint64_t source(enum source_kind kind, int fd)
{
	return (uint64_t)kind << 32 | (uint32_t)fd;
}

static int watch(struct loop *loop, enum source_kind kind, int fd,
		 uint32_t events)
{
	struct epoll_event event = {.events = events,
				    .data.u64 = source(kind, fd)};
	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

/* timerfd_settime to an absolute deadline (so no time is lost computing it), or
 * disarm it for a deadline of -1. */
static int set_timerfd(int fd, int64_t deadline_ns)
{
	struct itimerspec when = {0}; /* all zero disarms it */

	if (deadline_ns >= 0) {
		if (deadline_ns == 0)
			deadline_ns = 1; /* all zero would disarm it */
		when.it_value.tv_sec = deadline_ns / 1000000000LL;
		when.it_value.tv_nsec = deadline_ns % 1000000000LL;
	}
	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &when, NULL);
}

/* The sources' handlers and set-ups, below the loop. */
static int arm_timer(struct loop *loop);
static int on_timer(struct loop *loop);
static int file_setup(struct loop *loop);
static int http_setup(struct loop *loop);
static int on_http_socket(struct loop *loop, int fd, uint32_t events);
static int on_http_timer(struct loop *loop);

/* ---- the loop ------------------------------------------------------------ */

/* Start tasks until --jobs are in flight (http: so many per round): sleepers
 * into the heap, files to the pool, requests to libcurl (loop_tasks.c). */
static int start_tasks(struct loop *loop)
{
	if (loop_tasks_start(&loop->tasks, loop->pool, loop->http) < 0)
		return -1;
	return arm_timer(loop);
}

static int dispatch(struct loop *loop, const struct epoll_event *event)
{
	int fd = (int)(uint32_t)event->data.u64;

	switch ((enum source_kind)(event->data.u64 >> 32)) {
	case SOURCE_STOP:
		return 0; /* the loop sees run_stopping() */
	case SOURCE_TIMER:
		return on_timer(loop);
	case SOURCE_FILE_POOL:
		return loop_tasks_pool_ready(&loop->tasks, loop->pool,
					     loop->inline_reads);
	case SOURCE_HTTP_SOCKET:
		return on_http_socket(loop, fd, event->events);
	case SOURCE_HTTP_TIMER:
		return on_http_timer(loop);
	}
	return 0;
}

static int loop_iterate(struct loop *loop)
{
	struct epoll_event events[LOOP_EVENTS];

	int ready = epoll_wait(loop->epoll_fd, events, LOOP_EVENTS, -1);
	if (ready < 0)
		return errno == EINTR ? 0 : loop_fail(loop, "epoll_wait");
	for (int i = 0; i < ready; i++) {
		if (dispatch(loop, &events[i]) < 0)
			return -1;
	}
	run_sample_threads(loop->run, false);
	return start_tasks(loop);
}

static int epoll_run(struct run *run)
{
	enum workload_kind kind = run->params.workload->kind;
	struct loop loop = {
	    .run = run, .epoll_fd = -1, .timer_fd = -1, .http_timer_fd = -1};
	int result = -1;

	if (loop_tasks_init(&loop.tasks, run, kind == WORKLOAD_SLEEP) < 0)
		goto out;
	loop.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop.epoll_fd < 0) {
		loop_fail(&loop, "epoll_create1");
		goto out;
	}
	loop.timer_fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop.timer_fd < 0) {
		loop_fail(&loop, "timerfd_create");
		goto out;
	}
	if (watch(&loop, SOURCE_STOP, run_stop_fd, EPOLLIN) < 0 ||
	    watch(&loop, SOURCE_TIMER, loop.timer_fd, EPOLLIN) < 0) {
		loop_fail(&loop, "epoll_ctl");
		goto out;
	}
	if ((kind == WORKLOAD_FILE && file_setup(&loop) < 0) ||
	    (kind == WORKLOAD_HTTP && http_setup(&loop) < 0))
		goto out;
	if (start_tasks(&loop) < 0)
		goto out;
	while (!loop_tasks_all_done(&loop.tasks) && !run_stopping()) {
		if (loop_iterate(&loop) < 0)
			goto out;
	}
	result = 0;
out:
	/* Whatever happened, every task ends; then the multi handle goes first:
	 * while it closes its connections, libcurl's socket callback still
	 * finds the loop and the sockets' records. */
	loop_tasks_cancel(&loop.tasks, loop.pool, loop.http);
	loop_http_free(loop.http);
	loop_pool_free(loop.pool);
	if (loop.http_timer_fd >= 0)
		close(loop.http_timer_fd);
	if (loop.timer_fd >= 0)
		close(loop.timer_fd);
	if (loop.epoll_fd >= 0)
		close(loop.epoll_fd);
	loop_tasks_free(&loop.tasks);
	return result;
}

/* ---- sleep: deadlines in a min-heap behind one timerfd ------------------- */

static int arm_timer(struct loop *loop)
{
	int64_t earliest_ns = loop_tasks_earliest_ns(&loop->tasks);

	if (earliest_ns < 0 || earliest_ns == loop->timer_armed_ns)
		return 0;
	if (set_timerfd(loop->timer_fd, earliest_ns) < 0)
		return loop_fail(loop, "timerfd_settime");
	loop->timer_armed_ns = earliest_ns;
	return 0;
}

/* The timerfd fired: every task whose deadline has passed is done. */
static int on_timer(struct loop *loop)
{
	uint64_t expirations;

	if (read(loop->timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return loop_fail(loop, "read timerfd");
	loop->timer_armed_ns = 0;
	loop_tasks_wake(&loop->tasks, run_now_ns(), TASK_OK);
	return 0;
}

/* ---- file: epoll refuses regular files, so worker threads read them ------ */

/* The lesson in one call: a regular file is always "ready", epoll has nothing
 * to report for it and refuses it, epoll_ctl(EPOLL_CTL_ADD) failing with EPERM.
 */
static void file_show_epoll_refuses(struct loop *loop)
{
	struct run *run = loop->run;
	int fd = run->params.workload->file->open(run, 0);
	char name[FILE_NAME_LEN];
	char line[256];

	if (fd < 0)
		return; /* task 0 will say why */
	int err = watch(loop, SOURCE_FILE_POOL, fd, EPOLLIN) < 0 ? errno : 0;
	if (err == 0)
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (run->params.quiet)
		return;
	run->params.workload->file->name(0, name, sizeof(name));
	int len = snprintf(
	    line, sizeof(line),
	    "epoll_ctl(EPOLL_CTL_ADD, %s): %s; the loop %s\n", name,
	    err != 0 ? strerror(err)
		     : "accepted (unexpected for a regular file)",
	    loop->inline_reads ? "reads files itself, blocked while it reads"
			       : "hands reads to worker threads");
	log_write(line,
		  (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

/* --pool N workers (the default, as libuv does) or --inline (none: the loop
 * reads). */
static int file_setup(struct loop *loop)
{
	struct run *run = loop->run;

	loop->inline_reads = run->params.inline_reads;
	run->mode = loop->inline_reads ? "inline" : "pool";
	loop->pool =
	    loop_pool_create(run, run_jobs(run),
			     loop->inline_reads ? 0 : run->params.pool_threads,
			     loop_pool_run_task, run);
	if (loop->pool == NULL)
		return -1;
	if (watch(loop, SOURCE_FILE_POOL, loop_pool_fd(loop->pool), EPOLLIN) <
	    0)
		return loop_fail(loop, "epoll_ctl for the pool's eventfd");
	file_show_epoll_refuses(loop);
	return 0;
}

/* ---- http: what libcurl asks of the loop (loop_http.h) ------------------- */

/* Watch a socket for what libcurl waits on. One it lets go of stays registered:
 * a kept-alive connection is usually wanted again by the next transfer (one
 * EPOLL_CTL_MOD then, not a DEL now and an ADD then), and closing it takes it
 * out of the set. */
static int http_watch(void *arg, struct loop_http_socket *socket)
{
	struct loop *loop = arg;
	struct epoll_event event = {
	    .events = ((socket->want & LOOP_HTTP_IN) ? EPOLLIN : 0) |
		      ((socket->want & LOOP_HTTP_OUT) ? EPOLLOUT : 0),
	    .data.u64 = source(SOURCE_HTTP_SOCKET, socket->fd),
	};

	if (socket->want == 0)
		return 0;
	int op = socket->registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	int done = epoll_ctl(loop->epoll_fd, op, socket->fd, &event);
	if (done < 0 &&
	    errno == ENOENT) /* closed (so unregistered), reopened: add it */
		done = epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, socket->fd,
				 &event);
	if (done < 0)
		return loop_fail(loop, "epoll_ctl for a socket");
	socket->registered = event.events;
	return 0;
}

/* libcurl's time on its own timerfd. A time already past while the timerfd has
 * fired (libcurl says "at once" for every handle added) needs no rearming: a
 * timerfd that has fired stays readable until the loop reads it. */
static int http_timer(void *arg, int64_t due_ns)
{
	struct loop *loop = arg;
	int64_t now_ns = run_now_ns();

	if (due_ns >= 0 && due_ns <= now_ns && loop->http_timer_ns != 0 &&
	    loop->http_timer_ns <= now_ns)
		return 0;
	if (due_ns < 0 && loop->http_timer_ns == 0)
		return 0;
	if (set_timerfd(loop->http_timer_fd, due_ns) < 0)
		return loop_fail(loop, "timerfd_settime for libcurl");
	loop->http_timer_ns = due_ns >= 0 ? due_ns : 0;
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

static int http_setup(struct loop *loop)
{
	loop->http_timer_fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->http_timer_fd < 0)
		return loop_fail(loop, "timerfd_create for libcurl");
	if (watch(loop, SOURCE_HTTP_TIMER, loop->http_timer_fd, EPOLLIN) < 0)
		return loop_fail(loop, "epoll_ctl for libcurl's timer");
	loop->http = loop_http_init(loop->run, &http_backend, loop);
	return loop->http != NULL ? 0 : -1;
}

static int on_http_socket(struct loop *loop, int fd, uint32_t events)
{
	struct loop_http_socket *socket = loop_http_socket_find(loop->http, fd);

	if (socket == NULL)
		return 0;
	if (socket->want == 0) {
		/* libcurl let go of it: an idle connection the server closed,
		 * or an event taken before libcurl let go. Level-triggered
		 * epoll would report it again and again: stop watching it (a
		 * socket closed since is gone already). */
		if (socket->registered != 0)
			epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		socket->registered = 0;
		return 0;
	}
	return loop_http_ready(
	    loop->http, fd,
	    ((events & EPOLLIN) ? LOOP_HTTP_IN : 0) |
		((events & EPOLLOUT) ? LOOP_HTTP_OUT : 0) |
		((events & (EPOLLERR | EPOLLHUP)) ? LOOP_HTTP_ERR : 0));
}

static int on_http_timer(struct loop *loop)
{
	uint64_t expirations;

	if (read(loop->http_timer_fd, &expirations, sizeof(expirations)) < 0) {
		if (errno == EAGAIN)
			return 0; /* rearmed for later since epoll_wait() saw it
				     fire */
		return loop_fail(loop, "read libcurl's timerfd");
	}
	loop->http_timer_ns = 0; /* a one-shot timer that fired is disarmed */
	return loop_http_timeout(loop->http);
}

const struct strategy strategy_epoll = {
    .name = "epoll",
    .summary =
	"one thread, one event loop: non-blocking descriptors and epoll_wait()",
    .flags = STRATEGY_ONE_THREAD | STRATEGY_FILE_POOL,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = epoll_run,
};
