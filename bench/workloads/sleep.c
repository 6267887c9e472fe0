/* sleep.c - the tutorial's workload: each task sleeps, a random whole number of
 * seconds or one fixed delay. The blocking sleep waits in ppoll() on the run's
 * stop descriptor with a timeout: a plain timed wait in the kernel that Ctrl-C
 * can also end at once, and no descriptor per sleeping task. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/workload.h"

/* The last stretch of a sleep, slept with clock_nanosleep() (Ctrl-C waits
 * for it): about a millisecond. */
#define SLEEP_LAST_NS 1000000LL

/* splitmix64: a small, well-mixed generator, so a seed gives the same delays everywhere. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int sleep_prepare(struct run *run)
{
	uint64_t state = run->params.seed;

	for (long i = 0; i < run->params.tasks; i++) {
		struct task *task = &run->tasks[i];
		if (run->params.delay_ns >= 0)
			task->delay_ns = run->params.delay_ns;
		else
			task->delay_ns =
			    (int64_t)(next_random(&state) % (uint64_t)run->params.max_delay_s) *
			    1000000000LL;
	}
	return 0;
}

/* A blocking sleep with no descriptor of its own: ppoll() on the run's stop
 * descriptor, so that Ctrl-C ends it at once, then clock_nanosleep() to the
 * deadline. ppoll() alone would do, but the kernel lets it oversleep by 0.1%
 * of its timeout (1 ms a second), which would count as the strategy's
 * overhead: each ppoll() is asked to end that much early, and the last
 * millisecond or so is an absolute clock_nanosleep(), which ends within the
 * thread's timer slack (50 us). */
static void sleep_task_run(struct run *run, struct task *task)
{
	struct pollfd stop = {.fd = run_stop_fd, .events = POLLIN};
	int64_t deadline_ns = run_now_ns() + task->delay_ns;
	int64_t left_ns = task->delay_ns;
	struct timespec until;

	(void)run;
	while (left_ns > SLEEP_LAST_NS && !run_stopping()) {
		int64_t wait_ns = left_ns - left_ns / 500 - SLEEP_LAST_NS / 2;
		struct timespec timeout = {.tv_sec = wait_ns / 1000000000LL,
					   .tv_nsec = wait_ns % 1000000000LL};
		if (ppoll(&stop, 1, &timeout, NULL) < 0 && errno != EINTR) {
			task->status = TASK_ERROR;
			snprintf(task->error, sizeof(task->error), "ppoll: %s",
				 strerror(errno));
			return;
		}
		left_ns = deadline_ns - run_now_ns();
	}
	until.tv_sec = deadline_ns / 1000000000LL;
	until.tv_nsec = deadline_ns % 1000000000LL;
	while (!run_stopping() &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) ==
		   EINTR) {
	}
	task->status = run_stopping() ? TASK_CANCELLED : TASK_OK;
}

static void sleep_describe(const struct run *run, const struct task *task, char *buf, size_t len)
{
	(void)run;
	snprintf(buf, len, "Delay: %g seconds", (double)task->delay_ns / 1e9);
}

static void sleep_params_json(const struct run *run, json_t *params)
{
	json_object_set_new(params, "max_delay_s", json_integer(run->params.max_delay_s));
	json_object_set_new(params, "delay_s",
			    run->params.delay_ns >= 0
				? json_real((double)run->params.delay_ns / 1e9)
				: json_null());
}

const struct workload workload_sleep = {
    .name = "sleep",
    .summary = "each task sleeps: random whole seconds (--max-delay) or a fixed --delay",
    .kind = WORKLOAD_SLEEP,
    .delays_known = true,
    .prepare = sleep_prepare,
    .task_run = sleep_task_run,
    .describe = sleep_describe,
    .params_json = sleep_params_json,
};
