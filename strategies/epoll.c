/* epoll.c - one thread, one event loop: every task is a state machine driven by epoll_wait().
 * Sleeps are deadlines in a min-heap behind a single timerfd (one descriptor for any number of
 * tasks, as event loops do); the run's stop eventfd is in the same epoll set, so Ctrl-C ends
 * the wait at once. Teaches: epoll_create1, epoll_ctl, epoll_wait, timerfd_create/settime. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "http_multi.h"
#include "../bench/core/minheap.h"
#include "../bench/core/strategy.h"

#define LOOP_EVENTS 256 /* events taken per epoll_wait() */

/* What an epoll event is about: the pointer in epoll_event.data points at one of these. */
enum source_kind {
	SOURCE_STOP,	    /* the run's stop eventfd: Ctrl-C or SIGTERM */
	SOURCE_TIMER,	    /* the timerfd behind the sleep deadlines */
	SOURCE_FILE_POOL,   /* file: the eventfd the read workers signal */
	SOURCE_HTTP_SOCKET, /* http: a socket libcurl asked us to watch */
	SOURCE_HTTP_TIMER,  /* http: the timerfd behind libcurl's timeout */
};

struct source {
	enum source_kind kind; /* which handler gets the event */
	int fd;		       /* the descriptor watched */
};

struct loop {
	struct run *run;	  /* the run being carried out */
	int epoll_fd;		  /* the epoll instance */
	struct source stop;	  /* run_stop_fd */
	struct source timer;	  /* a timerfd armed at the earliest deadline */
	struct minheap deadlines; /* (deadline on CLOCK_MONOTONIC, task id) of sleeping tasks */
	int64_t timer_armed_ns;	  /* the deadline the timerfd is armed for, 0 when disarmed */
	long next_task;		  /* the next task to start */
	long done;		  /* tasks finished */
	void *file;		  /* file: the read workers' state (struct file_loop) */
	void *http;		  /* http: libcurl's timer, our callbacks' state (http_loop) */
	struct http_multi *http_multi; /* http: libcurl's multi handle and the transfer slots */
};

static void finish_task(struct loop *loop, struct task *task);
static int loop_fail(struct loop *loop, const char *what);

/* ---- sleep: deadlines in a min-heap behind one timerfd ---------------------------------- */

static int loop_fail(struct loop *loop, const char *what)
{
	int err = errno;
	loop->run->harness_error = err;
	snprintf(loop->run->harness_message, sizeof(loop->run->harness_message), "epoll: %s: %s",
		 what, strerror(err));
	return -1;
}

static int watch(struct loop *loop, struct source *source, uint32_t events)
{
	struct epoll_event event = {.events = events, .data.ptr = source};
	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, source->fd, &event);
}

/* Arm the timerfd for the earliest deadline (absolute, so no time is lost computing it). */
static int arm_timer(struct loop *loop)
{
	struct itimerspec when = {0};

	if (loop->deadlines.len == 0 || loop->timer_armed_ns == minheap_top(&loop->deadlines).key)
		return 0;
	int64_t deadline = minheap_top(&loop->deadlines).key;
	if (deadline <= 0)
		deadline = 1; /* an all-zero it_value would disarm it */
	when.it_value.tv_sec = deadline / 1000000000LL;
	when.it_value.tv_nsec = deadline % 1000000000LL;
	if (timerfd_settime(loop->timer.fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
		return loop_fail(loop, "timerfd_settime");
	loop->timer_armed_ns = minheap_top(&loop->deadlines).key;
	return 0;
}

static void finish_task(struct loop *loop, struct task *task)
{
	run_task_finished(loop->run, task);
	run_inflight_add(loop->run, -1);
	loop->done++;
}

static int start_sleep(struct loop *loop, struct task *task)
{
	int64_t deadline = run_now_ns() + task->delay_ns;
	if (minheap_push(&loop->deadlines, deadline, task->id) < 0) {
		errno = ENOMEM;
		return loop_fail(loop, "timer heap");
	}
	return 0;
}

/* ---- file: regular files cannot be watched by epoll (epoll_ctl fails with EPERM) ------ */

/* A regular file is always "ready" as far as the kernel is concerned: epoll has no readiness to
 * report for it and refuses it, epoll_ctl(EPOLL_CTL_ADD) failing with EPERM (file_setup asks
 * once, on the first file, and prints the answer). So the loop hands each read to a few worker
 * threads that wake it through an eventfd in the epoll set when a file is read, as libuv does
 * (--pool N, the default), or it reads in its own thread, blocked meanwhile (--inline). */
#include <pthread.h>
#include <sys/eventfd.h>

#include "../bench/workloads/file.h"
#include "../bench/core/log.h"

struct file_loop {
	struct source wakeup; /* SOURCE_FILE_POOL: an eventfd, written when a read is done */
	struct run *run;      /* the run, for the workers */
	bool inline_reads;    /* --inline: the loop reads, no workers */
	pthread_mutex_t lock; /* guards todo, done and quitting */
	pthread_cond_t work;  /* signalled when a read is queued or the workers must quit */
	long capacity;	      /* slots in each queue: the most tasks in flight */
	long *todo;	      /* ring of task ids waiting to be read */
	long todo_head;	      /* the oldest entry of todo */
	long todo_len;	      /* entries in todo */
	long *done;	      /* ids of tasks read, not yet finished by the loop */
	long done_len;	      /* entries in done */
	long *finishing;      /* the loop's copy of done, finished outside the lock */
	bool quitting;	      /* the workers must return */
	pthread_t *workers;   /* the read workers */
	long workers_started; /* of them, running (not yet joined) */
};

static void file_wake_loop(struct file_loop *files)
{
	uint64_t one = 1;
	if (write(files->wakeup.fd, &one, sizeof(one)) < 0) {
		/* only EAGAIN, when the counter is full: the loop is awake anyway */
	}
}

/* A read worker: take a task, run the workload's blocking read (the same code as blocking,
 * processes and threads), put it on the done queue and wake the loop. */
static void *file_worker(void *arg)
{
	struct file_loop *files = arg;
	struct run *run = files->run;

	pthread_mutex_lock(&files->lock);
	for (;;) {
		while (files->todo_len == 0 && !files->quitting)
			pthread_cond_wait(&files->work, &files->lock);
		if (files->quitting)
			break;
		long id = files->todo[files->todo_head];
		files->todo_head = (files->todo_head + 1) % files->capacity;
		files->todo_len--;
		pthread_mutex_unlock(&files->lock);

		struct task *task = &run->tasks[id];
		task->tid = run_gettid(); /* the thread that really read it */
		run->params.workload->task_run(run, task);

		pthread_mutex_lock(&files->lock);
		files->done[files->done_len++] = id;
		file_wake_loop(files);
	}
	pthread_mutex_unlock(&files->lock);
	return NULL;
}

static void file_stop_workers(struct file_loop *files)
{
	pthread_mutex_lock(&files->lock);
	files->quitting = true;
	pthread_cond_broadcast(&files->work);
	pthread_mutex_unlock(&files->lock);
	while (files->workers_started > 0)
		pthread_join(files->workers[--files->workers_started], NULL);
}

/* The lesson in one call: hand epoll a regular file and it says EPERM. */
static void file_show_epoll_refuses(struct loop *loop)
{
	struct run *run = loop->run;
	struct source probe = {.kind = SOURCE_FILE_POOL,
			       .fd = run->params.workload->file->open(run, 0)};
	char name[FILE_NAME_LEN];
	char line[256];

	if (probe.fd < 0)
		return; /* task 0 will say why */
	int err = watch(loop, &probe, EPOLLIN) < 0 ? errno : 0;
	if (err == 0)
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, probe.fd, NULL);
	close(probe.fd);
	if (run->params.quiet)
		return;
	run->params.workload->file->name(0, name, sizeof(name));
	int len =
	    snprintf(line, sizeof(line), "epoll_ctl(EPOLL_CTL_ADD, %s): %s; the loop %s\n", name,
		     err != 0 ? strerror(err) : "accepted (unexpected for a regular file)",
		     run->params.inline_reads ? "reads files itself, blocked while it reads"
					      : "hands reads to worker threads");
	log_write(line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

static void file_teardown(struct loop *loop);

static int file_setup(struct loop *loop)
{
	struct run *run = loop->run;
	struct file_loop *files;

	if (run->params.workload->kind != WORKLOAD_FILE)
		return 0;
	files = calloc(1, sizeof(*files));
	if (files == NULL) {
		errno = ENOMEM;
		return loop_fail(loop, "file queues");
	}
	*files = (struct file_loop){
	    .wakeup = {.kind = SOURCE_FILE_POOL, .fd = -1},
	    .run = run,
	    .inline_reads = run->params.inline_reads,
	    .lock = PTHREAD_MUTEX_INITIALIZER,
	    .work = PTHREAD_COND_INITIALIZER,
	    .capacity = run_jobs(run),
	};
	loop->file = files;
	run->mode = files->inline_reads ? "inline" : "pool";
	long workers = files->inline_reads ? 0 : run->params.pool_threads;
	if (workers > files->capacity)
		workers = files->capacity; /* a worker with nothing ever to read is not started */
	files->todo = calloc((size_t)files->capacity, sizeof(*files->todo));
	files->done = calloc((size_t)files->capacity, sizeof(*files->done));
	files->finishing = calloc((size_t)files->capacity, sizeof(*files->finishing));
	files->workers = calloc((size_t)workers + 1, sizeof(*files->workers));
	if (files->todo == NULL || files->done == NULL || files->finishing == NULL ||
	    files->workers == NULL) {
		errno = ENOMEM;
		loop_fail(loop, "file queues");
		goto out_teardown;
	}
	files->wakeup.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (files->wakeup.fd < 0) {
		loop_fail(loop, "eventfd");
		goto out_teardown;
	}
	if (watch(loop, &files->wakeup, EPOLLIN) < 0) {
		loop_fail(loop, "epoll_ctl eventfd");
		goto out_teardown;
	}
	file_show_epoll_refuses(loop);
	while (files->workers_started < workers) {
		int err = pthread_create(&files->workers[files->workers_started], NULL, file_worker,
					 files);
		if (err != 0) {
			errno = err;
			loop_fail(loop, "pthread_create for a read worker");
			goto out_teardown;
		}
		files->workers_started++;
	}
	return 0;
out_teardown:
	file_teardown(loop);
	return -1;
}

static int start_file(struct loop *loop, struct task *task)
{
	struct file_loop *files = loop->file;

	pthread_mutex_lock(&files->lock);
	files->todo[(files->todo_head + files->todo_len) % files->capacity] = task->id;
	files->todo_len++;
	pthread_cond_signal(&files->work);
	pthread_mutex_unlock(&files->lock);
	if (files->inline_reads)
		file_wake_loop(files); /* the loop reads it on its next turn */
	return 0;
}

/* --inline: the loop reads one queued file in its own thread; nothing else happens meanwhile,
 * not even Ctrl-C (the read stops at the next block). More queued: come back next turn. */
static void file_read_inline(struct loop *loop)
{
	struct file_loop *files = loop->file;

	if (files->todo_len == 0)
		return;
	struct task *task = &loop->run->tasks[files->todo[files->todo_head]];
	files->todo_head = (files->todo_head + 1) % files->capacity;
	files->todo_len--;
	loop->run->params.workload->task_run(loop->run, task);
	finish_task(loop, task);
	if (files->todo_len > 0)
		file_wake_loop(files);
}

/* The eventfd is readable: finish every task the workers have read since last time. */
static int on_file_pool(struct loop *loop)
{
	struct file_loop *files = loop->file;
	uint64_t count;

	if (read(files->wakeup.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return loop_fail(loop, "read eventfd");
	if (files->inline_reads) {
		file_read_inline(loop);
		return 0;
	}
	pthread_mutex_lock(&files->lock);
	long finished = files->done_len;
	long *done = files->done;
	files->done = files->finishing;
	files->finishing = done;
	files->done_len = 0;
	pthread_mutex_unlock(&files->lock);
	for (long i = 0; i < finished; i++)
		finish_task(loop, &loop->run->tasks[done[i]]);
	return 0;
}

/* The run ends (Ctrl-C, a failure, or simply done): the workers finish the file in hand (a
 * read stops at the next block on Ctrl-C) and are joined; what they read is finished, what
 * is still queued is cancelled. */
static void file_cancel(struct loop *loop)
{
	struct file_loop *files = loop->file;

	if (files == NULL)
		return;
	file_stop_workers(files);
	for (long i = 0; i < files->done_len; i++)
		finish_task(loop, &loop->run->tasks[files->done[i]]);
	files->done_len = 0;
	for (; files->todo_len > 0; files->todo_len--) {
		struct task *task = &loop->run->tasks[files->todo[files->todo_head]];
		files->todo_head = (files->todo_head + 1) % files->capacity;
		task->status = TASK_CANCELLED;
		finish_task(loop, task);
	}
}

static void file_teardown(struct loop *loop)
{
	struct file_loop *files = loop->file;

	if (files == NULL)
		return;
	file_stop_workers(files);
	if (files->wakeup.fd >= 0)
		close(files->wakeup.fd);
	pthread_mutex_destroy(&files->lock);
	pthread_cond_destroy(&files->work);
	free(files->todo);
	free(files->done);
	free(files->finishing);
	free(files->workers);
	free(files);
	loop->file = NULL;
}

/* ---- http: libcurl's multi-socket API on epoll and a timerfd ---------------------------- */

/* libcurl opens and closes the sockets; it tells us which to watch for what through
 * CURLMOPT_SOCKETFUNCTION and when to call it back through CURLMOPT_TIMERFUNCTION (a timerfd
 * here), and we report readiness with curl_multi_socket_action(). Finished transfers come out
 * of curl_multi_info_read(). The model is curl's docs/examples/ephiperfifo.c. What epoll and
 * uring share is in bench/http_multi.c: the multi handle, its easy handles (one per --jobs
 * slot, reused), the rounds in which transfers are handed to libcurl, the draining. */

/* A descriptor libcurl asked us to watch: its record (http_multi_socket) stays until the end
 * of the run, so an event already taken from epoll_wait() for a socket that libcurl has let go
 * of since finds it still there, unwanted, and is dropped. A socket libcurl lets go of stays
 * registered: a kept-alive connection is usually wanted again by the next transfer (one
 * EPOLL_CTL_MOD then, instead of a DEL now and an ADD then), and closing a socket takes it out
 * of the epoll set by itself. */
struct http_socket {
	struct source source; /* first member: epoll hands back &source */
	uint32_t events;      /* what epoll was last told to watch for, 0 when not registered */
	bool wanted;	      /* libcurl waits on it: else an event for it is dropped */
};

struct http_loop {
	struct source timer;  /* timerfd armed for libcurl's next timeout */
	int64_t timer_due_ns; /* when the timerfd fires (CLOCK_MONOTONIC), 0 when disarmed */
	struct loop *loop;    /* the loop, for libcurl's callbacks */
	int callback_errno;   /* why a callback failed, or 0 */
};

static void http_teardown(struct loop *loop);

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl waits for, or stop watching it. */
static int http_on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_loop *http = userp;
	struct http_socket *entry;
	(void)easy;
	(void)socketp;

	if (what == CURL_POLL_REMOVE) {
		entry = http_multi_socket_find(http->loop->http_multi, fd);
		if (entry != NULL)
			entry->wanted = false;
		return 0;
	}
	entry = http_multi_socket(http->loop->http_multi, fd);
	if (entry == NULL) {
		http->callback_errno = ENOMEM;
		return -1;
	}
	entry->source = (struct source){.kind = SOURCE_HTTP_SOCKET, .fd = fd};
	struct epoll_event event = {
	    .events =
		((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0),
	    .data.ptr = &entry->source,
	};
	int op = entry->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	int done = epoll_ctl(http->loop->epoll_fd, op, fd, &event);
	if (done < 0 && errno == ENOENT) /* closed (so unregistered) and reopened: add it anew */
		done = epoll_ctl(http->loop->epoll_fd, EPOLL_CTL_ADD, fd, &event);
	if (done < 0) {
		http->callback_errno = errno;
		return -1;
	}
	entry->events = event.events != 0 ? event.events : EPOLLERR; /* never 0 while registered */
	entry->wanted = true;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants to be called back in timeout_ms (-1: never). 0 means
 * at once, but from the loop, not from here; libcurl says 0 again for every handle added, and a
 * timerfd that has fired already stays readable until the loop reads it: no need to rearm it. */
static int http_on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_loop *http = userp;
	struct itimerspec when = {0}; /* all zero disarms it */
	int64_t now_ns = run_now_ns();
	int64_t due_ns = 0;
	(void)multi;

	if (timeout_ms == 0 && http->timer_due_ns != 0 && http->timer_due_ns <= now_ns)
		return 0;
	if (timeout_ms < 0 && http->timer_due_ns == 0)
		return 0;
	if (timeout_ms >= 0) {
		due_ns = now_ns + (int64_t)timeout_ms * 1000000LL;
		when.it_value.tv_sec = due_ns / 1000000000LL;
		when.it_value.tv_nsec = due_ns % 1000000000LL;
	}
	if (timerfd_settime(http->timer.fd, TFD_TIMER_ABSTIME, &when, NULL) < 0) {
		http->callback_errno = errno;
		return -1;
	}
	http->timer_due_ns = due_ns;
	return 0;
}

/* A transfer is over and the workload has checked it (http_multi_drain, http_multi_cancel), or
 * a task could not even be set up (http_multi_start): the task is done. */
static void http_finished(void *user, struct task *task)
{
	struct http_loop *http = user;

	finish_task(http->loop, task);
}

/* What bench/http_multi.c is told: libcurl's two callbacks are the loop's own. */
static const struct http_multi_hooks http_hooks = {
    .on_socket = http_on_curl_socket,
    .on_timer = http_on_curl_timer,
    .on_finished = http_finished,
    .socket_bytes = sizeof(struct http_socket),
};

static int http_fail(struct loop *loop, const char *what, CURLMcode rc)
{
	struct http_loop *http = loop->http;

	if (http->callback_errno != 0) {
		errno = http->callback_errno;
		return loop_fail(loop, what);
	}
	loop->run->harness_error = EIO;
	snprintf(loop->run->harness_message, sizeof(loop->run->harness_message), "epoll: %s: %s",
		 what, curl_multi_strerror(rc));
	return -1;
}

/* Tell libcurl what happened on fd (or that its timeout came, CURL_SOCKET_TIMEOUT), then
 * finish every transfer it has completed meanwhile. */
static int http_act(struct loop *loop, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode rc =
	    curl_multi_socket_action(http_multi_curl(loop->http_multi), fd, flags, &running);

	if (rc != CURLM_OK)
		return http_fail(loop, "curl_multi_socket_action", rc);
	http_multi_drain(loop->http_multi);
	return 0;
}

/* A task is handed to libcurl by http_multi_start() (curl_multi_add_handle); libcurl then asks
 * for a zero timeout, so the timerfd fires and the loop calls it back to connect. */
static int http_setup(struct loop *loop)
{
	struct http_loop *http;

	if (loop->run->params.workload->kind != WORKLOAD_HTTP)
		return 0;
	http = calloc(1, sizeof(*http));
	if (http == NULL) {
		errno = ENOMEM;
		return loop_fail(loop, "http state");
	}
	loop->http = http;
	http->loop = loop;
	http->timer = (struct source){.kind = SOURCE_HTTP_TIMER, .fd = -1};
	http->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (http->timer.fd < 0) {
		loop_fail(loop, "timerfd_create for libcurl");
		goto out_teardown;
	}
	if (watch(loop, &http->timer, EPOLLIN) < 0) {
		loop_fail(loop, "epoll_ctl for libcurl's timer");
		goto out_teardown;
	}
	loop->http_multi = http_multi_init(loop->run, run_jobs(loop->run), &http_hooks, http);
	if (loop->http_multi == NULL) {
		loop_fail(loop, "libcurl's multi handle and the transfer slots");
		goto out_teardown;
	}
	return 0;
out_teardown:
	http_teardown(loop);
	return -1;
}

static int on_http_socket(struct loop *loop, struct source *source, uint32_t events)
{
	struct http_socket *entry = (struct http_socket *)source;
	int flags = 0;

	if (!entry->wanted) {
		/* libcurl let go of it: an idle connection that the server closed, or an event
		 * taken from epoll_wait() before libcurl let go. Level-triggered epoll would report
		 * it again and again: stop watching it (a socket closed since is gone already). */
		if (entry->events != 0)
			epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, source->fd, NULL);
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
	struct http_loop *http = loop->http;
	uint64_t expirations;

	if (read(http->timer.fd, &expirations, sizeof(expirations)) < 0) {
		if (errno == EAGAIN)
			return 0; /* rearmed for later since epoll_wait() saw it fire */
		return loop_fail(loop, "read libcurl's timerfd");
	}
	http->timer_due_ns = 0; /* a one-shot timer that fired is disarmed */
	return http_act(loop, CURL_SOCKET_TIMEOUT, 0);
}

/* The multi handle goes first: while it closes its connections, libcurl's socket callback
 * still finds http and the sockets' records. */
static void http_teardown(struct loop *loop)
{
	struct http_loop *http = loop->http;

	if (http == NULL)
		return;
	http_multi_free(loop->http_multi);
	loop->http_multi = NULL;
	if (http->timer.fd >= 0)
		close(http->timer.fd);
	free(http);
	loop->http = NULL;
}

/* ---- the loop ------------------------------------------------------------------------- */

static int start_task(struct loop *loop, struct task *task)
{
	switch (loop->run->params.workload->kind) {
	case WORKLOAD_SLEEP:
		return start_sleep(loop, task);
	case WORKLOAD_FILE:
		return start_file(loop, task);
	case WORKLOAD_HTTP:
		http_multi_start(loop->http_multi, task);
		return 0;
	}
	return 0;
}

/* Start tasks until --jobs are in flight. */
static int start_tasks(struct loop *loop)
{
	struct run *run = loop->run;

	http_multi_round_begin(loop->http_multi); /* http: at most so many added per round */
	while (loop->next_task < run->params.tasks && run->inflight < run_jobs(run) &&
	       http_multi_may_start(loop->http_multi)) {
		struct task *task = &run->tasks[loop->next_task++];
		run_task_started(run, task);
		run_inflight_add(run, 1);
		if (start_task(loop, task) < 0)
			return -1;
	}
	return arm_timer(loop);
}

/* The timerfd fired: every task whose deadline has passed is done. */
static int on_timer(struct loop *loop)
{
	uint64_t expirations;
	if (read(loop->timer.fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return loop_fail(loop, "read timerfd");
	loop->timer_armed_ns = 0;
	int64_t now = run_now_ns();
	while (loop->deadlines.len > 0 && minheap_top(&loop->deadlines).key <= now) {
		struct minheap_item due = minheap_pop(&loop->deadlines);
		struct task *task = &loop->run->tasks[due.value];
		task->status = TASK_OK;
		finish_task(loop, task);
	}
	return 0;
}

/* Ctrl-C: every task in flight is cancelled where it stands. */
static void cancel_in_flight(struct loop *loop)
{
	file_cancel(loop);
	http_multi_cancel(loop->http_multi);
	while (loop->deadlines.len > 0) {
		struct minheap_item due = minheap_pop(&loop->deadlines);
		struct task *task = &loop->run->tasks[due.value];
		task->status = TASK_CANCELLED;
		finish_task(loop, task);
	}
}

static int loop_iterate(struct loop *loop)
{
	struct epoll_event events[LOOP_EVENTS];

	int ready = epoll_wait(loop->epoll_fd, events, LOOP_EVENTS, -1);
	if (ready < 0)
		return errno == EINTR ? 0 : loop_fail(loop, "epoll_wait");
	for (int i = 0; i < ready; i++) {
		struct source *source = events[i].data.ptr;
		switch (source->kind) {
		case SOURCE_STOP:
			return 0; /* the caller sees run_stopping() */
		case SOURCE_TIMER:
			if (on_timer(loop) < 0)
				return -1;
			break;
		case SOURCE_FILE_POOL:
			if (on_file_pool(loop) < 0)
				return -1;
			break;
		case SOURCE_HTTP_SOCKET:
			if (on_http_socket(loop, source, events[i].events) < 0)
				return -1;
			break;
		case SOURCE_HTTP_TIMER:
			if (on_http_timer(loop) < 0)
				return -1;
			break;
		}
	}
	run_sample_threads(loop->run, false);
	return start_tasks(loop);
}

static int epoll_run(struct run *run)
{
	struct loop loop = {
	    .run = run,
	    .stop = {.kind = SOURCE_STOP, .fd = run_stop_fd},
	    .timer = {.kind = SOURCE_TIMER, .fd = -1},
	};
	int result = -1;

	if (minheap_init(&loop.deadlines, (size_t)run_jobs(run)) < 0) {
		errno = ENOMEM;
		return loop_fail(&loop, "timer heap");
	}
	loop.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop.epoll_fd < 0) {
		loop_fail(&loop, "epoll_create1");
		goto out_free_heap;
	}
	loop.timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop.timer.fd < 0) {
		loop_fail(&loop, "timerfd_create");
		goto out_close_epoll;
	}
	if (watch(&loop, &loop.stop, EPOLLIN) < 0 || watch(&loop, &loop.timer, EPOLLIN) < 0) {
		loop_fail(&loop, "epoll_ctl");
		goto out_close_timer;
	}
	if (file_setup(&loop) < 0)
		goto out_close_timer;
	if (http_setup(&loop) < 0)
		goto out_file_teardown;
	if (start_tasks(&loop) < 0)
		goto out_cancel;
	while (loop.done < run->params.tasks && !run_stopping()) {
		if (loop_iterate(&loop) < 0)
			goto out_cancel;
	}
	result = 0;
out_cancel:
	cancel_in_flight(&loop);
	run_cancel_pending(run);
	http_teardown(&loop);
out_file_teardown:
	file_teardown(&loop);
out_close_timer:
	close(loop.timer.fd);
out_close_epoll:
	close(loop.epoll_fd);
out_free_heap:
	minheap_free(&loop.deadlines);
	return result;
}

const struct strategy strategy_epoll = {
    .name = "epoll",
    .summary = "one thread, one event loop: non-blocking descriptors and epoll_wait()",
    .flags = STRATEGY_ONE_THREAD | STRATEGY_FILE_POOL,
    .workloads =
	WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) | WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = epoll_run,
};
