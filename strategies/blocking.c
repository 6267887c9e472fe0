/* blocking.c - one task after another in the main thread, each waiting in a
 * blocking system call (ppoll for a sleep, read() for a file,
 * curl_easy_perform() for HTTP). The baseline: its wall time is the sum of the
 * tasks'. */
#include "../bench/core/strategy.h"

static int blocking_run(struct run *run)
{
	for (long i = 0; i < run->params.tasks; i++) {
		if (run_stopping())
			break;
		run_inflight_add(run, 1);
		run_task_blocking(run, &run->tasks[i]);
		run_inflight_add(run, -1);
	}
	run_cancel_pending(run);
	return 0;
}

const struct strategy strategy_blocking = {
    .name = "blocking",
    .summary =
	"one task after another in the main thread, blocking system calls",
    .flags = STRATEGY_SERIAL | STRATEGY_ONE_THREAD,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = blocking_run,
};
