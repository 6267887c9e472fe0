/* workload.h - what a workload is: the thing a task waits for (a sleep, a file,
 * an HTTP response). Each workload gives one blocking implementation of a task,
 * which blocking, processes and threads share; event-loop strategies carry out
 * the waiting themselves and use the workload's kind-specific hooks (file_ops,
 * http_ops) for everything else. */
#ifndef IOSTRAT_WORKLOAD_H
#define IOSTRAT_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "run.h"

enum workload_kind {
	WORKLOAD_SLEEP = 0,
	WORKLOAD_FILE,
	WORKLOAD_HTTP,
};

#define WORKLOAD_BIT(kind) (1u << (kind))

struct file_ops; /* bench/file.h */
struct http_ops; /* bench/http.h */

struct workload {
	const char *name;	 /* as typed on the command line */
	const char *summary;	 /* one line for --list */
	enum workload_kind kind; /* which hooks an event loop uses */
	bool delays_known;    /* task->delay_ns is the whole ideal duration of a
				 task */
	bool library_threads; /* its libraries may start threads (libcurl's
				 resolver) */
	/* Why this build cannot run it, or NULL when it can. Optional. */
	const char *(*unavailable)(void);
	/* Before timing: check parameters against the machine, fill each task's
	 * delay, create or check the file set... 0, or -1 after printing what
	 * went wrong (exit 2: the run was not started). */
	int (*prepare)(struct run *run);
	/* Carry out one task with blocking calls in the calling thread: set
	 * task->status (TASK_OK or TASK_ERROR with task->error), task->bytes.
	 * Called between run_task_started() and run_task_finished(). */
	void (*task_run)(struct run *run, struct task *task);
	/* The tail of the tutorial's start line: "Delay: 1 seconds...". */
	void (*describe)(const struct run *run, const struct task *task,
			 char *buf, size_t len);
	/* Extra keys for the result document's params and summary, and lines
	 * for the printed summary. Optional. */
	void (*params_json)(const struct run *run, json_t *params);
	void (*summary_json)(const struct run *run, json_t *summary);
	void (*print_summary)(const struct run *run);
	/* After the run, whatever happened. Optional. */
	void (*cleanup)(struct run *run);
	const struct file_ops *file; /* WORKLOAD_FILE only */
	const struct http_ops *http; /* WORKLOAD_HTTP only */
};

const struct workload *workload_find(const char *name);
const struct workload *const *workload_list(void);

extern const struct workload workload_sleep;

#endif
