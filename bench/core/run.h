/* run.h - the types every part of iostrat shares: the parameters of a run, one
 * task's record, and the run itself (clock, task table, stop signal, counters
 * that strategies update). */
#ifndef IOSTRAT_RUN_H
#define IOSTRAT_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memory.h"

struct strategy;
struct workload;

enum task_status {
	TASK_PENDING = 0, /* not started (yet) */
	TASK_RUNNING,	  /* started, not finished */
	TASK_OK,	  /* finished and checked */
	TASK_ERROR,	  /* failed: see error */
	TASK_CANCELLED,	  /* stopped by Ctrl-C/SIGTERM, or never started because
			     of it */
};

#define TASK_ERROR_LEN 112

/* One task's record. The table of them lives in a shared mapping, so a forked
 * child writes its own record and the parent reads it after waitpid(). Times
 * are since the run began. */
struct task {
	int id;		  /* 0 .. tasks-1 */
	int status;	  /* enum task_status */
	pid_t pid;	  /* process that ran it */
	pid_t tid;	  /* kernel thread that ran it (gettid) */
	int64_t start_ns; /* monotonic, since run start; -1 when never started
			   */
	int64_t end_ns; /* monotonic, since run start; -1 when never finished */
	int64_t delay_ns; /* sleep: how long; http: how long the server holds it
			   */
	uint64_t bytes;	  /* file and http: bytes read */
	int64_t work_ns;  /* file: in the content check; http: CPU in the parse
			   */
	int threads_seen; /* processes: threads of the child process (kernel
			     count) */
	int http_status;  /* http: response code, 0 when none */
	char error[TASK_ERROR_LEN]; /* what went wrong, "" when ok */
};

enum cache_mode { CACHE_COLD = 0, CACHE_WARM };

/* Everything the command line says. Workload options live here too, so one
 * parser serves all. */
struct params {
	const struct strategy *strategy; /* for the program only: below it, the
					    three below */
	const char *strategy_name;	 /* as typed: for the log and the result
					    document */
	bool serial;		/* the strategy runs one task at a time */
	bool tasks_in_children; /* the strategy runs tasks in child processes */
	bool file_pool; /* the strategy reads files in a pool: --pool, --inline
			 */
	const struct workload *workload;
	long tasks; /* -n */
	long jobs;  /* -j: most tasks in flight; 0 on the command line means
		       "all" */
	bool quiet; /* -q: no per-task lines */
	const char *json_path; /* --json FILE, or NULL */
	uint64_t seed;	       /* --seed, or from the clock */
	bool seed_given;       /* --seed was on the command line */
	/* sleep */
	long max_delay_s; /* --max-delay: delays are whole seconds 0 .. max-1 */
	int64_t delay_ns; /* --delay: one fixed delay for all, -1 when random */
	/* file */
	uint64_t file_size_bytes; /* --size */
	uint64_t block_bytes;	  /* --block */
	const char *dir; /* --dir, or NULL for the per-user cache folder */
	enum cache_mode cache; /* --cache warm|cold */
	long pool_threads;     /* --pool: epoll's file worker threads */
	bool inline_reads; /* --inline: epoll reads files in the loop thread */
	bool use_select;   /* --select: poll waits with select() */
	uint64_t stack_bytes; /* --stack: coroutines: each coroutine's stack */
	bool minimal_switch; /* --switch minimal: coroutines without swapcontext
			      */
	bool check_off;	     /* --check off: the content is not checked */
	/* http */
	const char *url;       /* --url */
	const char *urls_file; /* --urls */
	int64_t timeout_ns;    /* --timeout */
	bool body_discard;     /* --body discard: bodies counted, not parsed */
	char *argv_joined;     /* the command line, for the result document */
};

/* The run: parameters, the task table and what strategies report back. */
struct run {
	struct params params;
	struct task *tasks;	/* params.tasks records, shared mapping */
	size_t tasks_map_bytes; /* size of that mapping */
	int64_t start_ns;	/* CLOCK_MONOTONIC at the start of timing */
	int64_t end_ns;	  /* CLOCK_MONOTONIC when the last task was done */
	pid_t parent_pid; /* the process that runs the strategy */
	uint64_t heap_at_main_bytes; /* heap in use when main() began: the
					libraries' constructors */
	void *workload_state; /* the workload's own state (file set, URL list,
				 ...) */
	/* what the strategy saw, filled in as it goes */
	long inflight;	    /* tasks in flight now (in the parent's view) */
	long inflight_peak; /* most tasks in flight at once */
	long processes;	    /* processes that ran tasks or helped, the parent
			       included */
	long threads_peak;  /* most threads alive at once in one process (kernel
			       count) */
	long threads_end; /* threads of this process when the strategy returned
			   */
	int64_t threads_sampled_ns;    /* when threads were last counted */
	uint64_t rss_children_bytes;   /* sum of reaped children's peak RSS */
	uint64_t stack_reserved_bytes; /* address space reserved for thread
					  stacks, at peak */
	struct memory_run memory;      /* per-process memory, each page once
					  (memory.h) */
	uint64_t stack_resident_bytes; /* of the coroutines' stacks, resident at
					  the end */
	uint64_t coroutine_switches;   /* coroutines: context switches made */
	const char *coroutine_switch;  /* coroutines: "swapcontext" or "minimal"
					*/
	long queue_depth_peak; /* uring: deepest submission queue reached */
	const char *mode;  /* how the strategy ran the workload, e.g. "pool" or
			      "inline" */
	int harness_error; /* errno of a failure that stopped the run early, or
			      0 */
	char harness_message[160]; /* what that failure was */
};

/* The stop flag and descriptor: set by SIGINT/SIGTERM/SIGHUP. run_stop_fd
 * becomes readable then, so anything that waits (ppoll, epoll_wait, io_uring)
 * can wait on it too. The flag is atomic (lock-free, so safe in a signal
 * handler) because every thread reads it. */
extern _Atomic int run_stop_signal;
extern int run_stop_fd;

int64_t run_now_ns(void);
int64_t run_elapsed_ns(const struct run *run);
int run_init(struct run *run);
void run_free(struct run *run);
int run_install_signals(void);
bool run_stopping(void);
/* "SIGINT", "SIGTERM", "SIGHUP": the stop signal's name. */
const char *run_signal_name(int signo);
/* In a child just forked from parent_pid: die with the parent (SIGKILL when
 * it dies; _exit at once when it is already gone). 0 or -errno. */
int run_child_init(pid_t parent_pid);
pid_t run_gettid(void);

/* Record the start / the end of a task in its record and print its line (unless
 * quiet). */
void run_task_started(struct run *run, struct task *task);
void run_task_finished(struct run *run, struct task *task);
/* Mark a task as failed before it could start (fork or thread creation failed,
 * ...). */
void run_task_failed(struct run *run, struct task *task, int err,
		     const char *what);
/* Tasks never started because the run stops: cancelled. */
void run_cancel_pending(struct run *run);

/* Bookkeeping for strategies: in-flight counts and kernel thread counts
 * (rate-limited). */
void run_inflight_add(struct run *run, long delta);
void run_sample_threads(struct run *run, bool force);
/* Count the threads now, after a thread was started: the peak cannot be missed
 * (called by the thread that starts them, after each start). */
void run_thread_started(struct run *run);
int run_count_threads(void);

/* Run one task from start to end with the workload's blocking implementation,
 * in the calling thread: what blocking, processes and threads have in common.
 */
void run_task_blocking(struct run *run, struct task *task);

/* The harness itself broke down (not a task): record err (an errno value, 0
 * when none applies) and the message, printf-style, in run->harness_error and
 * harness_message. Returns -1, so that a strategy can `return run_fail(run,
 * errno, "epoll_ctl");`. */
int run_fail(struct run *run, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tasks in flight that each hold a descriptor (what: "files", "sockets")
 * in this process: --jobs is bounded to the descriptor limit less reserve,
 * and the run says so. Nothing for a strategy whose tasks run in children. */
void run_bound_jobs(struct run *run, long reserve, const char *what);

/* The effective number of tasks in flight the strategy may use. */
long run_jobs(const struct run *run);

#endif
