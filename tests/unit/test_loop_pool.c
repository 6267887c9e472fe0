/* test_loop_pool.c - unit tests for the event loops' worker pool
 * (strategies/loop_pool.c): every id submitted comes back through the drain
 * exactly once, the eventfd says when, the work runs in the workers (not in the
 * caller), a pool without workers hands its ids back in order, and a stopped
 * pool leaves what was queued for the caller to cancel. */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../bench/core/run.h"
#include "../../strategies/loop_pool.h"

#define IDS 64

struct record {
	pthread_t caller;      /* the thread that submits and drains */
	int ran[IDS];	       /* times the work ran for each id */
	int done[IDS];	       /* times the drain reported each id */
	_Atomic int in_caller; /* works run in the caller's thread */
	pthread_mutex_t lock;  /* guards ran */
	pthread_mutex_t *gate; /* held to keep workers busy, or NULL */
};

static void work(void *user, long id)
{
	struct record *record = user;

	if (record->gate != NULL) {
		pthread_mutex_lock(record->gate);
		pthread_mutex_unlock(record->gate);
	}
	if (pthread_equal(pthread_self(), record->caller))
		record->in_caller++;
	pthread_mutex_lock(&record->lock);
	record->ran[id]++;
	pthread_mutex_unlock(&record->lock);
}

static void done(void *user, long id)
{
	struct record *record = user;

	record->done[id]++;
}

static struct run test_run(void)
{
	struct run run;

	memset(&run, 0, sizeof(run));
	run.params.strategy_name = "test";
	return run;
}

static long drained(const struct record *record)
{
	long count = 0;

	for (int i = 0; i < IDS; i++)
		count += record->done[i];
	return count;
}

/* Submitted ids are each run once by a worker and drained once, after the
 * eventfd became readable. */
static void every_id_comes_back_once(void **state)
{
	(void)state;
	struct run run = test_run();
	struct record record = {.caller = pthread_self(),
				.lock = PTHREAD_MUTEX_INITIALIZER};
	struct loop_pool *pool = loop_pool_create(&run, IDS, 4, work, &record);

	assert_non_null(pool);
	assert_int_equal(loop_pool_workers(pool), 4);
	for (long id = 0; id < IDS; id++)
		loop_pool_submit(pool, id);
	for (int turns = 0; drained(&record) < IDS && turns < 1000; turns++) {
		struct pollfd wakeup = {.fd = loop_pool_fd(pool),
					.events = POLLIN};
		assert_true(poll(&wakeup, 1, 5000) == 1);
		assert_int_equal(loop_pool_drain(pool, done, &record), 0);
	}
	for (int i = 0; i < IDS; i++) {
		assert_int_equal(record.ran[i], 1);
		assert_int_equal(record.done[i], 1);
	}
	assert_int_equal(record.in_caller, 0);
	assert_int_equal(loop_pool_queued(pool), 0);
	loop_pool_free(pool);
}

/* Without workers (--inline) the loop is woken and takes the ids itself, in
 * the order they were submitted; the pool never runs the work. */
static void without_workers_the_loop_takes_ids_in_order(void **state)
{
	(void)state;
	struct run run = test_run();
	struct record record = {.caller = pthread_self(),
				.lock = PTHREAD_MUTEX_INITIALIZER};
	struct loop_pool *pool = loop_pool_create(&run, 8, 0, work, &record);

	assert_non_null(pool);
	assert_int_equal(loop_pool_workers(pool), 0);
	loop_pool_submit(pool, 5);
	loop_pool_submit(pool, 2);
	loop_pool_submit(pool, 7);
	struct pollfd wakeup = {.fd = loop_pool_fd(pool), .events = POLLIN};
	assert_int_equal(poll(&wakeup, 1, 0), 1);
	assert_int_equal(loop_pool_queued(pool), 3);
	assert_int_equal(loop_pool_pop(pool), 5);
	assert_int_equal(loop_pool_pop(pool), 2);
	assert_int_equal(loop_pool_pop(pool), 7);
	assert_int_equal(loop_pool_pop(pool), -1);
	assert_int_equal(record.ran[5] + record.ran[2] + record.ran[7], 0);
	loop_pool_free(pool);
}

/* Stopped while its one worker is busy: the id in hand is finished and
 * drained, the ids still queued are left for the loop to cancel. */
static void a_stopped_pool_leaves_the_queue(void **state)
{
	(void)state;
	struct run run = test_run();
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
	struct record record = {.caller = pthread_self(),
				.lock = PTHREAD_MUTEX_INITIALIZER,
				.gate = &gate};

	pthread_mutex_lock(&gate);
	struct loop_pool *pool = loop_pool_create(&run, 8, 1, work, &record);
	assert_non_null(pool);
	for (long id = 0; id < 4; id++)
		loop_pool_submit(pool, id);
	while (loop_pool_queued(pool) == 4) /* the worker takes id 0 */
		sched_yield();
	pthread_mutex_unlock(&gate); /* id 0 ends; stop before more */
	loop_pool_stop(pool);
	assert_int_equal(loop_pool_drain(pool, done, &record), 0);
	long left = loop_pool_queued(pool);
	assert_int_equal(drained(&record) + left, 4);
	assert_true(record.done[0] == 1);
	for (long id = loop_pool_pop(pool); id >= 0; id = loop_pool_pop(pool))
		assert_int_equal(record.ran[id], 0);
	loop_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_id_comes_back_once),
	    cmocka_unit_test(without_workers_the_loop_takes_ids_in_order),
	    cmocka_unit_test(a_stopped_pool_leaves_the_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
