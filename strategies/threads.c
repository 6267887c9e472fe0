/* threads.c - one POSIX thread per task (pthread_create), at most --jobs alive
 * at once; each runs the workload's blocking implementation. Finished threads
 * put their task on a queue that the main thread waits on (a condition
 * variable), and it joins them (pthread_join). Each thread measures what of its
 * stack is resident (mincore) before it ends. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/core/strategy.h"

struct thread_slot {
	pthread_t thread;	       /* the thread running this task */
	struct run *run;	       /* the run it belongs to */
	struct task *task;	       /* the task it runs */
	struct thread_pool *pool;      /* where it reports that it is done */
	uint64_t stack_resident_bytes; /* of its stack, as its task ended */
};

struct thread_pool {
	pthread_mutex_t lock; /* guards done_ids and done_count */
	pthread_cond_t done;  /* signalled when a task is done */
	long *done_ids;	      /* finished task ids not yet joined */
	long done_count;      /* entries in done_ids */
};

static void *thread_main(void *arg)
{
	struct thread_slot *slot = arg;
	struct thread_pool *pool = slot->pool;

	run_task_blocking(slot->run, slot->task);
	if (slot->run->memory.on)
		slot->stack_resident_bytes =
		    memory_thread_stack_resident_bytes();
	pthread_mutex_lock(&pool->lock);
	pool->done_ids[pool->done_count++] = slot->task->id;
	pthread_cond_signal(&pool->done);
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Wait for one thread to finish, join it; returns its task id. */
static long join_one(struct thread_pool *pool, struct thread_slot *slots)
{
	pthread_mutex_lock(&pool->lock);
	while (pool->done_count == 0)
		pthread_cond_wait(&pool->done, &pool->lock);
	long id = pool->done_ids[--pool->done_count];
	pthread_mutex_unlock(&pool->lock);
	pthread_join(slots[id].thread, NULL);
	return id;
}

static int threads_run(struct run *run)
{
	long tasks = run->params.tasks;
	struct thread_pool pool = {
	    .lock = PTHREAD_MUTEX_INITIALIZER,
	    .done = PTHREAD_COND_INITIALIZER,
	};
	struct thread_slot *slots = calloc((size_t)tasks, sizeof(*slots));
	pthread_attr_t attr;
	size_t stack_bytes = 0;
	long started = 0;
	int err = 0;

	pool.done_ids = calloc((size_t)tasks, sizeof(*pool.done_ids));
	if (slots == NULL || pool.done_ids == NULL) {
		free(slots);
		free(pool.done_ids);
		run_fail(run, ENOMEM,
			 "threads: out of memory for %ld thread slots", tasks);
		return -1;
	}
	pthread_attr_init(&attr);
	pthread_attr_getstacksize(&attr, &stack_bytes);

	while (started < tasks || run->inflight > 0) {
		bool can_start = started < tasks &&
				 run->inflight < run_jobs(run) &&
				 !run_stopping() && err == 0;
		if (!can_start) {
			if (run->inflight == 0)
				break;
			join_one(&pool, slots);
			run_inflight_add(run, -1);
			continue;
		}
		struct thread_slot *slot = &slots[started];
		*slot = (struct thread_slot){
		    .run = run, .task = &run->tasks[started], .pool = &pool};
		err = pthread_create(&slot->thread, &attr, thread_main, slot);
		if (err != 0) {
			run_task_failed(run, slot->task, err, "pthread_create");
			run_fail(run, err,
				 "pthread_create failed after %ld threads: %s",
				 started, strerror(err));
			started++;
			continue;
		}
		started++;
		run_inflight_add(run, 1);
		run_thread_started(run);
		if ((uint64_t)run->inflight * stack_bytes >
		    run->stack_reserved_bytes)
			run->stack_reserved_bytes =
			    (uint64_t)run->inflight * stack_bytes;
	}
	/* the rest were never started: they failed with the thread that could
	 * not be made, or were cancelled */
	for (long i = started; i < tasks; i++) {
		if (err != 0)
			run_task_failed(run, &run->tasks[i], err,
					"pthread_create");
	}
	run_cancel_pending(run);
	pthread_attr_destroy(&attr);
	/* the stacks resident together at most: each as its task ended */
	uint64_t *resident = calloc((size_t)tasks, sizeof(*resident));
	if (run->memory.on && resident != NULL) {
		for (long i = 0; i < tasks; i++)
			resident[i] = slots[i].stack_resident_bytes;
		memory_stacks_peak(run, resident);
	}
	free(resident);
	free(pool.done_ids);
	free(slots);
	return 0;
}

const struct strategy strategy_threads = {
    .name = "threads",
    .summary = "one pthread per task (pthread_create/pthread_join), blocking "
	       "calls in each",
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = threads_run,
};
