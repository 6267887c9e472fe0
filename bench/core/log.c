/* log.c - the tutorial's per-task lines:
 *   Time: 09:52:47.014906	 Malloc, Peak: (228400, 240036)		Task 0, PID: .., TID: ..,
 * Delay: 1 seconds... The wall clock is for display only; durations are measured on CLOCK_MONOTONIC
 * elsewhere. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"
#include "log.h"
#include "workload.h"

static _Atomic int log_error; /* the first errno of a failed write, or 0 */

int log_stdout_error(void)
{
	return log_error;
}

void log_write(const char *text, size_t len)
{
	while (len > 0) {
		ssize_t done = write(STDOUT_FILENO, text, len);
		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0) {
			/* remembered for the exit status; the result still counts */
			int none = 0;
			atomic_compare_exchange_strong(&log_error, &none,
						       done < 0 ? errno : EIO);
			return;
		}
		text += done;
		len -= (size_t)done;
	}
}

/* "Time: HH:MM:SS.ffffff\t Malloc, Peak: (current, peak)\t\t" */
static int format_prefix(char *buf, size_t len)
{
	struct timespec now;
	struct tm local;
	uint64_t current = heap_current_bytes();
	uint64_t peak = heap_peak_bytes();

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &local);
	return snprintf(
	    buf, len, "Time: %02d:%02d:%02d.%06ld\t Malloc, Peak: (%" PRIu64 ", %" PRIu64 ")\t\t",
	    local.tm_hour, local.tm_min, local.tm_sec, now.tv_nsec / 1000, current, peak);
}

void log_parent(void)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "Parent PID: %d\n", (int)getpid());
	log_write(line, (size_t)len);
}

void log_task_start(const struct run *run, const struct task *task)
{
	char line[512];
	char what[256];
	int len = format_prefix(line, sizeof(line));

	run->params.workload->describe(run, task, what, sizeof(what));
	len +=
	    snprintf(line + len, sizeof(line) - (size_t)len, "Task %d, PID: %d, TID: %d, %s...\n",
		     task->id, (int)task->pid, (int)task->tid, what);
	log_write(line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

void log_task_done(const struct run *run, const struct task *task)
{
	char line[512];
	int len = format_prefix(line, sizeof(line));

	(void)run;
	if (task->status == TASK_OK && task->bytes > 0)
		len += snprintf(line + len, sizeof(line) - (size_t)len,
				"Task %d: Done. %" PRIu64 " bytes read.\n", task->id, task->bytes);
	else if (task->status == TASK_OK)
		len +=
		    snprintf(line + len, sizeof(line) - (size_t)len, "Task %d: Done.\n", task->id);
	else if (task->status == TASK_CANCELLED)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "Task %d: Cancelled.\n",
				task->id);
	else
		len += snprintf(line + len, sizeof(line) - (size_t)len, "Task %d: Failed: %s\n",
				task->id, task->error);
	log_write(line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}
