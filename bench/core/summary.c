/* summary.c - adds a run up (getrusage before and after, percentiles of task durations, the
 * ideal schedule) and writes it out: a few lines for people, a jansson document for scripts. */
#include <curl/curl.h>
#include <gnu/libc-version.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"
#include "memory.h"
#include "minheap.h"
#include "summary.h"
#include "version.h"
#include "workload.h"

static double timeval_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void summary_begin(struct summary_start *start)
{
	getrusage(RUSAGE_SELF, &start->self);
	getrusage(RUSAGE_CHILDREN, &start->children);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double summary_percentile(const double *sorted, long count, double q)
{
	if (count <= 0)
		return 0;
	long rank = (long)((q / 100.0) * (double)count + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	return sorted[rank - 1];
}

static int compare_event(const void *a, const void *b)
{
	const int64_t *x = a, *y = b; /* {time, +1 start / -1 end} */
	if (x[0] != y[0])
		return (x[0] > y[0]) - (x[0] < y[0]);
	return (x[1] > y[1]) - (x[1] < y[1]); /* ends first */
}

long summary_max_overlap(const int64_t *starts_ns, const int64_t *ends_ns, long count)
{
	int64_t(*events)[2] = malloc((size_t)count * 2 * sizeof(*events));
	long n = 0, now = 0, peak = 0;

	if (events == NULL)
		return -1;
	for (long i = 0; i < count; i++) {
		if (starts_ns[i] < 0 || ends_ns[i] < 0)
			continue;
		events[n][0] = starts_ns[i];
		events[n++][1] = 1;
		events[n][0] = ends_ns[i];
		events[n++][1] = -1;
	}
	qsort(events, (size_t)n, sizeof(*events), compare_event);
	for (long i = 0; i < n; i++) {
		now += events[i][1];
		if (now > peak)
			peak = now;
	}
	free(events);
	return peak;
}

double summary_ideal_s(const int64_t *durations_ns, long count, long jobs)
{
	struct minheap free_at; /* when each slot comes free */
	int64_t makespan = 0;

	if (jobs >= count) {
		for (long i = 0; i < count; i++)
			if (durations_ns[i] > makespan)
				makespan = durations_ns[i];
		return (double)makespan / 1e9;
	}
	if (minheap_init(&free_at, (size_t)jobs) < 0)
		return -1;
	for (long slot = 0; slot < jobs; slot++)
		minheap_push(&free_at, 0, slot);
	for (long i = 0; i < count; i++) {
		struct minheap_item slot = minheap_pop(&free_at);
		int64_t done = slot.key + durations_ns[i];
		if (done > makespan)
			makespan = done;
		minheap_push(&free_at, done, slot.value);
	}
	minheap_free(&free_at);
	return (double)makespan / 1e9;
}

void summary_compute(const struct run *run, const struct summary_start *start, struct summary *out)
{
	struct rusage self, children;
	long tasks = run->params.tasks;

	memset(out, 0, sizeof(*out));
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	out->wall_s = (double)(run->end_ns - run->start_ns) / 1e9;
	out->user_s = timeval_s(self.ru_utime) - timeval_s(start->self.ru_utime) +
		      timeval_s(children.ru_utime) - timeval_s(start->children.ru_utime);
	out->sys_s = timeval_s(self.ru_stime) - timeval_s(start->self.ru_stime) +
		     timeval_s(children.ru_stime) - timeval_s(start->children.ru_stime);
	out->ctx_voluntary =
	    self.ru_nvcsw - start->self.ru_nvcsw + children.ru_nvcsw - start->children.ru_nvcsw;
	out->ctx_involuntary =
	    self.ru_nivcsw - start->self.ru_nivcsw + children.ru_nivcsw - start->children.ru_nivcsw;
	out->heap_peak_bytes = heap_peak_bytes();
	out->heap_end_bytes = heap_current_bytes();
	out->rss_peak_parent_bytes = (uint64_t)self.ru_maxrss * 1024;
	out->rss_sum_peak_bytes =
	    out->rss_peak_parent_bytes + run->rss_children_bytes;
	memory_summarize(run, &out->memory);

	double *durations = malloc((size_t)tasks * sizeof(*durations));
	int64_t *ideal = malloc((size_t)tasks * sizeof(*ideal));
	int64_t *starts = malloc((size_t)tasks * sizeof(*starts));
	int64_t *ends = malloc((size_t)tasks * sizeof(*ends));
	for (long i = 0; i < tasks; i++) {
		const struct task *task = &run->tasks[i];
		if (task->status == TASK_OK)
			out->tasks_ok++;
		else if (task->status == TASK_CANCELLED)
			out->tasks_cancelled++;
		else
			out->tasks_failed++;
		if (durations != NULL && task->start_ns >= 0 && task->end_ns >= 0)
			durations[out->latency_count++] =
			    (double)(task->end_ns - task->start_ns) / 1e9;
		if (ideal != NULL)
			ideal[i] = task->delay_ns;
		if (starts != NULL && ends != NULL) {
			starts[i] = task->start_ns;
			ends[i] = task->end_ns;
		}
	}
	/* what was achieved, from the records: a strategy's own count of tasks "in flight"
	 * includes the finished ones it has not yet reaped or joined */
	out->inflight_peak = starts != NULL && ends != NULL
				 ? summary_max_overlap(starts, ends, tasks)
				 : run->inflight_peak;
	if (durations != NULL) {
		qsort(durations, (size_t)out->latency_count, sizeof(*durations), compare_double);
		out->latency_p50_s = summary_percentile(durations, out->latency_count, 50);
		out->latency_p90_s = summary_percentile(durations, out->latency_count, 90);
		out->latency_p99_s = summary_percentile(durations, out->latency_count, 99);
		out->latency_max_s = out->latency_count > 0 ? durations[out->latency_count - 1] : 0;
	}
	out->ideal_s = -1;
	if (ideal != NULL && run->params.workload->delays_known)
		out->ideal_s = summary_ideal_s(ideal, tasks, run_jobs(run));
	free(durations);
	free(ideal);
	free(starts);
	free(ends);
}

static void print_bytes(FILE *out, const char *label, uint64_t bytes)
{
	if (bytes >= 10u * 1024 * 1024)
		fprintf(out, "%s %.1f MiB", label, (double)bytes / 1048576.0);
	else if (bytes >= 10u * 1024)
		fprintf(out, "%s %.1f KiB", label, (double)bytes / 1024.0);
	else
		fprintf(out, "%s %" PRIu64 " bytes", label, bytes);
}

void summary_print(const struct run *run, const struct summary *s, FILE *out)
{
	const struct params *p = &run->params;

	fprintf(out,
		"Summary: %s x %s%s%s, %ld tasks (%ld ok, %ld failed, %ld cancelled), jobs %ld, "
		"seed %" PRIu64 "\n",
		p->strategy_name, p->workload->name, run->mode != NULL ? " " : "",
		run->mode != NULL ? run->mode : "", p->tasks, s->tasks_ok, s->tasks_failed,
		s->tasks_cancelled, run_jobs(run), p->seed);
	fprintf(out, "  wall %.6f s", s->wall_s);
	if (s->ideal_s >= 0)
		fprintf(out, ", ideal %.6f s, overhead %.3f ms (%.3f us per task)", s->ideal_s,
			(s->wall_s - s->ideal_s) * 1e3,
			(s->wall_s - s->ideal_s) * 1e6 / (double)p->tasks);
	fprintf(
	    out,
	    "\n  CPU user %.3f s, sys %.3f s; context switches %ld voluntary, %ld involuntary\n",
	    s->user_s, s->sys_s, s->ctx_voluntary, s->ctx_involuntary);
	if (heap_measured()) {
		print_bytes(out, "  heap peak", s->heap_peak_bytes);
		print_bytes(out, " (at main()", run->heap_at_main_bytes);
		print_bytes(out, ", at the end", s->heap_end_bytes);
		fprintf(out, ")\n");
	} else {
		fprintf(out, "  heap not measured in this build (sanitizer)\n");
	}
	memory_print(run, &s->memory, s->rss_sum_peak_bytes, out);
	fprintf(out, "  threads peak %ld in one process; tasks in flight peak %ld",
		run->threads_peak, s->inflight_peak);
	if (run->stack_reserved_bytes > 0)
		print_bytes(out, "; thread stacks reserve", run->stack_reserved_bytes);
	if (run->stack_resident_bytes > 0)
		print_bytes(out, ", resident", run->stack_resident_bytes);
	else if (run->stack_reserved_bytes > 0 && run->memory.on)
		print_bytes(out, ", resident",
			    run->memory.stack_resident_bytes);
	if (run->queue_depth_peak > 0)
		fprintf(out, "; queue depth peak %ld", run->queue_depth_peak);
	fprintf(out, "\n  task time p50 %.6f s, p90 %.6f s, p99 %.6f s, max %.6f s\n",
		s->latency_p50_s, s->latency_p90_s, s->latency_p99_s, s->latency_max_s);
	if (p->workload->print_summary != NULL)
		p->workload->print_summary(run);
}

static json_t *seconds_or_null(int64_t ns)
{
	return ns >= 0 ? json_real((double)ns / 1e9) : json_null();
}

static json_t *host_document(void)
{
	json_t *host = json_object();
	struct utsname uts;
	char line[512];
	char text[320];

	if (uname(&uts) == 0) {
		json_object_set_new(host, "hostname", json_string(uts.nodename));
		snprintf(text, sizeof(text), "%s %s %s", uts.sysname, uts.release, uts.machine);
		json_object_set_new(host, "kernel", json_string(text));
	}
	json_object_set_new(host, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_t *model = json_null();
	FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
	while (cpuinfo != NULL && fgets(line, sizeof(line), cpuinfo) != NULL) {
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
			char *value = strchr(line, ':') + 2;
			value[strcspn(value, "\n")] = '\0';
			json_decref(model);
			model = json_string(value);
			break;
		}
	}
	if (cpuinfo != NULL)
		fclose(cpuinfo);
	json_object_set_new(host, "cpu_model", model);
	json_object_set_new(
	    host, "memory_bytes",
	    json_integer((json_int_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE)));
	json_object_set_new(host, "compiler", json_string(IOSTRAT_COMPILER));
	snprintf(text, sizeof(text), "glibc %s", gnu_get_libc_version());
	json_object_set_new(host, "libc", json_string(text));
	json_object_set_new(host, "libcurl",
			    json_string(curl_version_info(CURLVERSION_NOW)->version));
	json_object_set_new(host, "jansson", json_string(JANSSON_VERSION));
	const char *liburing = IOSTRAT_LIBURING_VERSION;
	json_object_set_new(host, "liburing",
			    liburing != NULL ? json_string(liburing) : json_null());
	const char *libuv = IOSTRAT_LIBUV_VERSION;
	json_object_set_new(host, "libuv",
			    libuv != NULL ? json_string(libuv) : json_null());
	json_object_set_new(host, "commit", json_string(IOSTRAT_COMMIT));
	return host;
}

static const char *status_name(int status)
{
	switch (status) {
	case TASK_OK:
		return "ok";
	case TASK_CANCELLED:
		return "cancelled";
	default:
		return "error";
	}
}

json_t *summary_document(const struct run *run, const struct summary *s)
{
	const struct params *p = &run->params;
	json_t *doc = json_object();
	json_t *params = json_object();
	json_t *summary = json_object();
	json_t *latency = json_object();
	json_t *tasks = json_array();
	char when[64];
	struct timespec now;
	struct tm utc;

	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec -= (time_t)s->wall_s; /* roughly when the run began: display only */
	gmtime_r(&now.tv_sec, &utc);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);

	json_object_set_new(doc, "iostrat_version", json_string(IOSTRAT_VERSION));
	json_object_set_new(doc, "strategy", json_string(p->strategy_name));
	json_object_set_new(doc, "workload", json_string(p->workload->name));
	json_object_set_new(doc, "mode", run->mode != NULL ? json_string(run->mode) : json_null());
	json_object_set_new(doc, "command",
			    json_string(p->argv_joined != NULL ? p->argv_joined : ""));
	json_object_set_new(doc, "started_at", json_string(when));
	json_object_set_new(doc, "interrupted",
			    run_stop_signal != 0
				? json_string(run_signal_name(run_stop_signal))
				: json_null());
	json_object_set_new(doc, "harness_error",
			    run->harness_message[0] != '\0' ? json_string(run->harness_message)
							    : json_null());

	json_object_set_new(params, "tasks", json_integer(p->tasks));
	json_object_set_new(params, "jobs", json_integer(run_jobs(run)));
	/* jansson's integers are signed 64-bit: a seed from 2^63 is a string of
	 * its digits, never a negative number */
	if (p->seed <= (uint64_t)INT64_MAX) {
		json_object_set_new(params, "seed", json_integer((json_int_t)p->seed));
	} else {
		char digits[24];
		snprintf(digits, sizeof(digits), "%" PRIu64, p->seed);
		json_object_set_new(params, "seed", json_string(digits));
	}
	json_object_set_new(params, "quiet", json_boolean(p->quiet));
	if (p->workload->params_json != NULL)
		p->workload->params_json(run, params);
	json_object_set_new(doc, "params", params);
	json_object_set_new(doc, "host", host_document());

	json_object_set_new(summary, "wall_s", json_real(s->wall_s));
	json_object_set_new(summary, "ideal_s",
			    s->ideal_s >= 0 ? json_real(s->ideal_s) : json_null());
	json_object_set_new(summary, "overhead_s",
			    s->ideal_s >= 0 ? json_real(s->wall_s - s->ideal_s) : json_null());
	json_object_set_new(summary, "user_s", json_real(s->user_s));
	json_object_set_new(summary, "sys_s", json_real(s->sys_s));
	json_object_set_new(summary, "ctx_voluntary", json_integer(s->ctx_voluntary));
	json_object_set_new(summary, "ctx_involuntary", json_integer(s->ctx_involuntary));
	json_object_set_new(summary, "heap_measured", json_boolean(heap_measured()));
	json_object_set_new(summary, "heap_peak_bytes",
			    heap_measured() ? json_integer((json_int_t)s->heap_peak_bytes)
					    : json_null());
	json_object_set_new(summary, "heap_end_bytes",
			    heap_measured() ? json_integer((json_int_t)s->heap_end_bytes)
					    : json_null());
	json_object_set_new(summary, "heap_at_main_bytes",
			    heap_measured() ? json_integer((json_int_t)run->heap_at_main_bytes)
					    : json_null());
	json_object_set_new(summary, "rss_peak_parent_bytes",
			    json_integer((json_int_t)s->rss_peak_parent_bytes));
	json_object_set_new(summary, "rss_sum_peak_bytes",
			    json_integer((json_int_t)s->rss_sum_peak_bytes));
	memory_json_summary(run, &s->memory, summary);
	if (run->coroutine_switches > 0)
		json_object_set_new(summary, "coroutine_switches",
				    json_integer((json_int_t)run->coroutine_switches));
	if (run->coroutine_switch != NULL)
		json_object_set_new(summary, "coroutine_switch",
				    json_string(run->coroutine_switch));
	json_object_set_new(summary, "processes", json_integer(run->processes));
	json_object_set_new(summary, "threads_peak", json_integer(run->threads_peak));
	json_object_set_new(summary, "threads_end", json_integer(run->threads_end));
	json_object_set_new(summary, "inflight_peak", json_integer(s->inflight_peak));
	if (run->queue_depth_peak > 0)
		json_object_set_new(summary, "queue_depth_peak",
				    json_integer(run->queue_depth_peak));
	json_object_set_new(summary, "tasks_ok", json_integer(s->tasks_ok));
	json_object_set_new(summary, "tasks_failed", json_integer(s->tasks_failed));
	json_object_set_new(summary, "tasks_cancelled", json_integer(s->tasks_cancelled));
	json_object_set_new(latency, "p50", json_real(s->latency_p50_s));
	json_object_set_new(latency, "p90", json_real(s->latency_p90_s));
	json_object_set_new(latency, "p99", json_real(s->latency_p99_s));
	json_object_set_new(latency, "max", json_real(s->latency_max_s));
	json_object_set_new(summary, "latency_s", latency);
	if (p->workload->summary_json != NULL)
		p->workload->summary_json(run, summary);
	json_object_set_new(doc, "summary", summary);

	for (long i = 0; i < p->tasks; i++) {
		const struct task *task = &run->tasks[i];
		json_t *entry = json_object();
		json_object_set_new(entry, "id", json_integer(task->id));
		json_object_set_new(entry, "pid",
				    task->pid > 0 ? json_integer(task->pid) : json_null());
		json_object_set_new(entry, "tid",
				    task->tid > 0 ? json_integer(task->tid) : json_null());
		json_object_set_new(entry, "start_s", seconds_or_null(task->start_ns));
		json_object_set_new(entry, "end_s", seconds_or_null(task->end_ns));
		json_object_set_new(entry, "status", json_string(status_name(task->status)));
		json_object_set_new(entry, "error",
				    task->error[0] != '\0' ? json_string(task->error)
							   : json_null());
		json_object_set_new(entry, "delay_s", json_real((double)task->delay_ns / 1e9));
		json_object_set_new(entry, "bytes", json_integer((json_int_t)task->bytes));
		if (task->http_status != 0)
			json_object_set_new(entry, "http_status", json_integer(task->http_status));
		memory_json_task(run, task, entry);
		json_array_append_new(tasks, entry);
	}
	json_object_set_new(doc, "tasks", tasks);
	return doc;
}
