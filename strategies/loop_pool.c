/* loop_pool.c - the event loops' worker pool (loop_pool.h): a ring of queued
 * ids and a done list under one mutex, a condition variable for the workers, an
 * eventfd for the loop. Teaches: pthread_create, pthread_cond_wait, eventfd. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../bench/core/workload.h"
#include "loop_pool.h"

struct loop_pool {
	struct run *run;	 /* the run, for messages */
	loop_pool_work_fn *work; /* the blocking work for one id */
	void *user;		 /* passed to work */
	int wakeup_fd;		 /* eventfd, written when an id is done */
	pthread_mutex_t lock;	 /* guards todo, done and quitting */
	pthread_cond_t
	    more;      /* signalled when an id is queued or workers must quit */
	long capacity; /* slots in each queue: the most ids at once */
	long *todo;    /* ring of ids waiting for a worker */
	long todo_head; /* the oldest entry of todo */
	long todo_len;	/* entries in todo */
	long *done;	/* ids whose work is over, not yet drained */
	long done_len;	/* entries in done */
	long *draining; /* the loop's copy of done, handled outside the lock */
	bool quitting;	/* the workers must return */
	pthread_t *workers;   /* the worker threads */
	long workers_wanted;  /* threads asked for */
	long workers_started; /* of them, running (not yet joined) */
};

void loop_pool_run_task(void *user, long id)
{
	struct run *run = user;
	struct task *task = &run->tasks[id];

	task->tid = run_gettid(); /* the thread that really ran it */
	run->params.workload->task_run(run, task);
}

void loop_pool_wake(struct loop_pool *pool)
{
	uint64_t one = 1;

	if (write(pool->wakeup_fd, &one, sizeof(one)) < 0) {
		/* only EAGAIN, when the counter is full: the loop is awake
		 * anyway */
	}
}

/* A worker: take an id, run the work outside the lock, put the id on the done
 * list and wake the loop. */
static void *pool_worker(void *arg)
{
	struct loop_pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->todo_len == 0 && !pool->quitting)
			pthread_cond_wait(&pool->more, &pool->lock);
		if (pool->quitting)
			break;
		long id = pool->todo[pool->todo_head];
		pool->todo_head = (pool->todo_head + 1) % pool->capacity;
		pool->todo_len--;
		pthread_mutex_unlock(&pool->lock);

		pool->work(pool->user, id);

		pthread_mutex_lock(&pool->lock);
		pool->done[pool->done_len++] = id;
		loop_pool_wake(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct loop_pool *loop_pool_create(struct run *run, long capacity, long workers,
				   loop_pool_work_fn *work, void *user)
{
	const char *strategy = run->params.strategy_name;
	struct loop_pool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL) {
		run_fail(run, ENOMEM, "%s: worker pool", strategy);
		return NULL;
	}
	if (workers > capacity)
		workers = capacity; /* a worker with nothing ever to do is not
				       started */
	*pool = (struct loop_pool){
	    .run = run,
	    .work = work,
	    .user = user,
	    .wakeup_fd = -1,
	    .lock = PTHREAD_MUTEX_INITIALIZER,
	    .more = PTHREAD_COND_INITIALIZER,
	    .capacity = capacity,
	    .workers_wanted = workers,
	};
	pool->todo = calloc((size_t)capacity, sizeof(*pool->todo));
	pool->done = calloc((size_t)capacity, sizeof(*pool->done));
	pool->draining = calloc((size_t)capacity, sizeof(*pool->draining));
	pool->workers = calloc((size_t)workers + 1, sizeof(*pool->workers));
	if (pool->todo == NULL || pool->done == NULL ||
	    pool->draining == NULL || pool->workers == NULL) {
		run_fail(run, ENOMEM, "%s: worker pool queues", strategy);
		goto out_free;
	}
	pool->wakeup_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->wakeup_fd < 0) {
		run_fail(run, errno, "%s: eventfd for the worker pool: %s",
			 strategy, strerror(errno));
		goto out_free;
	}
	while (pool->workers_started < workers) {
		int err = pthread_create(&pool->workers[pool->workers_started],
					 NULL, pool_worker, pool);
		if (err != 0) {
			run_fail(run, err,
				 "%s: pthread_create for a pool worker: %s",
				 strategy, strerror(err));
			goto out_free;
		}
		pool->workers_started++;
	}
	return pool;
out_free:
	loop_pool_free(pool);
	return NULL;
}

int loop_pool_fd(const struct loop_pool *pool)
{
	return pool->wakeup_fd;
}

long loop_pool_workers(const struct loop_pool *pool)
{
	return pool->workers_started;
}

void loop_pool_submit(struct loop_pool *pool, long id)
{
	pthread_mutex_lock(&pool->lock);
	pool->todo[(pool->todo_head + pool->todo_len) % pool->capacity] = id;
	pool->todo_len++;
	pthread_cond_signal(&pool->more);
	pthread_mutex_unlock(&pool->lock);
	if (pool->workers_wanted == 0)
		loop_pool_wake(pool); /* the loop runs it on its next turn */
}

int loop_pool_drain(struct loop_pool *pool, loop_pool_done_fn *done, void *user)
{
	uint64_t count;

	if (read(pool->wakeup_fd, &count, sizeof(count)) < 0 &&
	    errno != EAGAIN) {
		int err = errno;
		return run_fail(pool->run, err,
				"%s: read the pool's eventfd: %s",
				pool->run->params.strategy_name, strerror(err));
	}
	pthread_mutex_lock(&pool->lock);
	long finished = pool->done_len;
	long *ids = pool->done;
	pool->done = pool->draining;
	pool->draining = ids;
	pool->done_len = 0;
	pthread_mutex_unlock(&pool->lock);
	for (long i = 0; i < finished; i++)
		done(user, ids[i]);
	return 0;
}

long loop_pool_pop(struct loop_pool *pool)
{
	long id = -1;

	pthread_mutex_lock(&pool->lock);
	if (pool->todo_len > 0) {
		id = pool->todo[pool->todo_head];
		pool->todo_head = (pool->todo_head + 1) % pool->capacity;
		pool->todo_len--;
	}
	pthread_mutex_unlock(&pool->lock);
	return id;
}

long loop_pool_queued(struct loop_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	long queued = pool->todo_len;
	pthread_mutex_unlock(&pool->lock);
	return queued;
}

void loop_pool_stop(struct loop_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->quitting = true;
	pthread_cond_broadcast(&pool->more);
	pthread_mutex_unlock(&pool->lock);
	while (pool->workers_started > 0)
		pthread_join(pool->workers[--pool->workers_started], NULL);
}

void loop_pool_free(struct loop_pool *pool)
{
	if (pool == NULL)
		return;
	loop_pool_stop(pool);
	if (pool->wakeup_fd >= 0)
		close(pool->wakeup_fd);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->more);
	free(pool->todo);
	free(pool->done);
	free(pool->draining);
	free(pool->workers);
	free(pool);
}
