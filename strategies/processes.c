/* processes.c - one child process per task (fork), at most --jobs alive at
 * once; each child runs the workload's blocking implementation, writes its
 * record and its own memory figures into shared tables and exits. The parent
 * reaps children with wait4(), which also hands it each child's peak RSS and
 * CPU time. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/core/strategy.h"

/* Children in flight, by pid: an open-addressing table twice the size of
 * --jobs. */
struct child_table {
	pid_t *pids;	/* 0 = empty slot */
	long *task_ids; /* the task each child runs */
	size_t size;	/* slots, a power of two */
};

static int child_table_init(struct child_table *table, long jobs)
{
	table->size = 16;
	while (table->size < (size_t)jobs * 2)
		table->size *= 2;
	table->pids = calloc(table->size, sizeof(*table->pids));
	table->task_ids = calloc(table->size, sizeof(*table->task_ids));
	return table->pids != NULL && table->task_ids != NULL ? 0 : -ENOMEM;
}

static void child_table_free(struct child_table *table)
{
	free(table->pids);
	free(table->task_ids);
}

static void child_table_put(struct child_table *table, pid_t pid, long task_id)
{
	size_t i = (size_t)pid & (table->size - 1);
	while (table->pids[i] != 0)
		i = (i + 1) & (table->size - 1);
	table->pids[i] = pid;
	table->task_ids[i] = task_id;
}

/* Remove pid; returns its task id, or -1 when it is not ours. */
static long child_table_take(struct child_table *table, pid_t pid)
{
	size_t i = (size_t)pid & (table->size - 1);
	while (table->pids[i] != 0 && table->pids[i] != pid)
		i = (i + 1) & (table->size - 1);
	if (table->pids[i] == 0)
		return -1;
	long task_id = table->task_ids[i];
	/* backward-shift deletion keeps every probe chain unbroken */
	size_t hole = i;
	for (size_t j = (i + 1) & (table->size - 1); table->pids[j] != 0;
	     j = (j + 1) & (table->size - 1)) {
		size_t home = (size_t)table->pids[j] & (table->size - 1);
		bool movable = hole <= j ? (home <= hole || home > j)
					 : (home <= hole && home > j);
		if (movable) {
			table->pids[hole] = table->pids[j];
			table->task_ids[hole] = table->task_ids[j];
			hole = j;
		}
	}
	table->pids[hole] = 0;
	return task_id;
}

static void signal_children(const struct child_table *table, int signo)
{
	for (size_t i = 0; i < table->size; i++) {
		if (table->pids[i] != 0)
			kill(table->pids[i], signo);
	}
}

static _Noreturn void child_main(struct run *run, struct task *task)
{
	run_child_init(run->parent_pid);
	memory_child_begin(run, task->id, task->id);
	run_task_blocking(run, task);
	/* the child's memory, read by itself after its task's end is recorded:
	 * its USS, PSS, page tables and threads (memory.h) */
	memory_child_end(run, task->id);
	const struct memory_child *memory = memory_child_record(run, task->id);
	if (memory != NULL && memory->measured)
		task->threads_seen = (int)memory->threads;
	else /* a /proc read costs about a tenth of a fork: only where a
	      * library may have started a thread is there anything to count */
		task->threads_seen = run->params.workload->library_threads
					 ? run_count_threads()
					 : 1;
	_exit(task->status == TASK_OK ? 0 : 1);
}

/* Account for a reaped child: its RSS, and its task if the child died before
 * finishing it. */
static void reaped(struct run *run, struct task *task, int wstatus,
		   const struct rusage *usage)
{
	run->rss_children_bytes += (uint64_t)usage->ru_maxrss * 1024;
	run->processes++;
	if (task->threads_seen > run->threads_peak)
		run->threads_peak = task->threads_seen;
	if (task->status != TASK_RUNNING && task->status != TASK_PENDING)
		return;
	task->end_ns = run_elapsed_ns(run);
	if (WIFSIGNALED(wstatus) && run_stopping()) {
		task->status = TASK_CANCELLED;
	} else if (WIFSIGNALED(wstatus)) {
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error),
			 "child killed by signal %d (%s)", WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	} else {
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error),
			 "child exited with status %d", WEXITSTATUS(wstatus));
	}
}

/* Reap one child. block: wait for one; otherwise return 0 at once when none has
 * exited. */
static int reap_one(struct run *run, struct child_table *table, bool block)
{
	struct rusage usage;
	int wstatus;
	pid_t pid = wait4(-1, &wstatus, block ? 0 : WNOHANG, &usage);

	if (pid <= 0)
		return pid == 0 ? 0 : -errno;
	long id = child_table_take(table, pid);
	/* not one of ours (a library's helper): nothing to account */
	if (id < 0)
		return 1;
	reaped(run, &run->tasks[id], wstatus, &usage);
	run_inflight_add(run, -1);
	return 1;
}

/* After Ctrl-C: children are asked to stop (SIGTERM), then killed if they do
 * not within a second, and every one is reaped. */
static void stop_children(struct run *run, struct child_table *table)
{
	int64_t deadline = run_now_ns() + 1000000000LL;

	signal_children(table, SIGTERM);
	while (run->inflight > 0 && run_now_ns() < deadline) {
		int got = reap_one(run, table, false);
		if (got == 0)
			poll(NULL, 0, 5);
		else if (got < 0 && got != -EINTR)
			break;
	}
	if (run->inflight > 0)
		signal_children(table, SIGKILL);
	while (run->inflight > 0) {
		int got = reap_one(run, table, true);
		if (got < 0 && got != -EINTR)
			break;
	}
}

static int processes_run(struct run *run)
{
	long tasks = run->params.tasks;
	struct child_table table;
	long started = 0;
	int err = 0;

	if (child_table_init(&table, run_jobs(run)) < 0) {
		child_table_free(&table);
		return run_fail(run, ENOMEM,
				"processes: out of memory for the child table");
	}
	while (!run_stopping() && (started < tasks || run->inflight > 0)) {
		if (started < tasks && run->inflight < run_jobs(run) &&
		    err == 0) {
			struct task *task = &run->tasks[started];
			/* nothing buffered may be printed twice */
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0)
				child_main(run, task);
			if (pid < 0) {
				err = errno;
				run_task_failed(run, task, err, "fork");
				run_fail(run, err,
					 "fork failed after %ld processes: %s",
					 started, strerror(err));
				started++;
				continue;
			}
			task->pid = pid;
			child_table_put(&table, pid, started);
			started++;
			run_inflight_add(run, 1);
			continue;
		}
		if (run->inflight == 0)
			break;
		int got = reap_one(run, &table, true);
		if (got < 0 && got != -EINTR) {
			run_fail(run, -got, "wait4: %s", strerror(-got));
			break;
		}
	}
	if (run->inflight > 0)
		stop_children(run, &table);
	for (long i = started; i < tasks; i++) {
		if (err != 0)
			run_task_failed(run, &run->tasks[i], err, "fork");
	}
	run_cancel_pending(run);
	child_table_free(&table);
	return run->harness_error != 0 && err == 0 ? -1 : 0;
}

const struct strategy strategy_processes = {
    .name = "processes",
    .summary =
	"one child process per task (fork/wait4), blocking calls in each",
    .flags = STRATEGY_FORKS,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = processes_run,
};
