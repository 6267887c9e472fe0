/* loop_ring.c - the uring loop's ring (loop_ring.h): SQEs got and submitted in
 * batches, requests counted in flight, the deadline a TIMEOUT points at kept
 * per SQE; whether this kernel has io_uring, probed once; and files read as
 * IORING_OP_READs. Teaches: io_uring_queue_init_params,
 * io_uring_get_probe_ring, io_uring_prep_read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/core/workload.h"
#include "../bench/workloads/file.h"
#include "loop_ring.h"

#if IOSTRAT_HAVE_LIBURING

#define RING_SQ_MAX 4096  /* most SQEs: beyond that, submit in batches */
#define RING_CQ_MAX 65536 /* the kernel's largest CQ (IORING_MAX_CQ_ENTRIES)   \
			   */

/* ---- availability: probed once ------------------------------------------- */


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

const char *loop_ring_unavailable(void)
{
	static bool probed;
	static const char *reason;

	if (!probed) {
		reason = probe_kernel();
		probed = true;
	}
	return reason;
}

/* ---- the ring ------------------------------------------------------------ */

static int ring_fail(struct loop_ring *ring, int err, const char *what)
{
	return run_fail(ring->run, err, "uring: %s: %s", what, strerror(err));
}

/* Requests beyond RING_SQ_MAX are submitted in batches; their completions wait
 * in a larger completion queue (or, past RING_CQ_MAX, in the kernel's overflow
 * list: none is lost). */
int loop_ring_init(struct loop_ring *ring, struct run *run, long requests)
{
	unsigned sq_entries =
	    requests > RING_SQ_MAX ? RING_SQ_MAX : (unsigned)requests;
	unsigned cq_entries =
	    requests > RING_CQ_MAX ? RING_CQ_MAX : (unsigned)requests;
	struct io_uring_params params = {
	    .flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP,
	    .cq_entries =
		cq_entries > 2 * sq_entries ? cq_entries : 2 * sq_entries,
	};

	*ring = (struct loop_ring){.run = run};
	int err = io_uring_queue_init_params(sq_entries, &ring->ring, &params);
	if (err < 0)
		return ring_fail(ring, -err, "io_uring_queue_init");
	ring->deadlines =
	    calloc(ring->ring.sq.ring_entries, sizeof(*ring->deadlines));
	if (ring->deadlines == NULL) {
		io_uring_queue_exit(&ring->ring);
		return ring_fail(ring, ENOMEM, "deadline table");
	}
	return 0;
}

void loop_ring_exit(struct loop_ring *ring)
{
	io_uring_queue_exit(&ring->ring);
	free(ring->deadlines);
}

int loop_ring_submit(struct loop_ring *ring, unsigned wait_nr)
{
	int submitted = io_uring_submit_and_wait(&ring->ring, wait_nr);

	if (submitted < 0) {
		if (submitted == -EINTR)
			return 0; /* a signal: the caller sees run_stopping() */
		return ring_fail(ring, -submitted, "io_uring_submit");
	}
	ring->in_kernel += submitted;
	long depth = ring->in_kernel - (ring->stop_armed ? 1 : 0);
	if (depth > ring->run->queue_depth_peak)
		ring->run->queue_depth_peak = depth;
	return 0;
}

struct io_uring_sqe *loop_ring_sqe(struct loop_ring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring->ring);

	if (sqe == NULL) {
		if (loop_ring_submit(ring, 0) < 0)
			return NULL;
		sqe = io_uring_get_sqe(&ring->ring);
		if (sqe == NULL)
			ring_fail(ring, EBUSY,
				  "no free submission queue entry after "
				  "submitting");
	}
	return sqe;
}

struct __kernel_timespec *loop_ring_deadline(struct loop_ring *ring,
					     const struct io_uring_sqe *sqe,
					     int64_t deadline_ns)
{
	struct __kernel_timespec *deadline =
	    &ring->deadlines[sqe - ring->ring.sq.sqes];

	deadline->tv_sec = deadline_ns / 1000000000LL;
	deadline->tv_nsec = deadline_ns % 1000000000LL;
	return deadline;
}

/* ---- file: IORING_OP_READ, one block of each file in flight -------------- */


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

struct loop_ring_files {
	const struct file_ops *ops; /* the workload's open, name and checks */
	struct file_slot *slots;    /* one per task in flight */
	long *free_slots;	    /* stack of free slot indexes */
	long free_count;	    /* entries in free_slots */
	long slot_count;	    /* slots allocated: --jobs */
	struct loop_ring *ring;	    /* where the READs go */
	struct loop_tasks *tasks;   /* where tasks end */
	unsigned read_kind;	    /* the loop's request kind for a READ */
	size_t block_bytes;	    /* --block */
};

struct loop_ring_files *loop_ring_files_create(struct loop_ring *ring,
					       struct loop_tasks *tasks,
					       unsigned read_kind)
{
	struct run *run = ring->run;
	struct loop_ring_files *files = calloc(1, sizeof(*files));

	if (files == NULL)
		goto out_no_memory;
	files->ring = ring;
	files->tasks = tasks;
	files->read_kind = read_kind;
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
	return files;
out_no_memory:
	loop_ring_files_free(files);
	run_fail(run, ENOMEM, "uring: file slots and their buffers: %s",
		 strerror(ENOMEM));
	return NULL;
}

static int submit_read(struct loop_ring_files *files, long slot_index)
{
	struct file_slot *slot = &files->slots[slot_index];
	struct io_uring_sqe *sqe = loop_ring_sqe(files->ring);

	if (sqe == NULL)
		return -1;
	io_uring_prep_read(sqe, slot->fd, slot->buf,
			   (unsigned)files->block_bytes, slot->offset);
	io_uring_sqe_set_data64(
	    sqe, loop_ring_data(files->read_kind, 0, slot_index));
	return 0;
}

static void file_release(struct loop_ring_files *files, long slot_index)
{
	struct file_slot *slot = &files->slots[slot_index];

	close(slot->fd);
	slot->fd = -1;
	slot->task = NULL;
	files->free_slots[files->free_count++] = slot_index;
}

/* Open the task's file (a blocking openat: the set's folder is in the dentry
 * cache) and put its first READ in. A file that cannot be opened fails its task
 * at once. */
int loop_ring_files_start(struct loop_ring_files *files, struct task *task)
{
	char name[FILE_NAME_LEN];

	int fd = files->ops->open(files->ring->run, task->id);
	if (fd < 0) {
		files->ops->name(task->id, name, sizeof(name));
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error), "%s: open: %s", name,
			 strerror(-fd));
		loop_tasks_finish(files->tasks, task);
		return 0;
	}
	long slot_index = files->free_slots[--files->free_count];
	files->slots[slot_index] = (struct file_slot){
	    .task = task,
	    .fd = fd,
	    .buf = files->slots[slot_index].buf,
	    .offset = 0,
	};
	return submit_read(files, slot_index);
}

/* A READ completed with res bytes (0 at the end of the file), or -errno: check
 * what came, then read on, or finish the task. */
int loop_ring_files_done(struct loop_ring_files *files, long slot_index,
			 int res, bool draining)
{
	struct run *run = files->ring->run;
	struct file_slot *slot = &files->slots[slot_index];
	struct task *task = slot->task;
	char name[FILE_NAME_LEN];

	if (res == -ECANCELED || (res > 0 && draining)) {
		task->status = TASK_CANCELLED;
	} else if (res < 0) {
		files->ops->name(task->id, name, sizeof(name));
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error),
			 "%s: read at offset %llu: %s", name,
			 (unsigned long long)slot->offset, strerror(-res));
	} else if (res == 0) {
		if (files->ops->check_end(run, task, slot->offset) == 0)
			task->status = TASK_OK;
	} else if (files->ops->check(run, task, slot->offset, slot->buf,
				     (size_t)res) == 0) {
		slot->offset += (uint64_t)res;
		task->bytes = slot->offset;
		return submit_read(files, slot_index);
	}
	file_release(files, slot_index);
	loop_tasks_finish(files->tasks, task);
	return 0;
}

/* After the drain. A slot still holding a task had its READ not taken back (the
 * drain failed): its buffer is left allocated, since the kernel may still write
 * into it. */
void loop_ring_files_free(struct loop_ring_files *files)
{
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
}

#else /* built without liburing: the strategy is listed and says why */

const char *loop_ring_unavailable(void)
{
	return LOOP_RING_UNAVAILABLE_NO_LIBRARY;
}

#endif
