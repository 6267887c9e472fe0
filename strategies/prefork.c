/* prefork.c - --jobs worker processes forked once at the start, as Apache's
 * prefork MPM and nginx's workers: each takes the next task id from a queue in
 * shared memory (an atomic counter in a MAP_SHARED mapping), runs it and writes
 * its record into the shared task table. The parent only reaps the workers
 * (wait4), with their peak RSS and CPU time. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/core/strategy.h"

/* The queue, in a mapping shared by the parent and every worker. */
struct prefork_queue {
	_Atomic long next_task; /* the next task id to be taken */
	_Atomic int closed; /* set when a worker could not be forked: take no
			       more */
	_Atomic long current[]; /* per worker: the task it took last, -1 for
				   none */
};

/* A worker as the parent knows it, kept sorted by pid to find a reaped one. */
struct prefork_worker {
	pid_t pid;   /* the worker's process */
	long index;  /* its slot in prefork_queue.current */
	bool reaped; /* wait4() has returned it */
};

struct prefork {
	struct prefork_queue *queue;	/* the shared mapping */
	size_t queue_bytes;		/* its size */
	struct prefork_worker *workers; /* the workers forked, sorted by pid */
	long forked;			/* how many */
	long alive;			/* not reaped yet */
	long died;			/* killed, or exited with a failure */
};

static _Noreturn void worker_main(struct run *run, struct prefork_queue *queue,
				  long index)
{
	bool count_threads = run->params.workload->library_threads;

	/* a worker must not outlive the parent: killed when it dies, or gone
	 * already */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != run->parent_pid)
		_exit(3);
	while (!run_stopping() && !atomic_load(&queue->closed)) {
		long id = atomic_fetch_add(&queue->next_task, 1);
		if (id >= run->params.tasks)
			break;
		atomic_store(&queue->current[index], id);
		struct task *task = &run->tasks[id];
		run_task_blocking(run, task);
		/* /proc is read only where a library may start threads */
		task->threads_seen = count_threads ? run_count_threads() : 1;
		/* the stop descriptor is shared, and may wake the task before
		 * this process's own stop flag is set: a cancelled task means
		 * stop */
		if (task->status == TASK_CANCELLED)
			break;
	}
	_exit(0);
}

static int compare_pid(const void *a, const void *b)
{
	const struct prefork_worker *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void signal_workers(const struct prefork *pf, int signo)
{
	for (long i = 0; i < pf->forked; i++) {
		if (!pf->workers[i].reaped)
			kill(pf->workers[i].pid, signo);
	}
}

/* A worker is gone: account for it, and for the task it held if it did not
 * finish it. */
static void reaped(struct run *run, struct prefork *pf,
		   struct prefork_worker *worker, int wstatus,
		   const struct rusage *usage)
{
	long id = atomic_load(&pf->queue->current[worker->index]);
	pid_t pid = worker->pid;

	worker->reaped = true;
	pf->alive--;
	run->processes++;
	run->rss_children_bytes += (uint64_t)usage->ru_maxrss * 1024;
	run_inflight_add(run, -1);
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		pf->died++;
	if (id < 0)
		return;
	struct task *task = &run->tasks[id];
	if (task->status != TASK_RUNNING && task->status != TASK_PENDING)
		return;
	task->end_ns = run_elapsed_ns(run);
	if (WIFSIGNALED(wstatus) && run_stopping()) {
		task->status = TASK_CANCELLED;
	} else if (WIFSIGNALED(wstatus)) {
		task->status = TASK_ERROR;
		snprintf(
		    task->error, sizeof(task->error),
		    "worker process %d killed by signal %d (%s) during the "
		    "task",
		    (int)pid, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	} else {
		task->status = TASK_ERROR;
		snprintf(
		    task->error, sizeof(task->error),
		    "worker process %d exited with status %d during the task",
		    (int)pid, WEXITSTATUS(wstatus));
	}
}

/* Reap one worker. block: wait for one; otherwise 0 at once when none has
 * exited. */
static int reap_one(struct run *run, struct prefork *pf, bool block)
{
	struct rusage usage;
	int wstatus;
	pid_t pid = wait4(-1, &wstatus, block ? 0 : WNOHANG, &usage);

	if (pid <= 0)
		return pid == 0 ? 0 : -errno;
	struct prefork_worker key = {.pid = pid};
	struct prefork_worker *worker = bsearch(
	    &key, pf->workers, (size_t)pf->forked, sizeof(key), compare_pid);
	if (worker != NULL)
		reaped(run, pf, worker, wstatus, &usage);
	return 1;
}

/* After Ctrl-C: the workers are asked to stop (SIGTERM), killed if they have
 * not within a second, and every one is reaped. */
static void stop_workers(struct run *run, struct prefork *pf)
{
	int64_t deadline = run_now_ns() + 1000000000LL;

	signal_workers(pf, SIGTERM);
	while (pf->alive > 0 && run_now_ns() < deadline) {
		int got = reap_one(run, pf, false);
		if (got == 0)
			poll(NULL, 0, 5);
		else if (got < 0 && got != -EINTR)
			break;
	}
	if (pf->alive > 0)
		signal_workers(pf, SIGKILL);
	while (pf->alive > 0) {
		int got = reap_one(run, pf, true);
		if (got < 0 && got != -EINTR)
			break;
	}
}

/* Fork the workers; on a failure the queue is closed and the run goes on with
 * those that were forked. Returns the fork's errno, or 0. */
static int fork_workers(struct run *run, struct prefork *pf, long jobs)
{
	for (long i = 0; i < jobs && !run_stopping(); i++) {
		fflush(NULL); /* nothing buffered may be printed twice */
		pid_t pid = fork();
		if (pid == 0)
			worker_main(run, pf->queue, i);
		if (pid < 0) {
			int err = errno;
			atomic_store(&pf->queue->closed, 1);
			run_fail(run, err,
				 "prefork: fork failed after %ld workers: %s",
				 pf->forked, strerror(err));
			return err;
		}
		pf->workers[pf->forked++] =
		    (struct prefork_worker){.pid = pid, .index = i};
		pf->alive++;
		run_inflight_add(run, 1);
	}
	return 0;
}

/* After the run: tasks a dead worker took but never started, and those left in
 * the queue. */
static void account_left(struct run *run, const struct prefork *pf,
			 int fork_err)
{
	long taken = atomic_load(&pf->queue->next_task);

	for (long i = 0; i < run->params.tasks; i++) {
		struct task *task = &run->tasks[i];
		if (task->threads_seen > run->threads_peak)
			run->threads_peak = task->threads_seen;
		if (task->status != TASK_PENDING || run_stopping())
			continue;
		if (i < taken)
			snprintf(task->error, sizeof(task->error),
				 "its worker process died before starting it");
		else if (fork_err != 0)
			run_task_failed(run, task, fork_err, "fork");
		else if (pf->died > 0)
			snprintf(task->error, sizeof(task->error),
				 "never run: every worker process had died");
		else
			continue;
		task->status = TASK_ERROR;
	}
}

static int prefork_run(struct run *run)
{
	long jobs = run_jobs(run);
	struct prefork pf = {
	    .queue_bytes = sizeof(struct prefork_queue) +
			   (size_t)jobs * sizeof(pf.queue->current[0]),
	};
	int fork_err;

	pf.workers = calloc((size_t)jobs, sizeof(*pf.workers));
	if (pf.workers == NULL)
		return run_fail(run, ENOMEM,
				"prefork: out of memory for %ld workers", jobs);
	pf.queue = mmap(NULL, pf.queue_bytes, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pf.queue == MAP_FAILED) {
		int err = errno;
		free(pf.workers);
		return run_fail(run, err, "prefork: mmap of the queue: %s",
				strerror(err));
	}
	for (long i = 0; i < jobs; i++)
		atomic_store(&pf.queue->current[i], -1);

	fork_err = fork_workers(run, &pf, jobs);
	qsort(pf.workers, (size_t)pf.forked, sizeof(*pf.workers), compare_pid);
	while (pf.alive > 0 && !run_stopping()) {
		int got = reap_one(run, &pf, true);
		if (got < 0 && got != -EINTR) {
			run_fail(run, -got, "prefork: wait4: %s",
				 strerror(-got));
			break;
		}
	}
	if (pf.alive > 0)
		stop_workers(run, &pf);
	account_left(run, &pf, fork_err);
	run_cancel_pending(run);
	munmap(pf.queue, pf.queue_bytes);
	free(pf.workers);
	return run->harness_error != 0 && fork_err == 0 ? -1 : 0;
}

const struct strategy strategy_prefork = {
    .name = "prefork",
    .summary = "--jobs worker processes forked once take task ids from a "
	       "shared queue",
    .flags = STRATEGY_FORKS,
    .workloads = WORKLOAD_BIT(WORKLOAD_SLEEP) | WORKLOAD_BIT(WORKLOAD_FILE) |
		 WORKLOAD_BIT(WORKLOAD_HTTP),
    .run = prefork_run,
};
