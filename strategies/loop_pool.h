/* loop_pool.h - a work/done pool for event loops, as libuv's src/threadpool.c:
 * K worker threads take ids from a queue, run a blocking function on each, put
 * the id on a done list and wake the loop through an eventfd that the loop
 * watches like any other source. */
#ifndef IOSTRAT_LOOP_POOL_H
#define IOSTRAT_LOOP_POOL_H

#include <stdbool.h>

#include "../bench/core/run.h"

/* The blocking work for one id, in a worker thread (user: as given to create).
 */
typedef void loop_pool_work_fn(void *user, long id);
/* The loop learns that the work for id is done. */
typedef void loop_pool_done_fn(void *user, long id);

struct loop_pool;

/* A pool for at most capacity ids at once, with workers threads running
 * work(user, id) (0 workers: the loop runs the work itself, see
 * loop_pool_pop()). NULL on failure, after run_fail() has said why. */
struct loop_pool *loop_pool_create(struct run *run, long capacity, long workers,
				   loop_pool_work_fn *work, void *user);

/* The usual work: the workload's blocking task (the same code as blocking,
 * processes and threads), user being the run and ids task ids; the task's tid
 * is the worker's. */
void loop_pool_run_task(void *run, long id);

/* The eventfd the loop watches: readable when done ids wait (or, without
 * workers, when queued ids wait for the loop). */
int loop_pool_fd(const struct loop_pool *pool);
/* The worker threads started. */
long loop_pool_workers(const struct loop_pool *pool);

/* Queue id for a worker (or, without workers, wake the loop to run it itself).
 * At most capacity ids may be queued or in work at once. */
void loop_pool_submit(struct loop_pool *pool, long id);

/* The eventfd was readable: read it, then call done for every id whose work is
 * over since the last call, outside the pool's lock. 0, or -1 after run_fail().
 */
int loop_pool_drain(struct loop_pool *pool, loop_pool_done_fn *done,
		    void *user);

/* A queued id that no worker has taken, or -1: for a loop without workers,
 * which runs the work itself, and for cancelling what is left when the run
 * stops. */
long loop_pool_pop(struct loop_pool *pool);
/* Ids queued that no worker has taken yet. */
long loop_pool_queued(struct loop_pool *pool);
/* Make the eventfd readable: the loop comes back on its next turn. */
void loop_pool_wake(struct loop_pool *pool);

/* The run ends: every worker finishes the id in hand and is joined. Ids done
 * meanwhile wait for loop_pool_drain(), queued ids for loop_pool_pop(). */
void loop_pool_stop(struct loop_pool *pool);
/* Stop (if not yet), close the eventfd, free. NULL is allowed. */
void loop_pool_free(struct loop_pool *pool);

#endif
