/* strategy.h - the one interface behind which the ways of waiting are interchangeable. A
 * strategy runs every task of a run, at most run_jobs() at once, and records what it saw. */
#ifndef IOSTRAT_STRATEGY_H
#define IOSTRAT_STRATEGY_H

#include "run.h"
#include "workload.h"

enum strategy_flags {
	STRATEGY_SERIAL = 1u << 0,     /* one task at a time, whatever --jobs says */
	STRATEGY_FORKS = 1u << 1,      /* tasks run in child processes */
	STRATEGY_ONE_THREAD = 1u << 2, /* all waiting is done by one thread */
	STRATEGY_FILE_POOL = 1u << 3,  /* files are read by a worker pool (--pool,
					  --inline) */
	STRATEGY_SELECT = 1u << 4,     /* has a select() variant (--select) */
	STRATEGY_JOBS_DEFAULT_CPUS = 1u << 5, /* --jobs defaults to the CPUs online */
};

struct strategy {
	const char *name;    /* as typed on the command line */
	const char *summary; /* one line for --list */
	unsigned flags;	     /* enum strategy_flags */
	unsigned workloads;  /* WORKLOAD_BIT()s of the workloads it can run */
	/* Why this build or kernel cannot run it, or NULL when it can. Optional. */
	const char *(*unavailable)(void);
	/* Why it refuses these parameters (exit 2, nothing run), or NULL. Optional. */
	const char *(*refuses)(const struct params *params);
	/* Run every task of the run. 0 when every task was accounted for (ok, failed or
	 * cancelled), -1 with run->harness_message set when the strategy itself broke down. */
	int (*run)(struct run *run);
};

const struct strategy *strategy_find(const char *name);
const struct strategy *const *strategy_list(void);

extern const struct strategy strategy_blocking;
extern const struct strategy strategy_processes;
extern const struct strategy strategy_threads;
extern const struct strategy strategy_pool;
extern const struct strategy strategy_prefork;
extern const struct strategy strategy_epoll;
extern const struct strategy strategy_poll;
extern const struct strategy strategy_coroutines;
extern const struct strategy strategy_uring;
extern const struct strategy strategy_libuv;

#endif
