/* log.h - the tutorial's lines: one when a task starts, one when it is done, each written with
 * one write() so that lines from processes and threads never interleave mid-line. */
#ifndef IOSTRAT_LOG_H
#define IOSTRAT_LOG_H

#include "run.h"

void log_parent(void);
void log_task_start(const struct run *run, const struct task *task);
void log_task_done(const struct run *run, const struct task *task);
/* One whole line (or several) with one write(), retried on EINTR and short writes. */
void log_write(const char *text, size_t len);
/* The errno of the first write to standard output that failed, or 0. */
int log_stdout_error(void);

#endif
