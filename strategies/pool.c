/* pool.c - a fixed pool of --jobs worker threads (pthread_create once each), as
 * libuv's thread pool and Java's executors: every worker takes the next task
 * from one shared queue (an atomic counter over the task table) and runs the
 * workload's blocking implementation. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/core/strategy.h"

/* The queue: every task waits in the task table, and a worker takes the next
 * one by incrementing next_task. No lock is needed, since no task is ever
 * added. */
struct pool_queue {
	_Atomic long next_task; /* the next task id to be taken */
	_Atomic int closed; /* set when a worker could not be created: take no
			       more */
};

struct pool_worker {
	pthread_t thread;	  /* the worker */
	struct run *run;	  /* the run it belongs to */
	struct pool_queue *queue; /* where it takes tasks from */
	int threads_seen; /* most threads of the process it counted (library
			     threads) */
};

/* The next task, or NULL when the queue is empty, closed, or the run stops. */
static struct task *pool_take(struct pool_worker *worker)
{
	struct run *run = worker->run;

	if (run_stopping() || atomic_load(&worker->queue->closed))
		return NULL;
	long id = atomic_fetch_add(&worker->queue->next_task, 1);
	return id < run->params.tasks ? &run->tasks[id] : NULL;
}

static void *pool_worker_main(void *arg)
{
	struct pool_worker *worker = arg;
	bool count_threads = worker->run->params.workload->library_threads;
	struct task *task;

	while ((task = pool_take(worker)) != NULL) {
		run_task_blocking(worker->run, task);
		/* libcurl may start a resolver thread per transfer: count them
		 * while they may still be alive, as processes and threads do */
		int threads = count_threads ? run_count_threads() : 0;
		if (threads > worker->threads_seen)
			worker->threads_seen = threads;
	}
	return NULL;
}

static int pool_run(struct run *run)
{
	long jobs = run_jobs(run);
	struct pool_queue queue = {0};
	struct pool_worker *workers = calloc((size_t)jobs, sizeof(*workers));
	pthread_attr_t attr;
	size_t stack_bytes = 0;
	long started = 0;
	int err = 0;

	if (workers == NULL)
		return run_fail(run, ENOMEM,
				"pool: out of memory for %ld workers", jobs);
	pthread_attr_init(&attr);
	pthread_attr_getstacksize(&attr, &stack_bytes);
	for (; started < jobs && !run_stopping(); started++) {
		struct pool_worker *worker = &workers[started];
		*worker = (struct pool_worker){.run = run, .queue = &queue};
		err = pthread_create(&worker->thread, &attr, pool_worker_main,
				     worker);
		if (err != 0) {
			atomic_store(&queue.closed, 1);
			run_fail(
			    run, err,
			    "pool: pthread_create failed after %ld workers: %s",
			    started, strerror(err));
			break;
		}
		run_inflight_add(run, 1);
	}
	run->stack_reserved_bytes = (uint64_t)started * stack_bytes;
	/* the kernel's count, once every worker is made */
	run_sample_threads(run, true);
	for (long i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		run_inflight_add(run, -1);
		if (workers[i].threads_seen > run->threads_peak)
			run->threads_peak = workers[i].threads_seen;
	}
	/* a task the workers left in the queue failed with the worker that
	 * could not be made, or is cancelled */
	for (long i = 0; err != 0 && i < run->params.tasks; i++) {
		if (run->tasks[i].status == TASK_PENDING)
			run_task_failed(run, &run->tasks[i], err,
					"pthread_create");
	}
	run_cancel_pending(run);
	pthread_attr_destroy(&attr);
	free(workers);
	return 0;
}

const struct strategy strategy_pool = {
    .name = "pool",
    .summary = "--jobs worker threads made once (default: one per CPU) take "
	       "tasks from one queue",
    .flags = STRATEGY_JOBS_DEFAULT_CPUS,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = pool_run,
};
