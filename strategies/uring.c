/* uring.c - one thread, one io_uring: work goes in as requests, the kernel
 * completes them. Sleeps are IORING_OP_TIMEOUTs with absolute deadlines (one
 * for the earliest deadline of a min-heap, or one per task:
 * IOSTRAT_URING_SLEEP=per-task); files are IORING_OP_READs, even though epoll
 * cannot wait on them; HTTP is libcurl's multi-socket API on
 * IORING_OP_POLL_ADD. The run's stop eventfd is watched by a POLL_ADD on the
 * same ring, so Ctrl-C ends the wait at once. Teaches:
 * io_uring_queue_init_params, io_uring_get_sqe,
 * io_uring_prep_timeout/read/poll_add/cancel64, io_uring_submit_and_wait,
 * io_uring_for_each_cqe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/core/strategy.h"
#include "../bench/workloads/file.h"
#include "loop_http.h"
#include "loop_tasks.h"

#define URING_UNAVAILABLE_NO_LIBRARY                                           \
	"built without liburing (install liburing-dev and rebuild)"

#if IOSTRAT_HAVE_LIBURING
#include <liburing.h>

#define RING_SQ_MAX                                                            \
	4096 /* most submission queue entries: beyond that, submit in batches  \
	      */
#define RING_CQ_MAX                                                            \
	65536 /* the kernel's largest completion queue (IORING_MAX_CQ_ENTRIES) \
	       */

/* What a request is about: the top byte of its user_data. Below it, 24 bits of
 * generation (http: which watch of a socket a poll belongs to) and 32 bits of
 * id (a task, a file slot, a socket). */
enum request_kind {
	REQUEST_STOP = 1, /* POLL_ADD on run_stop_fd: Ctrl-C or SIGTERM */
	REQUEST_SLEEP,	  /* TIMEOUT: one task's sleep (per-task) */
	REQUEST_TIMER, /* TIMEOUT: the earliest deadline of the heap (heap) */
	REQUEST_READ, /* READ: the next block of a file; the id is the file slot
		       */
	REQUEST_POLL, /* POLL_ADD: a socket libcurl asked us to watch; the id is
			 the socket */
	REQUEST_UNPOLL,	 /* POLL_REMOVE: libcurl no longer wants that watch */
	REQUEST_CTIMER,	 /* TIMEOUT: libcurl's timeout */
	REQUEST_CUPDATE, /* TIMEOUT_UPDATE: libcurl moved its timeout */
	REQUEST_CANCEL,	 /* ASYNC_CANCEL of everything in flight, when the run
			    stops */
};

/* How sleeps wait: the mode the result document records. */
enum sleep_mode {
	SLEEP_HEAP,	/* deadlines in a min-heap, one TIMEOUT armed at the
			   earliest */
	SLEEP_PER_TASK, /* one TIMEOUT per task: the kernel keeps a timer for
			   each */
};

static const char *const sleep_mode_names[] = {
    [SLEEP_HEAP] = "heap",
    [SLEEP_PER_TASK] = "per-task",
};

/* The loop's state. deadlines has one slot per SQE: what a TIMEOUT points at
 * until it is submitted (the kernel copies the timespec then). */
struct ring_loop {
	struct run *run;      /* the run being carried out */
	struct io_uring ring; /* submission and completion queues */
	struct __kernel_timespec *deadlines; /* by SQE index, see above */
	long in_kernel;	     /* requests submitted, completion not yet seen */
	bool stop_armed;     /* the POLL_ADD on run_stop_fd is in flight */
	bool cancel_refused; /* the kernel cannot cancel everything at once */
	bool draining;	     /* the run stops: no new request goes in */
	enum sleep_mode sleep_mode; /* how sleeps wait */
	struct loop_tasks tasks;    /* starting, ending, the sleepers' heap */
	int64_t timer_armed_ns;	 /* heap: the deadline the TIMEOUT waits for, 0:
				    none */
	struct file_ring *files; /* file: the slots reads go through */
	struct loop_http *http;	 /* http: libcurl's multi handle and slots */
	int64_t http_due_ns; /* http: when libcurl wants a call, -1: never */
	int64_t
	    http_armed_ns; /* http: the deadline of its TIMEOUT in flight, -1 */
};

static uint64_t request_data(enum request_kind kind, uint32_t generation,
			     long id)
{
	return (uint64_t)kind << 56 | (uint64_t)(generation & 0xffffffu) << 32 |
	       (uint32_t)id;
}

static enum request_kind request_kind_of(uint64_t data)
{
	return (enum request_kind)(data >> 56);
}

static uint32_t request_generation_of(uint64_t data)
{
	return (uint32_t)(data >> 32) & 0xffffffu;
}

static long request_id_of(uint64_t data)
{
	return (long)(data & 0xffffffffu);
}

/* ---- availability: probed once
 * ---------------------------------------------------------- */

/* Why io_uring_setup() failed with err, as a sentence. */
static const char *setup_error_reason(int err, char *why, size_t len)
{
	char disabled[16] = "";
	int fd;

	switch (err) {
	case ENOSYS:
		snprintf(why, len,
			 "this kernel has no io_uring (io_uring_setup: %s)",
			 strerror(err));
		break;
	case EPERM:
		fd = open("/proc/sys/kernel/io_uring_disabled",
			  O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t got = read(fd, disabled, sizeof(disabled) - 1);
			disabled[got > 0 ? got : 0] = '\0';
			disabled[strcspn(disabled, "\n")] = '\0';
			close(fd);
		}
		if (disabled[0] != '\0' && strcmp(disabled, "0") != 0)
			snprintf(why, len,
				 "io_uring is disabled by the sysctl "
				 "kernel.io_uring_disabled=%s "
				 "(io_uring_setup: %s)",
				 disabled, strerror(err));
		else
			snprintf(why, len,
				 "io_uring_setup is refused here (%s): a "
				 "container or seccomp "
				 "filter blocks it",
				 strerror(err));
		break;
	default:
		snprintf(why, len, "io_uring_setup: %s", strerror(err));
		break;
	}
	return why;
}

/* The test hook: IOSTRAT_URING_DISABLE=1 makes the strategy unavailable;
 * =ENOSYS or =EPERM makes the probe behave as if io_uring_setup() had failed
 * with that error. 0 if unset. */
static int probe_test_hook(void)
{
	const char *hook = getenv("IOSTRAT_URING_DISABLE");

	if (hook == NULL || hook[0] == '\0' || strcmp(hook, "0") == 0)
		return 0;
	if (strcmp(hook, "ENOSYS") == 0)
		return ENOSYS;
	if (strcmp(hook, "EPERM") == 0)
		return EPERM;
	return -1;
}

static const char *probe_kernel(void)
{
	static const struct {
		int opcode;
		const char *name;
	} needed[] = {
	    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
	    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"},
	    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
	    {IORING_OP_READ, "IORING_OP_READ"},
	};
	static char why[200];
	struct io_uring ring;
	const char *reason = NULL;

	int hook = probe_test_hook();
	if (hook < 0)
		return "disabled by IOSTRAT_URING_DISABLE (a test hook)";
	if (hook > 0)
		return setup_error_reason(hook, why, sizeof(why));
	int err = io_uring_queue_init(2, &ring, 0);
	if (err < 0)
		return setup_error_reason(-err, why, sizeof(why));
	struct io_uring_probe *probe = io_uring_get_probe_ring(&ring);
	if (probe == NULL) {
		reason = "this kernel's io_uring cannot say which operations "
			 "it has (Linux 5.6 or "
			 "later is needed)";
		goto out_exit;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!io_uring_opcode_supported(probe, needed[i].opcode)) {
			snprintf(why, sizeof(why),
				 "this kernel's io_uring lacks %s",
				 needed[i].name);
			reason = why;
			break;
		}
	}
	io_uring_free_probe(probe);
out_exit:
	io_uring_queue_exit(&ring);
	return reason;
}

static const char *uring_unavailable(void)
{
	static bool probed;
	static const char *reason;

	if (!probed) {
		reason = probe_kernel();
		probed = true;
	}
	return reason;
}

/* ---- the ring: getting SQEs, submitting, counting what is in flight
 * -------------------- */

static int loop_fail(struct ring_loop *loop, int err, const char *what)
{
	return run_fail(loop->run, err, "uring: %s: %s", what, strerror(err));
}

/* Submit what is queued; count it as in flight and note the deepest queue
 * reached (requests in the kernel for tasks: the stop poll is not a task). */
static int submit(struct ring_loop *loop, unsigned wait_nr)
{
	int submitted = io_uring_submit_and_wait(&loop->ring, wait_nr);
	if (submitted < 0) {
		if (submitted == -EINTR)
			return 0; /* a signal: the caller looks at
				     run_stopping() */
		return loop_fail(loop, -submitted, "io_uring_submit");
	}
	loop->in_kernel += submitted;
	long depth = loop->in_kernel - (loop->stop_armed ? 1 : 0);
	if (depth > loop->run->queue_depth_peak)
		loop->run->queue_depth_peak = depth;
	return 0;
}

/* A free SQE; when the submission queue is full, what is in it is submitted
 * first. */
static struct io_uring_sqe *get_sqe(struct ring_loop *loop)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);
	if (sqe == NULL) {
		if (submit(loop, 0) < 0)
			return NULL;
		sqe = io_uring_get_sqe(&loop->ring);
		if (sqe == NULL)
			loop_fail(
			    loop, EBUSY,
			    "no free submission queue entry after submitting");
	}
	return sqe;
}

static int arm_stop(struct ring_loop *loop)
{
	struct io_uring_sqe *sqe = get_sqe(loop);
	if (sqe == NULL)
		return -1;
	io_uring_prep_poll_add(sqe, run_stop_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, request_data(REQUEST_STOP, 0, 0));
	loop->stop_armed = true;
	return 0;
}

static void finish_task(struct ring_loop *loop, struct task *task)
{
	loop_tasks_finish(&loop->tasks, task);
}

/* ---- sleep: IORING_OP_TIMEOUT
 * ------------------------------------------------------------ */

/* The deadline slot that belongs to an SQE: the kernel reads the timespec when
 * the SQE is submitted, so it must stay put until then, and no longer. */
static struct __kernel_timespec *deadline_for(struct ring_loop *loop,
					      const struct io_uring_sqe *sqe,
					      int64_t deadline_ns)
{
	struct __kernel_timespec *deadline =
	    &loop->deadlines[sqe - loop->ring.sq.sqes];
	deadline->tv_sec = deadline_ns / 1000000000LL;
	deadline->tv_nsec = deadline_ns % 1000000000LL;
	return deadline;
}

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
	io_uring_prep_timeout(sqe, deadline_for(loop, sqe, deadline_ns), 0,
			      IORING_TIMEOUT_ABS);
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
	io_uring_prep_timeout(sqe, deadline_for(loop, sqe, earliest_ns), 0,
			      IORING_TIMEOUT_ABS);
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

/* ---- file: IORING_OP_READ, one block of each file in flight
 * ------------------------------ */

/* A regular file has no readiness for epoll to report, but a read is a request
 * like any other: each task keeps one READ of --block bytes in flight, the next
 * one submitted when it completes, so --jobs files are read side by side by one
 * thread. The reads are buffered; the kernel serves them from the page cache
 * or, when it must wait for the disk, completes them itself (and may hand them
 * to io-wq worker threads, iou-wrk, which threads_peak counts). */
struct file_slot {
	struct task
	    *task; /* the task reading through this slot, NULL when free */
	int fd;	   /* its file */
	unsigned char *buf; /* --block bytes the kernel reads into */
	uint64_t offset;    /* where the READ in flight starts */
};

struct file_ring {
	const struct file_ops *ops; /* the workload's open, name and checks */
	struct file_slot *slots;    /* one per task in flight */
	long *free_slots;	    /* stack of free slot indexes */
	long free_count;	    /* entries in free_slots */
	long slot_count;	    /* slots allocated: --jobs */
	size_t block_bytes;	    /* --block */
};

static void file_teardown(struct ring_loop *loop);

static int file_setup(struct ring_loop *loop)
{
	struct run *run = loop->run;
	struct file_ring *files;

	if (run->params.workload->kind != WORKLOAD_FILE)
		return 0;
	files = calloc(1, sizeof(*files));
	if (files == NULL)
		return loop_fail(loop, ENOMEM, "file slots");
	loop->files = files;
	files->ops = run->params.workload->file;
	files->block_bytes = (size_t)run->params.block_bytes;
	files->slot_count = run_jobs(run);
	files->slots = calloc((size_t)files->slot_count, sizeof(*files->slots));
	files->free_slots =
	    calloc((size_t)files->slot_count, sizeof(*files->free_slots));
	if (files->slots == NULL || files->free_slots == NULL)
		goto out_no_memory;
	for (long i = files->slot_count - 1; i >= 0; i--) {
		files->slots[i].fd = -1;
		files->slots[i].buf = malloc(files->block_bytes);
		if (files->slots[i].buf == NULL)
			goto out_no_memory;
		files->free_slots[files->free_count++] = i;
	}
	return 0;
out_no_memory:
	file_teardown(loop);
	return loop_fail(loop, ENOMEM, "file slots and their buffers");
}

static int submit_read(struct ring_loop *loop, long slot_index)
{
	struct file_ring *files = loop->files;
	struct file_slot *slot = &files->slots[slot_index];
	struct io_uring_sqe *sqe = get_sqe(loop);

	if (sqe == NULL)
		return -1;
	io_uring_prep_read(sqe, slot->fd, slot->buf,
			   (unsigned)files->block_bytes, slot->offset);
	io_uring_sqe_set_data64(sqe, request_data(REQUEST_READ, 0, slot_index));
	return 0;
}

static void file_release(struct ring_loop *loop, long slot_index)
{
	struct file_ring *files = loop->files;
	struct file_slot *slot = &files->slots[slot_index];

	close(slot->fd);
	slot->fd = -1;
	slot->task = NULL;
	files->free_slots[files->free_count++] = slot_index;
}

/* Open the task's file (a blocking openat: the set's folder is in the dentry
 * cache) and put its first READ in. A file that cannot be opened fails its task
 * at once. */
static int start_file(struct ring_loop *loop, struct task *task)
{
	struct file_ring *files = loop->files;
	char name[FILE_NAME_LEN];

	int fd = files->ops->open(loop->run, task->id);
	if (fd < 0) {
		files->ops->name(task->id, name, sizeof(name));
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error), "%s: open: %s", name,
			 strerror(-fd));
		finish_task(loop, task);
		return 0;
	}
	long slot_index = files->free_slots[--files->free_count];
	files->slots[slot_index] = (struct file_slot){
	    .task = task,
	    .fd = fd,
	    .buf = files->slots[slot_index].buf,
	    .offset = 0,
	};
	return submit_read(loop, slot_index);
}

/* A READ completed with res bytes (0 at the end of the file), or -errno: check
 * what came, then read on, or finish the task. */
static int on_read(struct ring_loop *loop, long slot_index, int res)
{
	struct file_ring *files = loop->files;
	struct file_slot *slot = &files->slots[slot_index];
	struct task *task = slot->task;
	char name[FILE_NAME_LEN];

	if (res == -ECANCELED || (res > 0 && loop->draining)) {
		task->status = TASK_CANCELLED;
	} else if (res < 0) {
		files->ops->name(task->id, name, sizeof(name));
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error),
			 "%s: read at offset %llu: %s", name,
			 (unsigned long long)slot->offset, strerror(-res));
	} else if (res == 0) {
		if (files->ops->check_end(loop->run, task, slot->offset) == 0)
			task->status = TASK_OK;
	} else if (files->ops->check(loop->run, task, slot->offset, slot->buf,
				     (size_t)res) == 0) {
		slot->offset += (uint64_t)res;
		task->bytes = slot->offset;
		return submit_read(loop, slot_index);
	}
	file_release(loop, slot_index);
	finish_task(loop, task);
	return 0;
}

/* After the drain. A slot still holding a task had its READ not taken back (the
 * drain failed): its buffer is left allocated, since the kernel may still write
 * into it. */
static void file_teardown(struct ring_loop *loop)
{
	struct file_ring *files = loop->files;

	if (files == NULL)
		return;
	for (long i = 0; files->slots != NULL && i < files->slot_count; i++) {
		if (files->slots[i].fd >= 0)
			close(files->slots[i].fd);
		if (files->slots[i].task == NULL)
			free(files->slots[i].buf);
	}
	free(files->slots);
	free(files->free_slots);
	free(files);
	loop->files = NULL;
}

/* ---- http: libcurl's multi-socket API on POLL_ADD and TIMEOUT requests
 * ------------------ */

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
	    deadline_for(loop, sqe, loop->http_due_ns);
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
	curl_socket_t fd = (curl_socket_t)request_id_of(data);
	struct loop_http_socket *socket = loop_http_socket_find(loop->http, fd);
	unsigned events = 0;

	if (socket == NULL ||
	    request_generation_of(data) != (socket->generation & 0xffffffu))
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

/* ---- the loop
 * ------------------------------------------------------------------------- */

static int start_task(struct ring_loop *loop, struct task *task)
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
		loop->in_kernel--;
	switch (request_kind_of(data)) {
	case REQUEST_STOP:
		loop->stop_armed = false; /* the caller sees run_stopping() */
		break;
	case REQUEST_SLEEP:
		sleep_done(loop, &loop->run->tasks[request_id_of(data)],
			   cqe->res);
		break;
	case REQUEST_TIMER:
		on_timer(loop, cqe->res);
		break;
	case REQUEST_READ:
		return on_read(loop, request_id_of(data), cqe->res);
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

	io_uring_for_each_cqe(&loop->ring, head, cqe)
	{
		seen++;
		if (on_completion(loop, cqe) < 0) {
			result = -1;
			break;
		}
	}
	io_uring_cq_advance(&loop->ring, seen);
	return result;
}

/* Submit what the last round queued, wait for at least one completion, handle
 * them all. */
static int loop_iterate(struct ring_loop *loop)
{
	if (http_sync_timer(loop) < 0 || submit(loop, 1) < 0 || reap(loop) < 0)
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
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);

	loop->draining = true;
	if (sqe == NULL && submit(loop, 0) == 0)
		sqe = io_uring_get_sqe(&loop->ring);
	if (sqe != NULL) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe,
					request_data(REQUEST_CANCEL, 0, 0));
		while ((loop->in_kernel > 0 ||
			io_uring_sq_ready(&loop->ring) > 0) &&
		       !loop->cancel_refused) {
			int ret = io_uring_submit_and_wait(&loop->ring, 1);
			if (ret < 0 && ret != -EINTR)
				break;
			if (ret > 0)
				loop->in_kernel += ret;
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

/* The most requests one run can have in flight: what the ring is sized for.
 * Requests beyond RING_SQ_MAX are submitted in batches; their completions wait
 * in a larger completion queue (or, past RING_CQ_MAX, in the kernel's overflow
 * list: none is lost). */
static long requests_max(const struct ring_loop *loop)
{
	const long loop_requests =
	    3; /* the stop poll, the cancel, and one spare */

	if (loop->run->params.workload->kind == WORKLOAD_SLEEP &&
	    loop->sleep_mode == SLEEP_HEAP)
		return loop_requests + 1; /* the timer */
	return loop_requests + run_jobs(loop->run);
}

static int ring_setup(struct ring_loop *loop)
{
	long want = requests_max(loop);
	unsigned sq_entries = want > RING_SQ_MAX ? RING_SQ_MAX : (unsigned)want;
	unsigned cq_entries = want > RING_CQ_MAX ? RING_CQ_MAX : (unsigned)want;
	struct io_uring_params params = {
	    .flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP,
	    .cq_entries =
		cq_entries > 2 * sq_entries ? cq_entries : 2 * sq_entries,
	};

	int err = io_uring_queue_init_params(sq_entries, &loop->ring, &params);
	if (err < 0)
		return loop_fail(loop, -err, "io_uring_queue_init");
	loop->deadlines =
	    calloc(loop->ring.sq.ring_entries, sizeof(*loop->deadlines));
	if (loop->deadlines == NULL) {
		io_uring_queue_exit(&loop->ring);
		return loop_fail(loop, ENOMEM, "deadline table");
	}
	return 0;
}

static int uring_run(struct run *run)
{
	struct ring_loop loop = {.run = run};
	int result = -1;

	if (sleep_setup(&loop) < 0)
		goto out_cancel_pending;
	if (ring_setup(&loop) < 0)
		goto out_sleep_teardown;
	if (file_setup(&loop) < 0)
		goto out_exit_ring;
	if (http_setup(&loop) < 0)
		goto out_file_teardown;
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
out_file_teardown:
	file_teardown(&loop);
out_exit_ring:
	io_uring_queue_exit(&loop.ring);
	free(loop.deadlines);
out_sleep_teardown:
	loop_tasks_free(&loop.tasks);
out_cancel_pending:
	run_cancel_pending(run);
	return result;
}

#else /* built without liburing: the strategy is listed and says why it cannot \
	 run */

static const char *uring_unavailable(void)
{
	return URING_UNAVAILABLE_NO_LIBRARY;
}

static int uring_run(struct run *run)
{
	return run_fail(run, ENOTSUP, "uring: %s",
			URING_UNAVAILABLE_NO_LIBRARY);
}

#endif

const struct strategy strategy_uring = {
    .name = "uring",
    .summary =
	"one thread, one io_uring: requests submitted, completions reaped",
    .flags = STRATEGY_ONE_THREAD,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .unavailable = uring_unavailable,
    .run = uring_run,
};
