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
#include "core/heap.h"
#include "core/log.h"
#include "core/summary.h"
#include "core/workload.h"
#include "core/strategy.h"

/* The result file is opened before any task runs, so a folder that cannot be
 * written is found at once; it is written to a temporary name beside it and
 * renamed when complete. */
struct result_file {
	char *final_path; /* what --json named */
	char *temp_path;  /* FILE.tmp.XXXXXX in the same folder */
	int fd;		  /* open on temp_path */
};

static int result_open(struct result_file *file, const char *path)
{
	size_t len = strlen(path) + 16;

	file->final_path = strdup(path);
	file->temp_path = malloc(len);
	if (file->final_path == NULL || file->temp_path == NULL)
		return -ENOMEM;
	snprintf(file->temp_path, len, "%s.tmp.XXXXXX", path);
	file->fd = mkstemp(file->temp_path);
	if (file->fd < 0)
		return -errno;
	fchmod(file->fd, 0644);
	return 0;
}

static void result_discard(struct result_file *file)
{
	if (file->fd >= 0) {
		close(file->fd);
		unlink(file->temp_path);
	}
	free(file->final_path);
	free(file->temp_path);
	file->fd = -1;
	file->final_path = file->temp_path = NULL;
}

static int result_failed(struct result_file *file, int err)
{
	fprintf(stderr, "iostrat: writing %s: %s\n", file->final_path,
		strerror(err));
	unlink(file->temp_path);
	result_discard(file);
	return -1;
}

static int result_commit(struct result_file *file, json_t *doc)
{
	int err = 0;

	/* through a stdio buffer: json_dumpfd() would make a write() of every
	 * fragment */
	FILE *stream = fdopen(file->fd, "w");
	if (stream == NULL)
		return result_failed(file, errno);
	file->fd = -1; /* the stream owns it now */
	errno = 0;
	if (json_dumpf(doc, stream, JSON_INDENT(1) | JSON_REAL_PRECISION(9)) <
		0 ||
	    fputc('\n', stream) == EOF || fflush(stream) == EOF)
		err = errno != 0 ? errno : EIO;
	if (err == 0 && fsync(fileno(stream)) < 0)
		err = errno;
	if (fclose(stream) == EOF && err == 0)
		err = errno;
	if (err == 0 && rename(file->temp_path, file->final_path) < 0)
		err = errno;
	if (err != 0)
		return result_failed(file, err);
	result_discard(file);
	return 0;
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
	return NULL;
}

static int exit_status(const struct run *run, const struct summary *summary)
{
	if (run_stop_signal != 0)
		return 128 + run_stop_signal;
	if (summary->tasks_failed > 0 || run->harness_error != 0 ||
	    run->harness_message[0] != '\0')
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct run run = {0};
	struct result_file result = {.fd = -1};
	struct summary_start start;
	struct summary summary;
	const char *why;
	int status = 2; /* bad arguments, nothing ran */
	int err;

	run.heap_at_main_bytes = heap_current_bytes();
	switch (cli_parse(argc, argv, &run.params)) {
	case CLI_DONE:
		status = 0;
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
	if (run.params.json_path != NULL) {
		err = result_open(&result, run.params.json_path);
		if (err < 0) {
			fprintf(stderr,
				"iostrat: --json %s: cannot write there: %s\n",
				run.params.json_path, strerror(-err));
			goto out;
		}
	}
	err = run_init(&run);
	if (err == 0)
		err = run_install_signals();
	if (err < 0) {
		fprintf(stderr, "iostrat: setting up %ld tasks: %s\n",
			run.params.tasks, strerror(-err));
		goto out;
	}
	if (run.params.workload->prepare != NULL &&
	    run.params.workload->prepare(&run) < 0)
		goto out_cleanup;
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

	if (run.params.workload->cleanup != NULL)
		run.params.workload->cleanup(&run);
	summary_compute(&run, &start, &summary);
	summary_print(&run, &summary, stdout);
	fflush(stdout);
	if (run.harness_message[0] != '\0')
		fprintf(stderr, "iostrat: %s\n", run.harness_message);
	if (run_stop_signal != 0)
		fprintf(stderr,
			"iostrat: stopped by %s; %ld of %ld tasks finished\n",
			run_stop_signal == SIGINT ? "SIGINT" : "SIGTERM",
			summary.tasks_ok + summary.tasks_failed,
			run.params.tasks);

	status = exit_status(&run, &summary);
	if (result.fd >= 0) {
		json_t *doc = summary_document(&run, &summary);
		if (doc == NULL || result_commit(&result, doc) < 0)
			status = status == 0 ? 1 : status;
		json_decref(doc);
	}
	goto out;

out_cleanup:
	if (run.params.workload->cleanup != NULL)
		run.params.workload->cleanup(&run);
out:
	result_discard(&result);
	run_free(&run);
	return status;
}
