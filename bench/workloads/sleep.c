/* sleep.c - the tutorial's workload: each task sleeps, a random whole number of seconds or one
 * fixed delay. The blocking sleep waits in poll() on a timerfd and on the run's stop
 * descriptor: a plain timed wait in the kernel that Ctrl-C can also end at once. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../core/workload.h"

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

/* A blocking sleep: a timerfd armed for the delay, and poll() on it and the run's stop
 * descriptor with no timeout. poll()'s own timeout would do, but the kernel lets it oversleep
 * by 0.1% of the timeout (1 ms a second), which would count as the strategy's overhead; a
 * timerfd fires within the thread's timer slack (50 us). */
static void sleep_task_run(struct run *run, struct task *task)
{
	struct itimerspec when = {
	    .it_value = {.tv_sec = task->delay_ns / 1000000000LL,
			 .tv_nsec = task->delay_ns % 1000000000LL},
	};
	struct pollfd fds[2] = {
	    {.fd = -1, .events = POLLIN},	   /* the timer */
	    {.fd = run_stop_fd, .events = POLLIN}, /* Ctrl-C */
	};
	const char *failed = NULL;
	int ready;

	(void)run;
	if (task->delay_ns == 0) {
		task->status = TASK_OK;
		return;
	}
	fds[0].fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fds[0].fd < 0) {
		failed = "timerfd_create";
		goto out_error;
	}
	if (timerfd_settime(fds[0].fd, 0, &when, NULL) < 0) {
		failed = "timerfd_settime";
		goto out_error;
	}
	do {
		ready = poll(fds, 2, -1);
	} while (ready < 0 && errno == EINTR && !run_stopping());
	if (ready < 0 && !run_stopping()) {
		failed = "poll";
		goto out_error;
	}
	task->status = fds[0].revents & POLLIN ? TASK_OK : TASK_CANCELLED;
	close(fds[0].fd);
	return;
out_error:
	task->status = TASK_ERROR;
	snprintf(task->error, sizeof(task->error), "%s: %s", failed, strerror(errno));
	if (fds[0].fd >= 0)
		close(fds[0].fd);
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
