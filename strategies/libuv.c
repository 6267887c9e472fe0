/* libuv.c - the event loop under Node.js (libuv1), for what a real library adds
 * or costs against strategies/epoll.c. Sleeps are uv_timer_t, files are
 * uv_fs_open/read/close requests run by libuv's thread pool (--pool sets
 * UV_THREADPOOL_SIZE), HTTP is the loops' libcurl glue (loop_http) on uv_poll_t
 * and a uv_timer_t; Ctrl-C is a uv_poll_t on the run's stop eventfd. Teaches:
 * uv_loop_init, uv_run, uv_prepare_start, uv_timer_start, uv_fs_read,
 * uv_poll_start, uv_cancel, uv_close. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop_http.h"
#include "loop_tasks.h"
#include "../bench/core/strategy.h"

#define LIBUV_UNAVAILABLE_NO_LIBRARY                                           \
	"built without libuv (install libuv1-dev and rebuild)"

#if IOSTRAT_HAVE_LIBUV
#include <uv.h>

#include "../bench/workloads/file.h"

/* How sleeps wait (IOSTRAT_LIBUV_SLEEP), the mode the result records. */
enum sleep_mode {
	SLEEP_PER_TASK, /* a uv_timer_t per task, in libuv's own timer heap */
	SLEEP_HEAP, /* one uv_timer_t at the earliest deadline of a min-heap */
};

static const char *const sleep_mode_names[] = {
    [SLEEP_PER_TASK] = "per-task",
    [SLEEP_HEAP] = "heap",
};

struct sleep_slot;
struct file_slot;
struct http_uv;

/* The loop's state. libuv keeps its own: the epoll set, the timer heap, the
 * queue of the thread pool; uv.data points back here. */
struct libuv_loop {
	struct run *run;	 /* the run being carried out */
	uv_loop_t uv;		 /* libuv's loop; uv.data is this struct */
	uv_poll_t stop;		 /* run_stop_fd: Ctrl-C or SIGTERM */
	uv_prepare_t turn;	 /* before each wait: start tasks */
	bool stopping;		 /* shutdown has begun: nothing new */
	struct loop_tasks tasks; /* started, ended; heap: the sleepers */
	long slot_count;	 /* sleep, file: slots, one per --jobs */
	long *free_slots;	 /* sleep, file: free slot indexes, a stack */
	long free_count;	 /* entries in free_slots */
	enum sleep_mode sleep_mode; /* sleep: how it waits */
	struct sleep_slot *sleeps;  /* sleep per-task: a timer a slot */
	uv_timer_t sleep_timer;	    /* sleep heap: at the earliest deadline */
	int64_t sleep_armed_ns;	    /* the deadline it is armed for, 0: none */
	struct file_slot *files;    /* file: a request per slot */
	struct http_uv *uv_http;    /* http: the uv_poll_t's, libcurl's timer */
	struct loop_http *http;	    /* http: multi handle, transfer slots */
};

static struct libuv_loop *loop_of(const uv_handle_t *handle)
{
	return handle->loop->data;
}

static int loop_fail(struct libuv_loop *loop, int uv_err, const char *what)
{
	if (loop->run->harness_message[0] != '\0')
		return -1; /* the first failure is the one to tell */
	return run_fail(loop->run, -uv_err, "libuv: %s: %s", what,
			uv_strerror(uv_err));
}

static void loop_shutdown(struct libuv_loop *loop);

/* uv_close() for a handle that was made: every handle lives in zeroed memory
 * until its uv_*_init (type UV_UNKNOWN_HANDLE), so a run that broke down
 * half-way through its setup closes what it made, and only that. */
static void close_handle(void *handle)
{
	uv_handle_t *made = handle;

	if (made->type != UV_UNKNOWN_HANDLE && !uv_is_closing(made))
		uv_close(made, NULL);
}

static void finish_task(struct libuv_loop *loop, struct task *task)
{
	loop_tasks_finish(&loop->tasks, task);
}

static long slot_take(struct libuv_loop *loop)
{
	return loop->free_slots[--loop->free_count];
}

static void slot_give_back(struct libuv_loop *loop, long index)
{
	loop->free_slots[loop->free_count++] = index;
}

/* One slot per --jobs, of slot_bytes each, all free; NULL when out of memory
 * (nothing is left allocated then). */
static void *slots_alloc(struct libuv_loop *loop, size_t slot_bytes)
{
	long count = run_jobs(loop->run);
	void *slots = calloc((size_t)count, slot_bytes);

	loop->free_slots = calloc((size_t)count, sizeof(*loop->free_slots));
	if (slots == NULL || loop->free_slots == NULL) {
		free(slots);
		free(loop->free_slots);
		loop->free_slots = NULL;
		loop_fail(loop, UV_ENOMEM, "slots");
		return NULL;
	}
	loop->slot_count = count;
	for (long i = count - 1; i >= 0; i--)
		slot_give_back(loop, i); /* slot 0 on top */
	return slots;
}

/* ---- sleep: uv_timer_t, one per task or one for the earliest deadline ---- */

struct sleep_slot {
	uv_timer_t timer;  /* libuv's timer; timer.data is this slot */
	struct task *task; /* the task sleeping in it, NULL when free */
};

/* libuv's timers count whole milliseconds from the loop's cached time
 * (uv_now), which lags the clock. Given the deadline in milliseconds rounded
 * up, a timer fires when the loop's time has reached it, so never before the
 * deadline: at most a millisecond after it, more if the loop's clock is the
 * coarse one (CLOCK_MONOTONIC_COARSE, when its ticks are 1 ms or finer). */
static uint64_t timeout_ms_until(struct libuv_loop *loop, int64_t deadline_ns)
{
	uint64_t due_ms = (uint64_t)(deadline_ns + 999999) / 1000000u;
	uint64_t now_ms = uv_now(&loop->uv);

	return due_ms > now_ms ? due_ms - now_ms : 0;
}

/* IOSTRAT_LIBUV_SLEEP=per-task (the default) or heap. */
static int sleep_mode_choose(struct libuv_loop *loop)
{
	const char *mode = getenv("IOSTRAT_LIBUV_SLEEP");

	if (loop->run->params.workload->kind != WORKLOAD_SLEEP)
		return 0;
	if (mode == NULL || mode[0] == '\0' || strcmp(mode, "per-task") == 0) {
		loop->sleep_mode = SLEEP_PER_TASK;
	} else if (strcmp(mode, "heap") == 0) {
		loop->sleep_mode = SLEEP_HEAP;
	} else {
		return run_fail(loop->run, EINVAL,
				"libuv: IOSTRAT_LIBUV_SLEEP=%s: expected "
				"per-task or heap",
				mode);
	}
	loop->run->mode = sleep_mode_names[loop->sleep_mode];
	return 0;
}

static int sleep_setup(struct libuv_loop *loop)
{
	if (loop->run->params.workload->kind != WORKLOAD_SLEEP)
		return 0;
	if (loop->sleep_mode == SLEEP_HEAP) {
		/* the sleepers' heap is the one epoll and uring keep
		 * (loop_tasks), as Node.js keeps its timers in lists of its
		 * own behind one uv_timer_t */
		uv_timer_init(&loop->uv, &loop->sleep_timer);
		return 0;
	}
	loop->sleeps = slots_alloc(loop, sizeof(*loop->sleeps));
	if (loop->sleeps == NULL)
		return -1;
	for (long i = 0; i < loop->slot_count; i++) {
		uv_timer_init(&loop->uv, &loop->sleeps[i].timer);
		loop->sleeps[i].timer.data = &loop->sleeps[i];
	}
	return 0;
}

static void on_sleep_done(uv_timer_t *timer)
{
	struct libuv_loop *loop = loop_of((uv_handle_t *)timer);
	struct sleep_slot *slot = timer->data;
	struct task *task = slot->task;

	slot->task = NULL;
	slot_give_back(loop, slot - loop->sleeps);
	task->status = TASK_OK;
	finish_task(loop, task);
}

static void on_sleep_timer(uv_timer_t *timer)
{
	struct libuv_loop *loop = loop_of((uv_handle_t *)timer);

	loop->sleep_armed_ns = 0;
	loop_tasks_wake(&loop->tasks, run_now_ns(), TASK_OK);
}

/* heap: after a turn's starts, the timer follows the earliest deadline. */
static int sleep_timer_arm(struct libuv_loop *loop)
{
	int64_t earliest_ns = loop_tasks_earliest_ns(&loop->tasks);

	if (loop->sleep_mode != SLEEP_HEAP || earliest_ns < 0 ||
	    earliest_ns == loop->sleep_armed_ns)
		return 0;
	int err = uv_timer_start(&loop->sleep_timer, on_sleep_timer,
				 timeout_ms_until(loop, earliest_ns), 0);
	if (err < 0)
		return loop_fail(loop, err, "uv_timer_start");
	loop->sleep_armed_ns = earliest_ns;
	return 0;
}

/* The deadline counts from the task's recorded start. */
static int start_sleep(struct libuv_loop *loop, struct task *task)
{
	int64_t deadline_ns =
	    loop->run->start_ns + task->start_ns + task->delay_ns;

	if (loop->sleep_mode == SLEEP_HEAP)
		return loop_tasks_sleep(&loop->tasks, task, deadline_ns);
	struct sleep_slot *slot = &loop->sleeps[slot_take(loop)];
	slot->task = task;
	int err = uv_timer_start(&slot->timer, on_sleep_done,
				 timeout_ms_until(loop, deadline_ns), 0);
	return err < 0 ? loop_fail(loop, err, "uv_timer_start") : 0;
}

static void sleep_cancel(struct libuv_loop *loop)
{
	for (long i = 0; loop->sleeps != NULL && i < loop->slot_count; i++) {
		struct sleep_slot *slot = &loop->sleeps[i];
		if (slot->task != NULL) {
			uv_timer_stop(&slot->timer);
			slot->task->status = TASK_CANCELLED;
			finish_task(loop, slot->task);
			slot->task = NULL;
		}
		close_handle(&slot->timer);
	}
	loop_tasks_cancel_sleepers(&loop->tasks);
	close_handle(&loop->sleep_timer);
}

/* ---- file: uv_fs_* requests, carried out by libuv's thread pool ---------- */

/* libuv has no readiness for a regular file either: every uv_fs_* call with a
 * callback is queued to its thread pool (UV_THREADPOOL_SIZE threads, started
 * on the first request), which makes the blocking call and wakes the loop
 * through an eventfd. Each task keeps one request in flight (the open, a read
 * of --block bytes, the close), the next one queued from the callback of the
 * last, and checks every block in the loop thread through the workload's
 * file_ops, as uring does. With --inline the same calls are made without a
 * callback: libuv then makes them in the loop thread, which blocks. */

struct file_slot {
	uv_fs_t req;	   /* the request in flight; req.data is this slot */
	struct task *task; /* the task reading through it, NULL when free */
	uv_file fd;	   /* its file, -1 until it is open */
	uint64_t offset;   /* where the read in flight starts */
	uv_buf_t buf;	   /* --block bytes, read into by a pool thread */
	bool busy;	   /* a request is in flight: uv_cancel may stop it */
};

/* libuv sizes its pool once, from UV_THREADPOOL_SIZE, when the first request
 * comes: --pool sets it (the default, 4, is libuv's own). */
static void file_size_pool(struct libuv_loop *loop)
{
	const char *given = getenv("UV_THREADPOOL_SIZE");
	char size[24];

	snprintf(size, sizeof(size), "%ld", loop->run->params.pool_threads);
	if (given != NULL && strcmp(given, size) != 0)
		fprintf(stderr,
			"iostrat: libuv: UV_THREADPOOL_SIZE=%s from the "
			"environment replaced by --pool %s\n",
			given, size);
	setenv("UV_THREADPOOL_SIZE", size, 1);
}

static int file_setup(struct libuv_loop *loop)
{
	struct run *run = loop->run;

	if (run->params.workload->kind != WORKLOAD_FILE)
		return 0;
	loop->files = slots_alloc(loop, sizeof(*loop->files));
	if (loop->files == NULL)
		return -1;
	for (long i = 0; i < loop->slot_count; i++) {
		struct file_slot *slot = &loop->files[i];
		slot->fd = -1;
		slot->req.data = slot;
		slot->buf.len = (size_t)run->params.block_bytes;
		slot->buf.base = malloc(slot->buf.len);
		if (slot->buf.base == NULL)
			return loop_fail(loop, UV_ENOMEM, "file buffers");
	}
	run->mode = run->params.inline_reads ? "inline" : "pool";
	if (!run->params.inline_reads)
		file_size_pool(loop);
	return 0;
}

static void file_error(struct libuv_loop *loop, struct task *task,
		       const char *what, ssize_t result)
{
	char name[FILE_NAME_LEN];

	loop->run->params.workload->file->name(task->id, name, sizeof(name));
	task->status = TASK_ERROR;
	snprintf(task->error, sizeof(task->error), "%s: %s: %s", name, what,
		 strerror((int)-result));
}

/* What a read that returned result (bytes, 0 at the end, or a libuv error)
 * means for the task: true when the block was checked and it reads on, false
 * when the task is over (its status says how). */
static bool file_take_block(struct libuv_loop *loop, struct file_slot *slot,
			    ssize_t result)
{
	const struct file_ops *ops = loop->run->params.workload->file;
	struct task *task = slot->task;
	char what[48];

	if (result == UV_ECANCELED || loop->stopping || run_stopping()) {
		task->status = TASK_CANCELLED;
		return false;
	}
	if (result < 0) {
		snprintf(what, sizeof(what), "read at offset %llu",
			 (unsigned long long)slot->offset);
		file_error(loop, task, what, result);
		return false;
	}
	if (result == 0) {
		if (ops->check_end(loop->run, task, slot->offset) == 0)
			task->status = TASK_OK;
		return false;
	}
	if (ops->check(loop->run, task, slot->offset, slot->buf.base,
		       (size_t)result) < 0)
		return false;
	slot->offset += (uint64_t)result;
	task->bytes = slot->offset;
	return true;
}

static void file_release(struct libuv_loop *loop, struct file_slot *slot)
{
	struct task *task = slot->task;

	slot->task = NULL;
	slot->fd = -1;
	slot_give_back(loop, slot - loop->files);
	finish_task(loop, task);
}

static void on_file_close(uv_fs_t *req)
{
	struct libuv_loop *loop = req->loop->data;
	struct file_slot *slot = req->data;
	ssize_t result = req->result;

	uv_fs_req_cleanup(req);
	slot->busy = false;
	if (result < 0 && slot->task->status == TASK_OK)
		file_error(loop, slot->task, "close", result);
	file_release(loop, slot);
}

/* The task is over: its file is closed by the pool, as it was opened, and the
 * task finishes when that is done. When the run stops, the loop closes it
 * itself (a close without callback is made at once, in the calling thread). */
static int file_close(struct libuv_loop *loop, struct file_slot *slot)
{
	if (slot->fd >= 0 && !loop->stopping) {
		int err =
		    uv_fs_close(&loop->uv, &slot->req, slot->fd, on_file_close);
		if (err < 0)
			return loop_fail(loop, err, "uv_fs_close");
		slot->busy = true;
		return 0;
	}
	if (slot->fd >= 0) {
		uv_fs_close(&loop->uv, &slot->req, slot->fd, NULL);
		uv_fs_req_cleanup(&slot->req);
	}
	file_release(loop, slot);
	return 0;
}

static void on_file_read(uv_fs_t *req);

static int file_read_next(struct libuv_loop *loop, struct file_slot *slot)
{
	int err = uv_fs_read(&loop->uv, &slot->req, slot->fd, &slot->buf, 1,
			     (int64_t)slot->offset, on_file_read);
	if (err < 0)
		return loop_fail(loop, err, "uv_fs_read");
	slot->busy = true;
	return 0;
}

static void on_file_read(uv_fs_t *req)
{
	struct libuv_loop *loop = req->loop->data;
	struct file_slot *slot = req->data;
	ssize_t result = req->result;
	int err;

	uv_fs_req_cleanup(req);
	slot->busy = false;
	if (file_take_block(loop, slot, result))
		err = file_read_next(loop, slot);
	else
		err = file_close(loop, slot);
	if (err < 0)
		loop_shutdown(loop);
}

static void on_file_open(uv_fs_t *req)
{
	struct libuv_loop *loop = req->loop->data;
	struct file_slot *slot = req->data;
	ssize_t result = req->result;
	int err;

	uv_fs_req_cleanup(req);
	slot->busy = false;
	if (result >= 0)
		slot->fd = (uv_file)result;
	if (result == UV_ECANCELED || loop->stopping) {
		slot->task->status = TASK_CANCELLED;
		err = file_close(loop, slot);
	} else if (result < 0) {
		file_error(loop, slot->task, "open", result);
		err = file_close(loop, slot);
	} else {
		err = file_read_next(loop, slot);
	}
	if (err < 0)
		loop_shutdown(loop);
}

/* --inline: the same calls without a callback, made by the loop thread. */
static void file_read_inline(struct libuv_loop *loop, struct file_slot *slot)
{
	char path[PATH_MAX];
	ssize_t result;

	loop->run->params.workload->file->path(slot->task->id, path,
					       sizeof(path));
	result = uv_fs_open(&loop->uv, &slot->req, path, O_RDONLY | O_CLOEXEC,
			    0, NULL);
	uv_fs_req_cleanup(&slot->req);
	if (result < 0) {
		file_error(loop, slot->task, "open", result);
		file_release(loop, slot);
		return;
	}
	slot->fd = (uv_file)result;
	do {
		result = uv_fs_read(&loop->uv, &slot->req, slot->fd, &slot->buf,
				    1, (int64_t)slot->offset, NULL);
		uv_fs_req_cleanup(&slot->req);
	} while (file_take_block(loop, slot, result));
	result = uv_fs_close(&loop->uv, &slot->req, slot->fd, NULL);
	uv_fs_req_cleanup(&slot->req);
	if (result < 0 && slot->task->status == TASK_OK)
		file_error(loop, slot->task, "close", result);
	file_release(loop, slot);
}

static int start_file(struct libuv_loop *loop, struct task *task)
{
	struct file_slot *slot = &loop->files[slot_take(loop)];
	char path[PATH_MAX];

	slot->task = task;
	slot->fd = -1;
	slot->offset = 0;
	if (loop->run->params.inline_reads) {
		file_read_inline(loop, slot);
		return 0;
	}
	loop->run->params.workload->file->path(task->id, path, sizeof(path));
	int err = uv_fs_open(&loop->uv, &slot->req, path, O_RDONLY | O_CLOEXEC,
			     0, on_file_open); /* libuv copies the path */
	if (err < 0)
		return loop_fail(loop, err, "uv_fs_open");
	slot->busy = true;
	/* the first request started the pool (and waited for its threads) */
	if (task->id == 0)
		run_sample_threads(loop->run, true);
	return 0;
}

/* The run stops: requests still queued for the pool are taken back (their
 * callbacks come with UV_ECANCELED); those a pool thread is making already
 * cannot be, and end as usual, their callbacks seeing the loop stop. */
static void file_cancel(struct libuv_loop *loop)
{
	for (long i = 0; loop->files != NULL && i < loop->slot_count; i++) {
		if (loop->files[i].busy)
			uv_cancel((uv_req_t *)&loop->files[i].req);
	}
}

static void file_teardown(struct libuv_loop *loop)
{
	for (long i = 0; loop->files != NULL && i < loop->slot_count; i++)
		free(loop->files[i].buf.base);
	free(loop->files);
	loop->files = NULL;
}

/* ---- http: libcurl's multi-socket API on uv_poll_t and a uv_timer_t ------ */

/* As under epoll, libcurl says which sockets to watch for what and when to
 * call it back; strategies/loop_http.c turns that into two calls of the loop,
 * "watch this socket" and "call me back then", and this loop answers them
 * with a uv_poll_t and a uv_timer_t, as curl's docs/examples/multi-uv.c does.
 * The multi handle, its easy handles (one per --jobs slot), the rounds and the
 * draining are loop_http's, shared with epoll, poll and uring. */

/* The uv_poll_t of a descriptor number, made on the number's first watch and
 * kept until the end of the run: stopped when libcurl lets the socket go
 * (before it closes it), started again for the next socket of that number. So
 * no handle is made or closed per connection, and none is freed before libuv
 * has closed it. */
struct http_poll {
	uv_poll_t poll;		 /* poll.data is this record */
	curl_socket_t fd;	 /* the descriptor number */
	struct http_poll *older; /* the record made before: all are closed */
};

struct http_uv {
	uv_timer_t timer;	  /* libcurl's timeout, and --timeout's */
	struct http_poll **polls; /* by descriptor number, NULL: none yet */
	size_t polls_len;	  /* entries in polls */
	struct http_poll *newest; /* the last record made */
};

static void on_http_poll(uv_poll_t *poll, int status, int events)
{
	struct libuv_loop *loop = loop_of((uv_handle_t *)poll);
	struct http_poll *record = poll->data;
	unsigned seen = 0;

	if (status < 0)
		seen |= LOOP_HTTP_ERR;
	if (events & UV_READABLE)
		seen |= LOOP_HTTP_IN;
	if (events & UV_WRITABLE)
		seen |= LOOP_HTTP_OUT;
	if (loop_http_ready(loop->http, record->fd, seen) < 0)
		loop_shutdown(loop);
}

static void on_http_timer(uv_timer_t *timer)
{
	struct libuv_loop *loop = loop_of((uv_handle_t *)timer);

	if (loop_http_timeout(loop->http) < 0)
		loop_shutdown(loop);
}

/* The record of fd, made (with its uv_poll_t) on first use; NULL after
 * loop_fail(). */
static struct http_poll *http_poll_of(struct libuv_loop *loop, curl_socket_t fd)
{
	struct http_uv *http = loop->uv_http;
	size_t index = (size_t)fd;

	if (index >= http->polls_len) {
		size_t len = http->polls_len > 0 ? http->polls_len * 2 : 64;
		while (len <= index)
			len *= 2;
		struct http_poll **grown =
		    realloc(http->polls, len * sizeof(*grown));
		if (grown == NULL)
			goto out_no_memory;
		memset(grown + http->polls_len, 0,
		       (len - http->polls_len) * sizeof(*grown));
		http->polls = grown;
		http->polls_len = len;
	}
	if (http->polls[index] != NULL)
		return http->polls[index];
	struct http_poll *record = calloc(1, sizeof(*record));
	if (record == NULL)
		goto out_no_memory;
	int err = uv_poll_init_socket(&loop->uv, &record->poll, fd);
	if (err < 0) {
		free(record);
		loop_fail(loop, err, "uv_poll_init_socket");
		return NULL;
	}
	record->poll.data = record;
	record->fd = fd;
	record->older = http->newest;
	http->newest = record;
	http->polls[index] = record;
	return record;
out_no_memory:
	loop_fail(loop, UV_ENOMEM, "the sockets' uv_poll_t");
	return NULL;
}

/* loop_http's watch: libcurl waits for socket->want on it (0: nothing). */
static int http_watch(void *arg, struct loop_http_socket *socket)
{
	struct libuv_loop *loop = arg;
	struct http_poll *record;
	int events = 0;

	if (socket->want == 0) {
		record = (size_t)socket->fd < loop->uv_http->polls_len
			     ? loop->uv_http->polls[socket->fd]
			     : NULL;
		if (record != NULL &&
		    !uv_is_closing((uv_handle_t *)&record->poll))
			uv_poll_stop(&record->poll);
		socket->registered = 0;
		return 0;
	}
	if (loop->stopping)
		return 0; /* nothing new is watched while the run stops */
	record = http_poll_of(loop, socket->fd);
	if (record == NULL)
		return -1;
	if (socket->want & LOOP_HTTP_IN)
		events |= UV_READABLE;
	if (socket->want & LOOP_HTTP_OUT)
		events |= UV_WRITABLE;
	int err = uv_poll_start(&record->poll, events, on_http_poll);
	if (err < 0)
		return loop_fail(loop, err, "uv_poll_start");
	socket->registered = socket->want;
	return 0;
}

/* loop_http's timer: call loop_http_timeout() at due_ns (-1: never). */
static int http_timer(void *arg, int64_t due_ns)
{
	struct libuv_loop *loop = arg;
	uv_timer_t *timer = &loop->uv_http->timer;

	if (loop->stopping)
		return 0;
	if (due_ns < 0)
		return uv_timer_stop(timer);
	int err = uv_timer_start(timer, on_http_timer,
				 timeout_ms_until(loop, due_ns), 0);
	return err < 0 ? loop_fail(loop, err, "uv_timer_start") : 0;
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

static int http_setup(struct libuv_loop *loop)
{
	if (loop->run->params.workload->kind != WORKLOAD_HTTP)
		return 0;
	loop->uv_http = calloc(1, sizeof(*loop->uv_http));
	if (loop->uv_http == NULL)
		return loop_fail(loop, UV_ENOMEM, "http state");
	uv_timer_init(&loop->uv, &loop->uv_http->timer);
	loop->http = loop_http_init(loop->run, &http_backend, loop);
	return loop->http == NULL ? -1 : 0;
}

/* The run stops: transfers in flight end cancelled, libuv closes the handles
 * (the records stay until http_teardown, after uv_run has closed them). */
static void http_cancel(struct libuv_loop *loop)
{
	struct http_uv *http = loop->uv_http;

	if (http == NULL)
		return;
	loop_http_cancel(loop->http);
	for (struct http_poll *record = http->newest; record != NULL;
	     record = record->older)
		close_handle(&record->poll);
	close_handle(&http->timer);
}

/* After uv_run: the multi handle closes its connections (the watch finds the
 * handles closed, the timer the loop stopping), then the records go. */
static void http_teardown(struct libuv_loop *loop)
{
	struct http_uv *http = loop->uv_http;

	loop_http_free(loop->http);
	loop->http = NULL;
	if (http == NULL)
		return;
	while (http->newest != NULL) {
		struct http_poll *older = http->newest->older;
		free(http->newest);
		http->newest = older;
	}
	free(http->polls);
	free(http);
	loop->uv_http = NULL;
}

/* ---- the loop ------------------------------------------------------------ */

static int start_task(struct libuv_loop *loop, struct task *task)
{
	switch (loop->run->params.workload->kind) {
	case WORKLOAD_SLEEP:
		return start_sleep(loop, task);
	case WORKLOAD_FILE:
		return start_file(loop, task);
	case WORKLOAD_HTTP:
		loop_http_start(loop->http, task);
		return 0;
	}
	return loop_fail(loop, UV_ENOTSUP, loop->run->params.workload->name);
}

/* uv_prepare_t: run by libuv once per turn of its loop, before it waits. The
 * run ends here when every task is done; otherwise tasks start until --jobs
 * are in flight (http: so many per turn, see loop_http.h). */
static void on_turn(uv_prepare_t *turn)
{
	struct libuv_loop *loop = loop_of((uv_handle_t *)turn);
	struct run *run = loop->run;

	run_sample_threads(run, false);
	if (loop_tasks_all_done(&loop->tasks) || run_stopping()) {
		loop_shutdown(loop);
		return;
	}
	loop_http_round_begin(loop->http);
	for (struct task *task = loop_tasks_next(&loop->tasks, loop->http);
	     task != NULL; task = loop_tasks_next(&loop->tasks, loop->http)) {
		if (start_task(loop, task) < 0) {
			loop_shutdown(loop);
			return;
		}
	}
	/* libuv computes how long to wait from the time it cached when the turn
	 * began: the time the starts took would be added to every timeout. */
	uv_update_time(&loop->uv);
	if (loop_tasks_all_done(&loop->tasks) || sleep_timer_arm(loop) < 0)
		loop_shutdown(loop); /* --inline: read in the loop above */
}

static void on_stop(uv_poll_t *stop, int status, int events)
{
	(void)status;
	(void)events;
	loop_shutdown(loop_of((uv_handle_t *)stop));
}

/* Every task done, Ctrl-C, or a failure: what is in flight is cancelled, and
 * every handle closed; uv_run() returns once the closes are done and the pool
 * has handed back every request. */
static void loop_shutdown(struct libuv_loop *loop)
{
	if (loop->stopping)
		return;
	loop->stopping = true;
	sleep_cancel(loop);
	file_cancel(loop);
	http_cancel(loop);
	close_handle(&loop->stop);
	close_handle(&loop->turn);
}

static int loop_setup(struct libuv_loop *loop)
{
	int err;

	uv_prepare_init(&loop->uv, &loop->turn);
	uv_prepare_start(&loop->turn, on_turn);
	err = uv_poll_init(&loop->uv, &loop->stop, run_stop_fd);
	if (err == 0)
		err = uv_poll_start(&loop->stop, UV_READABLE, on_stop);
	if (err < 0)
		return loop_fail(loop, err, "a uv_poll_t on the stop eventfd");
	if (sleep_setup(loop) < 0 || file_setup(loop) < 0 ||
	    http_setup(loop) < 0)
		return -1;
	return 0;
}

static const char *libuv_unavailable(void)
{
	return NULL; /* libuv needs nothing of the kernel beyond epoll */
}

static int libuv_run(struct run *run)
{
	struct libuv_loop loop = {.run = run};
	bool sleeps = run->params.workload->kind == WORKLOAD_SLEEP;

	if (sleep_mode_choose(&loop) < 0)
		goto out_cancel_pending;
	if (loop_tasks_init(&loop.tasks, run,
			    sleeps && loop.sleep_mode == SLEEP_HEAP) < 0)
		goto out_cancel_pending;
	int err = uv_loop_init(&loop.uv);
	if (err < 0) {
		loop_fail(&loop, err, "uv_loop_init");
		goto out_free_tasks;
	}
	loop.uv.data = &loop;
	if (loop_setup(&loop) < 0)
		loop_shutdown(&loop);
	uv_run(&loop.uv, UV_RUN_DEFAULT);
	for (long i = 0;
	     loop.tasks.done < loop.tasks.next && i < loop.tasks.next; i++) {
		struct task *task = &run->tasks[i];
		if (task->status == TASK_RUNNING) { /* a failure cut it short */
			task->status = TASK_CANCELLED;
			finish_task(&loop, task);
		}
	}
	http_teardown(&loop);
	err = uv_loop_close(&loop.uv);
	if (err < 0)
		loop_fail(&loop, err, "uv_loop_close");
	file_teardown(&loop);
	free(loop.sleeps);
	free(loop.free_slots);
out_free_tasks:
	loop_tasks_free(&loop.tasks);
out_cancel_pending:
	run_cancel_pending(run);
	return run->harness_message[0] != '\0' ? -1 : 0;
}

#else /* built without libuv: listed, and says why it cannot run */

static const char *libuv_unavailable(void)
{
	return LIBUV_UNAVAILABLE_NO_LIBRARY;
}

static int libuv_run(struct run *run)
{
	return run_fail(run, ENOTSUP, "libuv: %s",
			LIBUV_UNAVAILABLE_NO_LIBRARY);
}

#endif

const struct strategy strategy_libuv = {
    .name = "libuv",
    .summary = "libuv's event loop (Node.js's): uv_timer_t, uv_fs_* on its "
	       "thread pool, uv_poll_t under libcurl",
    .flags = STRATEGY_ONE_THREAD | STRATEGY_FILE_POOL,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .unavailable = libuv_unavailable,
    .run = libuv_run,
};
