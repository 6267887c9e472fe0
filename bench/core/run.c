/* run.c - the life of a run: the task table in a shared mapping (so forked
 * children can write their own records), the monotonic clock, the stop signal
 * (SIGINT/SIGTERM -> a flag and an eventfd everyone can wait on), and the
 * bookkeeping every strategy shares. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "workload.h"

_Atomic int run_stop_signal;
int run_stop_fd = -1;

/* Count the kernel's threads at most this often, so counting stays out of the
 * figures. */
#define THREAD_SAMPLE_INTERVAL_NS (10 * 1000000LL)

int64_t run_now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int64_t run_elapsed_ns(const struct run *run)
{
	return run_now_ns() - run->start_ns;
}

static void forget_ids(void);
static int stat_threads(char *buf, ssize_t len);

static void run_register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_ids);
}

/* The kernel's ids of this process and thread, asked once per thread: a system
 * call each time would show up in the event loop's figures. A forked child
 * forgets them. */
static __thread pid_t cached_pid;
static __thread pid_t cached_tid;

static void forget_ids(void)
{
	cached_pid = 0;
	cached_tid = 0;
}

static void remember_ids(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, run_register_atfork);
	if (cached_tid == 0) {
		cached_pid = getpid();
		cached_tid = gettid();
	}
}

pid_t run_gettid(void)
{
	remember_ids();
	return cached_tid;
}

static void run_on_signal(int signo)
{
	int saved_errno = errno;
	uint64_t one = 1;

	int none = 0;
	atomic_compare_exchange_strong(&run_stop_signal, &none, signo);
	if (run_stop_fd >= 0 && write(run_stop_fd, &one, sizeof(one)) < 0) {
		/* nothing to do: the flag is set */
	}
	errno = saved_errno;
}

int run_install_signals(void)
{
	struct sigaction action;

	if (run_stop_fd < 0) {
		run_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (run_stop_fd < 0)
			return -errno;
	}
	memset(&action, 0, sizeof(action));
	action.sa_handler = run_on_signal;
	sigemptyset(&action.sa_mask);
	action.sa_flags = 0; /* no SA_RESTART: a blocking call returns EINTR */
	/* a closed terminal (SIGHUP) stops the run as SIGTERM does: with a
	 * result */
	if (sigaction(SIGINT, &action, NULL) < 0 ||
	    sigaction(SIGTERM, &action, NULL) < 0 ||
	    sigaction(SIGHUP, &action, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

const char *run_signal_name(int signo)
{
	switch (signo) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "a signal";
	}
}

int run_child_init(pid_t parent_pid)
{
	/* the kernel kills this child when the parent dies; and if the parent
	 * died before the call, nobody would: getppid() says so */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	if (getppid() != parent_pid)
		_exit(128 + SIGKILL);
	return 0;
}

bool run_stopping(void)
{
	return run_stop_signal != 0;
}

int run_init(struct run *run)
{
	size_t bytes = (size_t)run->params.tasks * sizeof(struct task);

	run->tasks = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (run->tasks == MAP_FAILED) {
		run->tasks = NULL;
		return -errno;
	}
	run->tasks_map_bytes = bytes;
	for (long i = 0; i < run->params.tasks; i++) {
		struct task *task = &run->tasks[i];
		task->id = (int)i;
		task->status = TASK_PENDING;
		task->start_ns = -1;
		task->end_ns = -1;
	}
	run->parent_pid = getpid();
	run->processes = 1;
	run->threads_peak = 1;
	return memory_run_init(run);
}

void run_free(struct run *run)
{
	if (run->tasks != NULL)
		munmap(run->tasks, run->tasks_map_bytes);
	run->tasks = NULL;
	memory_run_free(run);
	free(run->params.argv_joined);
	run->params.argv_joined = NULL;
}

int run_fail(struct run *run, int err, const char *fmt, ...)
{
	va_list args;

	run->harness_error = err;
	va_start(args, fmt);
	vsnprintf(run->harness_message, sizeof(run->harness_message), fmt,
		  args);
	va_end(args);
	return -1;
}

void run_bound_jobs(struct run *run, long reserve, const char *what)
{
	struct rlimit limit;

	if (run->params.tasks_in_children ||
	    getrlimit(RLIMIT_NOFILE, &limit) < 0 ||
	    limit.rlim_cur == RLIM_INFINITY)
		return;
	long most = (long)limit.rlim_cur - reserve;
	if (most < 1)
		most = 1;
	if (run_jobs(run) <= most)
		return;
	fprintf(stderr,
		"iostrat: --jobs %ld: %s would hold more %s open at once than "
		"the descriptor limit (ulimit -n %ld) allows; running %ld at "
		"once\n",
		run_jobs(run), run->params.strategy_name, what,
		(long)limit.rlim_cur, most);
	run->params.jobs = most;
}

long run_jobs(const struct run *run)
{
	if (run->params.serial)
		return 1;
	return run->params.jobs;
}

void run_task_started(struct run *run, struct task *task)
{
	task->tid = run_gettid();
	task->pid = cached_pid;
	task->status = TASK_RUNNING;
	task->start_ns = run_elapsed_ns(run);
	if (!run->params.quiet)
		log_task_start(run, task);
}

void run_task_finished(struct run *run, struct task *task)
{
	task->end_ns = run_elapsed_ns(run);
	if (task->status == TASK_RUNNING)
		task->status = TASK_OK;
	if (!run->params.quiet)
		log_task_done(run, task);
}

void run_task_failed(struct run *run, struct task *task, int err,
		     const char *what)
{
	(void)run;
	task->status = TASK_ERROR;
	snprintf(task->error, sizeof(task->error), "%s: %s", what,
		 strerror(err));
}

void run_cancel_pending(struct run *run)
{
	for (long i = 0; i < run->params.tasks; i++) {
		if (run->tasks[i].status == TASK_PENDING)
			run->tasks[i].status = TASK_CANCELLED;
	}
}

/* Threads of this process as the kernel counts them: the link count of
 * /proc/self/task is that count plus 2, one O(1) stat() (about 1 us), where
 * /proc/self/stat (field 20, the fallback) sums every thread's times first
 * (0.5 ms with 2,000 threads). */
int run_count_threads(void)
{
	struct stat info;
	char buf[1024];

	if (stat("/proc/self/task", &info) == 0 && info.st_nlink > 2)
		return (int)info.st_nlink - 2;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return stat_threads(buf, len);
}

static int stat_threads(char *buf, ssize_t len)
{
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	char *field = strrchr(buf, ')'); /* the command name may hold spaces */
	if (field == NULL)
		return -1;
	/* after ") ": state(3) ppid(4) ... num_threads is field 20, the 18th
	 * after the name */
	for (int i = 0; i < 18 && field != NULL; i++)
		field = strchr(field + 1, ' ');
	return field != NULL ? atoi(field + 1) : -1;
}

void run_sample_threads(struct run *run, bool force)
{
	int64_t now = run_now_ns();

	if (!force && now - run->threads_sampled_ns < THREAD_SAMPLE_INTERVAL_NS)
		return;
	run->threads_sampled_ns = now;
	int threads = run_count_threads();
	if (threads > run->threads_peak)
		run->threads_peak = threads;
	memory_sample_parent(run, force);
}

void run_thread_started(struct run *run)
{
	/* the count only grows when a thread starts: counted after each start,
	 * the peak cannot be missed */
	int threads = run_count_threads();

	if (threads > run->threads_peak)
		run->threads_peak = threads;
}

void run_inflight_add(struct run *run, long delta)
{
	run->inflight += delta;
	if (run->inflight > run->inflight_peak) {
		run->inflight_peak = run->inflight;
		/* count once when every slot is first busy: the moment threads
		 * peak */
		if (run->inflight_peak == run_jobs(run))
			run_sample_threads(run, true);
	}
	if (delta > 0)
		run_sample_threads(run, false);
	else
		memory_task_done(run);
}

void run_task_blocking(struct run *run, struct task *task)
{
	run_task_started(run, task);
	memory_task_running(run, 1);
	if (run_stopping())
		task->status = TASK_CANCELLED;
	else
		run->params.workload->task_run(run, task);
	memory_task_running(run, -1);
	run_task_finished(run, task);
}
