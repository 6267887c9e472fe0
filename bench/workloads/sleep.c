/* sleep.c - the tutorial's workload: each task sleeps, a random whole number of
 * seconds or one fixed delay. The sleep itself is wait_sleep()
 * (bench/core/wait.c): ppoll() on the run's stop descriptor, a plain timed wait
 * in the kernel that Ctrl-C can also end, or a yield to a coroutine's loop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/wait.h"
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

/* The sleep: wait_sleep() (bench/core/wait.h) blocks in ppoll() on the run's
 * stop descriptor, or yields to the thread's event loop where a strategy hooked
 * it. */
static void sleep_task_run(struct run *run, struct task *task)
{
	const char *failed = NULL;

	(void)run;
	int err = wait_sleep(task->delay_ns, &failed);
	if (err == 0 || err == -ECANCELED) {
		task->status = err == 0 ? TASK_OK : TASK_CANCELLED;
		return;
	}
	task->status = TASK_ERROR;
	snprintf(task->error, sizeof(task->error), "%s: %s", failed, strerror(-err));
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
