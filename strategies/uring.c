/* uring.c - one thread, one io_uring: work goes in as requests, the kernel
 * completes them. Sleeps are IORING_OP_TIMEOUTs with absolute deadlines (one
 * for the earliest of a min-heap, or one per task:
 * IOSTRAT_URING_SLEEP=per-task); files are IORING_OP_READs (loop_ring.c),
 * though epoll cannot wait on them; HTTP is libcurl's multi-socket API
 * (loop_http.c) on IORING_OP_POLL_ADD. The run's stop eventfd is a POLL_ADD on
 * the same ring, so Ctrl-C ends the wait at once. Teaches: io_uring_get_sqe,
 * io_uring_prep_timeout/poll_add/cancel64, io_uring_submit_and_wait,
 * io_uring_for_each_cqe. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/core/strategy.h"
#include "loop_http.h"
#include "loop_ring.h"
#include "loop_tasks.h"

#if IOSTRAT_HAVE_LIBURING

/* What a request is about: the top byte of its user_data. Below it, 24 bits of
 * generation (http: which watch of a socket a poll belongs to) and 32 bits of
 * id (a task, a file slot, a socket). */
enum request_kind {
	REQUEST_STOP = 1, /* POLL_ADD on run_stop_fd: Ctrl-C or SIGTERM */
	REQUEST_SLEEP,	  /* TIMEOUT: one task's sleep (per-task) */
	REQUEST_TIMER,	  /* TIMEOUT: the heap's earliest deadline (heap) */
	REQUEST_READ,	  /* READ: a file's next block; id: the file slot */
	REQUEST_POLL,	  /* POLL_ADD: a socket libcurl waits on; id: the fd */
	REQUEST_UNPOLL,	  /* POLL_REMOVE: libcurl no longer wants that watch */
	REQUEST_CTIMER,	  /* TIMEOUT: libcurl's timeout */
	REQUEST_CUPDATE,  /* TIMEOUT_UPDATE: libcurl moved its timeout */
	REQUEST_CANCEL,	  /* ASYNC_CANCEL of all in flight: the run stops */
};

/* How sleeps wait: the mode the result document records. */
enum sleep_mode {
	SLEEP_HEAP, /* deadlines in a min-heap, one TIMEOUT at the earliest */
	SLEEP_PER_TASK, /* one TIMEOUT per task: a kernel timer for each */
};

static const char *const sleep_mode_names[] = {
    [SLEEP_HEAP] = "heap",
    [SLEEP_PER_TASK] = "per-task",
};

/* The loop's state. */
struct ring_loop {
	struct run *run;       /* the run being carried out */
	struct loop_ring ring; /* the ring, what is in flight (loop_ring.h) */
	bool cancel_refused;   /* the kernel cannot cancel all at once */
	bool draining;	       /* the run stops: no new request goes in */
	enum sleep_mode sleep_mode; /* how sleeps wait */
	struct loop_tasks tasks;    /* starting, ending, the sleepers' heap */
	int64_t timer_armed_ns;	    /* heap: the TIMEOUT's deadline, 0: none */
	struct loop_ring_files *files; /* file: the slots reads go through */
	struct loop_http *http; /* http: libcurl's multi handle and slots */
	int64_t http_due_ns;	/* http: when libcurl wants a call, -1 */
	int64_t http_armed_ns;	/* http: its TIMEOUT's deadline, -1: none */
};

static int loop_fail(struct ring_loop *loop, int err, const char *what)
{
	return run_fail(loop->run, err, "uring: %s: %s", what, strerror(err));
}

static struct io_uring_sqe *get_sqe(struct ring_loop *loop)
{
	return loop_ring_sqe(&loop->ring);
}

static uint64_t request_data(enum request_kind kind, uint32_t generation,
			     long id)
{
	return loop_ring_data(kind, generation, id);
}

static int arm_stop(struct ring_loop *loop)
{
	struct io_uring_sqe *sqe = get_sqe(loop);
	if (sqe == NULL)
		return -1;
	io_uring_prep_poll_add(sqe, run_stop_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, request_data(REQUEST_STOP, 0, 0));
	loop->ring.stop_armed = true;
	return 0;
}

static void finish_task(struct ring_loop *loop, struct task *task)
{
	loop_tasks_finish(&loop->tasks, task);
}

/* The sources' set-ups and handlers, below the loop. */
static int sleep_setup(struct ring_loop *loop);
static int start_sleep(struct ring_loop *loop, struct task *task);
static int arm_timer(struct ring_loop *loop);
static void sleep_done(struct ring_loop *loop, struct task *task, int res);
static void on_timer(struct ring_loop *loop, int res);
static int http_setup(struct ring_loop *loop);
static int http_sync_timer(struct ring_loop *loop);
static int on_poll(struct ring_loop *loop, uint64_t data, int res);
static int on_curl_timer(struct ring_loop *loop, int res);
static void http_teardown(struct ring_loop *loop);

/* ---- the loop ------------------------------------------------------------ */

static int start_task(struct ring_loop *loop, struct task *task)
{
	switch (loop->run->params.workload->kind) {
	case WORKLOAD_SLEEP:
		return start_sleep(loop, task);
	case WORKLOAD_FILE:
		return loop_ring_files_start(loop->files, task);
	case WORKLOAD_HTTP:
		loop_http_start(loop->http, task);
		return 0;
	}
	return loop_fail(loop, ENOTSUP, loop->run->params.workload->name);
}

/* Start tasks until --jobs are in flight; their requests go in with the next
 * submit. */
static int start_tasks(struct ring_loop *loop)
{
	loop_http_round_begin(
	    loop->http); /* http: at most so many added per round */
	for (;;) {
		struct task *task = loop_tasks_next(&loop->tasks, loop->http);
		if (task == NULL)
			break;
		if (start_task(loop, task) < 0)
			return -1;
	}
	return arm_timer(loop);
}

static int on_completion(struct ring_loop *loop, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);

	if (!(cqe->flags & IORING_CQE_F_MORE))
		loop->ring.in_kernel--;
	switch ((enum request_kind)loop_ring_kind(data)) {
	case REQUEST_STOP:
		loop->ring.stop_armed =
		    false; /* the caller sees run_stopping() */
		break;
	case REQUEST_SLEEP:
		sleep_done(loop, &loop->run->tasks[loop_ring_id(data)],
			   cqe->res);
		break;
	case REQUEST_TIMER:
		on_timer(loop, cqe->res);
		break;
	case REQUEST_READ:
		return loop_ring_files_done(loop->files, loop_ring_id(data),
					    cqe->res, loop->draining);
	case REQUEST_POLL:
		return on_poll(loop, data, cqe->res);
	case REQUEST_CTIMER:
		return on_curl_timer(loop, cqe->res);
	case REQUEST_UNPOLL:
	case REQUEST_CUPDATE:
		break; /* -ENOENT: what they were to take back or move had
			  completed already */
	case REQUEST_CANCEL:
		loop->cancel_refused =
		    cqe->res ==
		    -EINVAL; /* IORING_ASYNC_CANCEL_ANY: Linux 5.19 */
		break;
	}
	return 0;
}

/* Every completion waiting in the queue, handled in order. -1 when one could
 * not be handled (the ring broke down); the rest stay queued for the drain. */
static int reap(struct ring_loop *loop)
{
	struct io_uring_cqe *cqe;
	unsigned head;
	unsigned seen = 0;
	int result = 0;

	io_uring_for_each_cqe(&loop->ring.ring, head, cqe)
	{
		seen++;
		if (on_completion(loop, cqe) < 0) {
			result = -1;
			break;
		}
	}
	io_uring_cq_advance(&loop->ring.ring, seen);
	return result;
}

/* Submit what the last round queued, wait for at least one completion, handle
 * them all. */
static int loop_iterate(struct ring_loop *loop)
{
	if (http_sync_timer(loop) < 0 || loop_ring_submit(&loop->ring, 1) < 0 ||
	    reap(loop) < 0)
		return -1;
	run_sample_threads(loop->run, false);
	return start_tasks(loop);
}

/* The run stops (Ctrl-C, or a failure): one ASYNC_CANCEL takes back every
 * request in flight, and the loop waits for their completions, so no request
 * outlives the memory it uses. Tasks still running after that are marked
 * cancelled. */
static void cancel_in_flight(struct ring_loop *loop)
{
	struct run *run = loop->run;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring.ring);

	loop->draining = true;
	if (sqe == NULL && loop_ring_submit(&loop->ring, 0) == 0)
		sqe = io_uring_get_sqe(&loop->ring.ring);
	if (sqe != NULL) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe,
					request_data(REQUEST_CANCEL, 0, 0));
		while ((loop->ring.in_kernel > 0 ||
			io_uring_sq_ready(&loop->ring.ring) > 0) &&
		       !loop->cancel_refused) {
			int ret = io_uring_submit_and_wait(&loop->ring.ring, 1);
			if (ret < 0 && ret != -EINTR)
				break;
			if (ret > 0)
				loop->ring.in_kernel += ret;
			reap(loop);
		}
	}
	loop_http_cancel(loop->http);
	for (long i = 0; i < loop->tasks.next; i++) {
		struct task *task = &run->tasks[i];
		if (task->status == TASK_RUNNING) {
			task->status = TASK_CANCELLED;
			finish_task(loop, task);
		}
	}
}

/* The most requests one run can have in flight: what the ring is sized for. */
static long requests_max(const struct ring_loop *loop)
{
	const long loop_requests = 3; /* the stop poll, the cancel, a spare */

	if (loop->run->params.workload->kind == WORKLOAD_SLEEP &&
	    loop->sleep_mode == SLEEP_HEAP)
		return loop_requests + 1; /* the timer */
	return loop_requests + run_jobs(loop->run);
}

static int uring_run(struct run *run)
{
	enum workload_kind kind = run->params.workload->kind;
	struct ring_loop loop = {.run = run};
	int result = -1;

	if (sleep_setup(&loop) < 0)
		goto out_cancel_pending;
	if (loop_ring_init(&loop.ring, run, requests_max(&loop)) < 0)
		goto out_free_tasks;
	if (kind == WORKLOAD_FILE) {
		loop.files = loop_ring_files_create(&loop.ring, &loop.tasks,
						    REQUEST_READ);
		if (loop.files == NULL)
			goto out_exit_ring;
	}
	if (http_setup(&loop) < 0)
		goto out_cancel;
	if (arm_stop(&loop) < 0 || start_tasks(&loop) < 0)
		goto out_cancel;
	while (!loop_tasks_all_done(&loop.tasks) && !run_stopping()) {
		if (loop_iterate(&loop) < 0)
			goto out_cancel;
	}
	result = 0;
out_cancel:
	cancel_in_flight(&loop);
	http_teardown(&loop);
	loop_ring_files_free(loop.files);
out_exit_ring:
	loop_ring_exit(&loop.ring);
out_free_tasks:
	loop_tasks_free(&loop.tasks);
out_cancel_pending:
	run_cancel_pending(run);
	return result;
}

/* ---- sleep: IORING_OP_TIMEOUT -------------------------------------------- */

/* Which way sleeps wait: IOSTRAT_URING_SLEEP=heap (the default) or per-task. */
static int sleep_setup(struct ring_loop *loop)
{
	const char *mode = getenv("IOSTRAT_URING_SLEEP");

	if (loop->run->params.workload->kind != WORKLOAD_SLEEP)
		return loop_tasks_init(&loop->tasks, loop->run, false);
	if (mode == NULL || mode[0] == '\0' || strcmp(mode, "heap") == 0) {
		loop->sleep_mode = SLEEP_HEAP;
	} else if (strcmp(mode, "per-task") == 0) {
		loop->sleep_mode = SLEEP_PER_TASK;
	} else {
		return run_fail(
		    loop->run, EINVAL,
		    "uring: IOSTRAT_URING_SLEEP=%s: expected heap or per-task",
		    mode);
	}
	loop->run->mode = sleep_mode_names[loop->sleep_mode];
	return loop_tasks_init(&loop->tasks, loop->run,
			       loop->sleep_mode == SLEEP_HEAP);
}

/* The deadline is absolute (IORING_TIMEOUT_ABS, CLOCK_MONOTONIC) and counted
 * from the task's recorded start, so time spent before the request is submitted
 * is not added to the sleep. */
static int start_sleep(struct ring_loop *loop, struct task *task)
{
	int64_t deadline_ns =
	    loop->run->start_ns + task->start_ns + task->delay_ns;

	if (loop->sleep_mode == SLEEP_HEAP)
		return loop_tasks_sleep(&loop->tasks, task, deadline_ns);
	struct io_uring_sqe *sqe = get_sqe(loop);
	if (sqe == NULL)
		return -1;
	io_uring_prep_timeout(sqe,
			      loop_ring_deadline(&loop->ring, sqe, deadline_ns),
			      0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, request_data(REQUEST_SLEEP, 0, task->id));
	return 0;
}

/* heap: one TIMEOUT armed at the earliest deadline. Only its completion ends a
 * sleep, and new sleeps start only after that completion has been handled, so a
 * TIMEOUT in flight is always for the earliest deadline: it never has to be
 * moved. */
static int arm_timer(struct ring_loop *loop)
{
	int64_t earliest_ns = loop_tasks_earliest_ns(&loop->tasks);

	if (loop->sleep_mode != SLEEP_HEAP || earliest_ns < 0 ||
	    loop->timer_armed_ns != 0)
		return 0;
	struct io_uring_sqe *sqe = get_sqe(loop);
	if (sqe == NULL)
		return -1;
	io_uring_prep_timeout(sqe,
			      loop_ring_deadline(&loop->ring, sqe, earliest_ns),
			      0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, request_data(REQUEST_TIMER, 0, 0));
	loop->timer_armed_ns = earliest_ns;
	return 0;
}

static void sleep_done(struct ring_loop *loop, struct task *task, int res)
{
	if (res == -ETIME || res == 0) {
		task->status = TASK_OK;
	} else if (res == -ECANCELED) {
		task->status = TASK_CANCELLED;
	} else {
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error),
			 "io_uring timeout: %s", strerror(-res));
	}
	finish_task(loop, task);
}

/* heap: the TIMEOUT completed (-ETIME when it expired): every task whose
 * deadline has passed is done. When it was cancelled (the run stops), the tasks
 * are left to cancel_in_flight(). */
static void on_timer(struct ring_loop *loop, int res)
{
	struct minheap *sleepers = &loop->tasks.sleepers;

	loop->timer_armed_ns = 0;
	if (res == -ECANCELED)
		return;
	if (res == -ETIME || res == 0) {
		loop_tasks_wake(&loop->tasks, run_now_ns(), TASK_OK);
		return;
	}
	while (sleepers->len >
	       0) { /* the timer itself failed: so do its sleepers */
		struct minheap_item due = minheap_pop(sleepers);
		sleep_done(loop, &loop->run->tasks[due.value], res);
	}
}

/* ---- http: libcurl's multi-socket API on POLL_ADD and TIMEOUT requests --- */

/* As on epoll (curl's docs/examples/ephiperfifo.c), libcurl says through
 * CURLMOPT_SOCKETFUNCTION which sockets to watch for what, and through
 * CURLMOPT_TIMERFUNCTION when to call it back; we report with
 * curl_multi_socket_action(). Here a watch is a one-shot IORING_OP_POLL_ADD,
 * put in again after each completion while libcurl still wants it (so it
 * behaves like level-triggered epoll), and libcurl's timeout is one
 * IORING_OP_TIMEOUT, moved with TIMEOUT_UPDATE when libcurl asks for another
 * time. The rest is shared with the other loops (loop_http.c): the multi
 * handle, its callbacks, the slots, the rounds, the draining. */

static unsigned poll_events(unsigned want)
{
	return ((want & LOOP_HTTP_IN) ? POLLIN : 0) |
	       ((want & LOOP_HTTP_OUT) ? POLLOUT : 0);
}

static int http_arm_poll(struct ring_loop *loop,
			 struct loop_http_socket *socket)
{
	struct io_uring_sqe *sqe = get_sqe(loop);

	if (sqe == NULL)
		return -1;
	io_uring_prep_poll_add(sqe, socket->fd, poll_events(socket->want));
	io_uring_sqe_set_data64(
	    sqe, request_data(REQUEST_POLL, socket->generation, socket->fd));
	socket->registered = poll_events(socket->want);
	return 0;
}

static int http_drop_poll(struct ring_loop *loop,
			  struct loop_http_socket *socket)
{
	struct io_uring_sqe *sqe = get_sqe(loop);

	if (sqe == NULL)
		return -1;
	io_uring_prep_poll_remove(
	    sqe, request_data(REQUEST_POLL, socket->generation, socket->fd));
	io_uring_sqe_set_data64(sqe,
				request_data(REQUEST_UNPOLL, 0, socket->fd));
	socket->registered = 0;
	socket->generation++;
	return 0;
}

/* Watch a socket for what libcurl waits on: a POLL_ADD for exactly that, the
 * one in flight taken back when it waits for something else. */
static int http_watch(void *arg, struct loop_http_socket *socket)
{
	struct ring_loop *loop = arg;
	unsigned want = poll_events(socket->want);

	if (loop->draining)
		return 0; /* nothing new goes in while the run stops */
	if (socket->registered != 0 && socket->registered != want &&
	    http_drop_poll(loop, socket) < 0)
		return -1;
	if (want != 0 && socket->registered == 0)
		return http_arm_poll(loop, socket);
	return 0;
}

/* libcurl's time is only noted here; http_sync_timer() puts it on the ring
 * before the loop waits. */
static int http_timer(void *arg, int64_t due_ns)
{
	struct ring_loop *loop = arg;

	loop->http_due_ns = due_ns;
	return 0;
}

static void http_finished(void *arg, struct task *task)
{
	finish_task(arg, task);
}

static const struct loop_http_backend http_backend = {
    .watch = http_watch,
    .timer = http_timer,
    .finished = http_finished,
};

/* The TIMEOUT in flight follows libcurl's latest wish: put in, or moved with
 * TIMEOUT_UPDATE. A wish to be called back never leaves it in flight: when it
 * fires, nothing is due. */
static int http_sync_timer(struct ring_loop *loop)
{
	if (loop->http == NULL || loop->http_due_ns < 0 ||
	    loop->http_due_ns == loop->http_armed_ns)
		return 0;
	struct io_uring_sqe *sqe = get_sqe(loop);
	if (sqe == NULL)
		return -1;
	struct __kernel_timespec *deadline =
	    loop_ring_deadline(&loop->ring, sqe, loop->http_due_ns);
	if (loop->http_armed_ns < 0) {
		io_uring_prep_timeout(sqe, deadline, 0, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe,
					request_data(REQUEST_CTIMER, 0, 0));
	} else {
		io_uring_prep_timeout_update(sqe, deadline,
					     request_data(REQUEST_CTIMER, 0, 0),
					     IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe,
					request_data(REQUEST_CUPDATE, 0, 0));
	}
	loop->http_armed_ns = loop->http_due_ns;
	return 0;
}

/* A POLL_ADD completed with the events seen (or -errno): libcurl acts on them,
 * and the socket is watched again if libcurl still waits on it and has not said
 * so itself meanwhile. */
static int on_poll(struct ring_loop *loop, uint64_t data, int res)
{
	curl_socket_t fd = (curl_socket_t)loop_ring_id(data);
	struct loop_http_socket *socket = loop_http_socket_find(loop->http, fd);
	unsigned events = 0;

	if (socket == NULL ||
	    loop_ring_generation(data) != (socket->generation & 0xffffffu))
		return 0; /* a watch taken back: libcurl has moved on */
	socket->registered = 0;
	if (loop->draining)
		return 0;
	if (res < 0)
		events = LOOP_HTTP_ERR;
	if (res > 0 && (res & POLLIN))
		events |= LOOP_HTTP_IN;
	if (res > 0 && (res & POLLOUT))
		events |= LOOP_HTTP_OUT;
	if (res > 0 && (res & (POLLERR | POLLHUP)))
		events |= LOOP_HTTP_ERR;
	if (loop_http_ready(loop->http, fd, events) < 0)
		return -1;
	if (socket->want != 0 && socket->registered == 0)
		return http_arm_poll(loop, socket);
	return 0;
}

/* libcurl's TIMEOUT completed: -ETIME when it fired. If libcurl has asked for a
 * later time since, nothing is due yet (http_sync_timer puts the new one in).
 */
static int on_curl_timer(struct ring_loop *loop, int res)
{
	loop->http_armed_ns = -1;
	if (res != -ETIME || loop->draining)
		return 0;
	if (loop->http_due_ns < 0 || loop->http_due_ns > run_now_ns())
		return 0;
	loop->http_due_ns = -1;
	return loop_http_timeout(loop->http);
}

/* A task is handed to libcurl by loop_http_start() (curl_multi_add_handle);
 * libcurl then asks for a zero timeout, which http_sync_timer puts on the ring
 * before the loop waits. */
static int http_setup(struct ring_loop *loop)
{
	loop->http_due_ns = -1;
	loop->http_armed_ns = -1;
	if (loop->run->params.workload->kind != WORKLOAD_HTTP)
		return 0;
	loop->http = loop_http_init(loop->run, &http_backend, loop);
	return loop->http != NULL ? 0 : -1;
}

/* After the drain, before the ring goes: while the multi handle closes its
 * connections, libcurl's socket callback finds the ring still there, and puts
 * nothing new in (draining). */
static void http_teardown(struct ring_loop *loop)
{
	loop->draining = true;
	loop_http_free(loop->http);
	loop->http = NULL;
}

#else /* built without liburing: the strategy is listed and says why */

static int uring_run(struct run *run)
{
	return run_fail(run, ENOTSUP, "uring: %s",
			LOOP_RING_UNAVAILABLE_NO_LIBRARY);
}

#endif

const struct strategy strategy_uring = {
    .name = "uring",
    .summary =
	"one thread, one io_uring: requests submitted, completions reaped",
    .flags = STRATEGY_ONE_THREAD,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .unavailable = loop_ring_unavailable,
    .run = uring_run,
};
