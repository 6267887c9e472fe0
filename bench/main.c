/* main.c - iostrat: runs N tasks of one workload under one strategy, prints the
 * tutorial's lines and a summary, and writes the result document. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "result.h"
#include "core/heap.h"
#include "core/log.h"
#include "core/summary.h"
#include "core/workload.h"
#include "core/strategy.h"

/* Descriptors 0-2 closed by the caller (`>&-`) would be taken by the next
 * open(): the result's file would become standard output. /dev/null takes them.
 */
static void open_standard_descriptors(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
			_exit(2);
	}
}

/* Whatever went to standard output reached it: 0, or -1 after a message. A
 * reader that went away (EPIPE: `| head`) is not an error. */
static int check_stdout(void)
{
	int err = fflush(stdout) == EOF ? errno : 0;

	if (err == 0 || err == EPIPE)
		err = log_stdout_error();
	if (err == 0 || err == EPIPE)
		return 0;
	fprintf(stderr, "iostrat: writing standard output: %s\n",
		strerror(err));
	return -1;
}

static const char *why_unavailable(const struct params *params)
{
	static char why[256];
	const struct strategy *strategy = params->strategy;
	const struct workload *workload = params->workload;
	const char *reason;

	if (strategy->unavailable != NULL &&
	    (reason = strategy->unavailable()) != NULL) {
		snprintf(why, sizeof(why), "strategy %s is unavailable: %s",
			 strategy->name, reason);
		return why;
	}
	if (workload->unavailable != NULL &&
	    (reason = workload->unavailable()) != NULL) {
		snprintf(why, sizeof(why), "workload %s is unavailable: %s",
			 workload->name, reason);
		return why;
	}
	if (!(strategy->workloads & WORKLOAD_BIT(workload->kind))) {
		snprintf(
		    why, sizeof(why),
		    "strategy %s cannot run the %s workload in this version",
		    strategy->name, workload->name);
		return why;
	}
	if (strategy->refuses != NULL)
		return strategy->refuses(params);
	return NULL;
}

static int exit_status(const struct run *run, const struct summary *summary)
{
	if (run_stop_signal != 0)
		return 128 + run_stop_signal; /* 130, 143, 129 */
	if (summary->tasks_failed > 0 || run->harness_error != 0 ||
	    run->harness_message[0] != '\0')
		return 1;
	return 0;
}

/* After the run: the workload's cleanup, the summary on stdout, what went wrong
 * on stderr, the result document. Returns the exit status. */
static int report_run(struct run *run, const struct summary_start *start,
		      struct result_file *result)
{
	struct summary summary;
	int status;

	if (run->params.workload->cleanup != NULL)
		run->params.workload->cleanup(run);
	summary_compute(run, start, &summary);
	summary_print(run, &summary, stdout);
	if (run->harness_message[0] != '\0')
		fprintf(stderr, "iostrat: %s\n", run->harness_message);
	if (run_stop_signal != 0)
		fprintf(stderr,
			"iostrat: stopped by %s; %ld of %ld tasks finished\n",
			run_signal_name(run_stop_signal),
			summary.tasks_ok + summary.tasks_failed,
			run->params.tasks);
	status = exit_status(run, &summary);
	if (check_stdout() < 0 && status == 0)
		status = 1;
	if (run->params.json_path != NULL) {
		json_t *doc = summary_document(run, &summary);
		if (doc == NULL || result_commit(result, doc) < 0)
			status = status == 0 ? 1 : status;
		json_decref(doc);
	}
	return status;
}

int main(int argc, char **argv)
{
	struct run run = {0};
	struct result_file result = RESULT_FILE_INIT;
	struct summary_start start;
	const char *why;
	int status = 2; /* bad arguments, nothing ran */
	int err;

	open_standard_descriptors();
	run.heap_at_main_bytes = heap_current_bytes();
	switch (cli_parse(argc, argv, &run.params)) {
	case CLI_DONE:
		status = check_stdout() < 0 ? 1 : 0;
		goto out;
	case CLI_USAGE:
		goto out;
	case CLI_RUN:
		break;
	}
	why = why_unavailable(&run.params);
	if (why != NULL) {
		fprintf(stderr, "iostrat: %s\n", why);
		goto out;
	}
	if (run.params.json_path != NULL &&
	    result_open(&result, run.params.json_path, run.params.urls_file) <
		0)
		goto out;
	err = run_init(&run);
	if (err == 0)
		err = run_install_signals();
	if (err < 0) {
		fprintf(stderr, "iostrat: setting up %ld tasks: %s\n",
			run.params.tasks, strerror(-err));
		goto out;
	}
	if (run.params.workload->prepare != NULL &&
	    run.params.workload->prepare(&run) < 0) {
		if (!run_stopping())
			goto out_cleanup;
		/* Ctrl-C while the file set was made or --urls read: a result
		 * with every task cancelled */
		run_cancel_pending(&run);
		summary_begin(&start);
		run.start_ns = run.end_ns = run_now_ns();
		goto out_result;
	}
	if (!run.params.quiet) {
		log_parent();
		printf("Seed: %llu\n", (unsigned long long)run.params.seed);
		fflush(stdout);
	}

	summary_begin(&start);
	run.start_ns = run_now_ns();
	if (run.params.strategy->run(&run) < 0 &&
	    run.harness_message[0] == '\0')
		run_fail(&run, 0, "%s failed", run.params.strategy_name);
	run.end_ns = run_now_ns();
	run_sample_threads(&run, true);
	run.threads_end = run_count_threads();

out_result:
	status = report_run(&run, &start, &result);
	goto out;

out_cleanup:
	if (run.params.workload->cleanup != NULL)
		run.params.workload->cleanup(&run);
out:
	result_discard(&result);
	run_free(&run);
	return status;
}
