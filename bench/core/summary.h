/* summary.h - what a run adds up to: times, CPU, memory, threads, latencies; printed for
 * people and written as the result document (jansson) for scripts. */
#ifndef IOSTRAT_SUMMARY_H
#define IOSTRAT_SUMMARY_H

#include <stdio.h>
#include <sys/resource.h>
#include <jansson.h>

#include "run.h"

struct summary {
	double wall_s;		  /* first task started .. last task done, monotonic */
	double ideal_s;		  /* the same tasks on --jobs slots at no cost; <0 when unknown */
	double user_s, sys_s;	  /* CPU of the run, this process and its reaped children */
	long ctx_voluntary;	  /* context switches: waits */
	long ctx_involuntary;	  /* context switches: preemptions */
	uint64_t heap_peak_bytes; /* heap peak of the parent process during the run */
	uint64_t heap_end_bytes;  /* heap in use when the run ended */
	uint64_t rss_peak_parent_bytes; /* the parent's peak resident memory */
	uint64_t rss_sum_peak_bytes;	/* every process's peak RSS, added: shared
					   pages counted once per process */
	struct memory_summary memory;	/* each page once (memory.h) */
	long tasks_ok, tasks_failed, tasks_cancelled;
	double latency_p50_s, latency_p90_s, latency_p99_s, latency_max_s; /* task durations */
	long latency_count; /* tasks that have a duration */
	long inflight_peak; /* most tasks between their start and end at one moment */
};

/* The resource usage of the process and its children when the run began. */
struct summary_start {
	struct rusage self;	/* getrusage(RUSAGE_SELF) */
	struct rusage children; /* getrusage(RUSAGE_CHILDREN) */
};

void summary_begin(struct summary_start *start);
void summary_compute(const struct run *run, const struct summary_start *start, struct summary *out);
void summary_print(const struct run *run, const struct summary *summary, FILE *out);
/* The whole result document. */
json_t *summary_document(const struct run *run, const struct summary *summary);
/* Ideal time of tasks with known durations, started in order on `jobs` slots. */
double summary_ideal_s(const int64_t *durations_ns, long count, long jobs);
/* The most of these intervals that overlap at one moment (an end at t comes before a start
 * at t). -1 for a task that never started or finished. */
long summary_max_overlap(const int64_t *starts_ns, const int64_t *ends_ns, long count);
/* The q-th percentile (0..100) of sorted values, nearest rank. */
double summary_percentile(const double *sorted, long count, double q);

#endif
