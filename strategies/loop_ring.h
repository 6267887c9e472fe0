/* loop_ring.h - what the uring loop keeps beside its loop: the ring itself
 * (SQEs got and submitted, requests counted in flight, the deadline each
 * TIMEOUT points at), whether this kernel has io_uring at all, and the file
 * workload's reads as IORING_OP_READs. */
#ifndef IOSTRAT_LOOP_RING_H
#define IOSTRAT_LOOP_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "../bench/core/run.h"
#include "loop_tasks.h"

#define LOOP_RING_UNAVAILABLE_NO_LIBRARY                                       \
	"built without liburing (install liburing-dev and rebuild)"

/* Why this build or kernel cannot use io_uring, or NULL (probed once). The test
 * hook IOSTRAT_URING_DISABLE=1 makes it unavailable; =ENOSYS or =EPERM as if
 * io_uring_setup() had failed with that error. */
const char *loop_ring_unavailable(void);

#if IOSTRAT_HAVE_LIBURING
#include <liburing.h>

/* The ring. deadlines has one slot per SQE: what a TIMEOUT points at until it
 * is submitted (the kernel copies the timespec then). */
struct loop_ring {
	struct run *run;      /* the run being carried out */
	struct io_uring ring; /* submission and completion queues */
	struct __kernel_timespec *deadlines; /* by SQE index, see above */
	long in_kernel;	 /* requests submitted, completion not yet seen */
	bool stop_armed; /* the POLL_ADD on run_stop_fd is in flight */
};

/* A request's user_data: the loop's kind in the top byte, 24 bits of generation
 * (which watch of a socket a poll belongs to), 32 bits of id (a task, a file
 * slot, a socket). */
static inline uint64_t loop_ring_data(unsigned kind, uint32_t generation,
				      long id)
{
	return (uint64_t)kind << 56 | (uint64_t)(generation & 0xffffffu) << 32 |
	       (uint32_t)id;
}

static inline unsigned loop_ring_kind(uint64_t data)
{
	return (unsigned)(data >> 56);
}

static inline uint32_t loop_ring_generation(uint64_t data)
{
	return (uint32_t)(data >> 32) & 0xffffffu;
}

static inline long loop_ring_id(uint64_t data)
{
	return (long)(data & 0xffffffffu);
}

/* A ring for about requests in flight. 0, or -1 after run_fail(). */
int loop_ring_init(struct loop_ring *ring, struct run *run, long requests);
void loop_ring_exit(struct loop_ring *ring);
/* Submit what is queued and wait for wait_nr completions; count what went in,
 * note the deepest queue (the stop poll is not a task's). 0, or -1 after
 * run_fail(). */
int loop_ring_submit(struct loop_ring *ring, unsigned wait_nr);
/* A free SQE; when the queue is full, what is in it is submitted first. NULL
 * after run_fail(). */
struct io_uring_sqe *loop_ring_sqe(struct loop_ring *ring);
/* The timespec that belongs to sqe, set to deadline_ns (CLOCK_MONOTONIC): the
 * kernel reads it when the SQE is submitted, so it stays put until then. */
struct __kernel_timespec *loop_ring_deadline(struct loop_ring *ring,
					     const struct io_uring_sqe *sqe,
					     int64_t deadline_ns);

/* The file workload's reads: one READ of --block bytes in flight per task. */
struct loop_ring_files;

/* run_jobs() slots with their buffers; READs go on ring with read_kind as their
 * kind, tasks end through tasks. NULL after run_fail(). */
struct loop_ring_files *loop_ring_files_create(struct loop_ring *ring,
					       struct loop_tasks *tasks,
					       unsigned read_kind);
/* Open the task's file and put its first READ in; a file that cannot be opened
 * ends its task at once. 0, or -1 after run_fail(). */
int loop_ring_files_start(struct loop_ring_files *files, struct task *task);
/* The READ of slot completed with res (bytes, 0 at the end, or -errno): check
 * it, read on or end the task (cancelled while draining). 0, or -1. */
int loop_ring_files_done(struct loop_ring_files *files, long slot, int res,
			 bool draining);
/* After the drain. A slot whose READ was not taken back keeps its buffer, since
 * the kernel may still write into it. NULL is allowed. */
void loop_ring_files_free(struct loop_ring_files *files);

#endif
#endif
