/* loop_tasks.h - what every event loop does with the run's tasks: start them
 * until
 * --jobs are in flight, end them, and keep the sleeping ones' deadlines in one
 * min-heap, so that one timer (a timerfd, a poll() timeout, one io_uring
 * TIMEOUT) serves them all. */
#ifndef IOSTRAT_LOOP_TASKS_H
#define IOSTRAT_LOOP_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "../bench/core/minheap.h"
#include "../bench/core/run.h"
#include "loop_http.h"
#include "loop_pool.h"

struct loop_tasks {
	struct run *run; /* the run being carried out */
	long next;	 /* the next task to start */
	long done;	 /* tasks ended */
	struct minheap
	    sleepers; /* (deadline on CLOCK_MONOTONIC, task id) of sleepers */
};

/* With a heap for run_jobs() sleepers when with_sleepers. 0, or -1 after
 * run_fail(). */
int loop_tasks_init(struct loop_tasks *tasks, struct run *run,
		    bool with_sleepers);
void loop_tasks_free(struct loop_tasks *tasks);

/* The next task, started (its line printed) and counted in flight; NULL when
 * --jobs are in flight, none is left, the run stops, or http (NULL allowed)
 * takes no more in this round. */
struct task *loop_tasks_next(struct loop_tasks *tasks,
			     const struct loop_http *http);
/* The task is over (its status set): its line printed, counted done. */
void loop_tasks_finish(struct loop_tasks *tasks, struct task *task);
/* Every task has ended. */
bool loop_tasks_all_done(const struct loop_tasks *tasks);

/* The task sleeps until deadline_ns. 0, or -1 after run_fail(). */
int loop_tasks_sleep(struct loop_tasks *tasks, struct task *task,
		     int64_t deadline_ns);
/* The earliest deadline of a sleeper, -1 when none sleeps. */
int64_t loop_tasks_earliest_ns(const struct loop_tasks *tasks);
/* Every sleeper whose deadline is not after now_ns ends with status. */
void loop_tasks_wake(struct loop_tasks *tasks, int64_t now_ns, int status);
/* The run stops: every sleeper ends, cancelled. */
void loop_tasks_cancel_sleepers(struct loop_tasks *tasks);

/* Files read by a loop_pool whose ids are task ids. The pool's eventfd was
 * readable: end every task the workers have read; with inline_reads (no
 * workers), read one queued file in the loop's own thread, blocked meanwhile
 * (not even Ctrl-C is seen: the read stops at the next block), and come back
 * next turn for the others. 0, or -1 after run_fail(). */
int loop_tasks_pool_ready(struct loop_tasks *tasks, struct loop_pool *pool,
			  bool inline_reads);
/* The run ends: the workers finish the file in hand and are joined; what they
 * read ends as it went, what is still queued is cancelled. NULL pool is
 * allowed. */
void loop_tasks_pool_cancel(struct loop_tasks *tasks, struct loop_pool *pool);

/* What epoll and poll do with a task: a sleeper's deadline into the heap, a
 * file to the pool, a request to libcurl; started until --jobs are in flight
 * (NULL pool or http for the other workloads). 0, or -1 after run_fail(). */
int loop_tasks_start(struct loop_tasks *tasks, struct loop_pool *pool,
		     struct loop_http *http);
/* Ctrl-C, a failure, or simply done: every task in flight ends where it stands,
 * and those never started are cancelled. */
void loop_tasks_cancel(struct loop_tasks *tasks, struct loop_pool *pool,
		       struct loop_http *http);

#endif
