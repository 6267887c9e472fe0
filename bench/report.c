/* report.c - iostrat-report: turns a bench folder (meta.tsv, steps.tsv, iostrat's result documents,
 * hyperfine's exports, iostrat-bare's figures) into gnuplot data tables, report.md and index.html.
 * Every sentence with a number in it is computed here from those files; nothing is typed in.
 *
 *   iostrat-report data DIR       write the tables in DIR/data/ and DIR/data/vars.gp for charts.gp
 *   iostrat-report report DIR     write DIR/report.md and DIR/index.html
 *   iostrat-report get FILE PATH  print one value of a JSON document (PATH: summary.wall_s)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#define REPORT_MAX_STRATEGIES 16
#define REPORT_MAX_WORKLOADS 8
#define REPORT_MAX_COUNTS 32

/* Okabe-Ito colours, safe for colour-blind readers: one per process or thread in a timeline. */
static const unsigned report_task_colours[] = {
    0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7, 0x56B4E9, 0xD55E00, 0xF0E442,
};

/* ---- small helpers ------------------------------------------------------------------------ */

static void *report_xmalloc(size_t size)
{
	void *p = calloc(1, size);

	if (p == NULL) {
		fprintf(stderr, "iostrat-report: out of memory\n");
		exit(1);
	}
	return p;
}

static char *report_xstrdup(const char *s)
{
	char *p = report_xmalloc(strlen(s) + 1);

	memcpy(p, s, strlen(s) + 1);
	return p;
}

/* A growable string. */
struct sbuf {
	char *text; /* NUL-terminated */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
};

static void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (sb->len + (size_t)need + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;

		while (sb->len + (size_t)need + 1 > cap)
			cap *= 2;
		sb->text = realloc(sb->text, cap);
		if (sb->text == NULL) {
			fprintf(stderr, "iostrat-report: out of memory\n");
			exit(1);
		}
		sb->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(sb->text + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	sb->len += (size_t)need;
}

static const char *sbuf_text(const struct sbuf *sb)
{
	return sb->text ? sb->text : "";
}

static void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->text)
		sb->text[0] = '\0';
}

/* "1,000" */
static const char *fmt_count(long n, char *buf, size_t len)
{
	char digits[32];
	size_t nd, o = 0;

	snprintf(digits, sizeof(digits), "%ld", n < 0 ? -n : n);
	nd = strlen(digits);
	if (n < 0 && o + 1 < len)
		buf[o++] = '-';
	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		buf[o++] = digits[i];
		if ((nd - i - 1) % 3 == 0 && i + 1 < nd)
			buf[o++] = ',';
	}
	buf[o] = '\0';
	return buf;
}

/* A duration with a unit that suits it: "48.2 ms". */
static const char *fmt_seconds(double s, char *buf, size_t len)
{
	double a = fabs(s);

	if (isnan(s))
		snprintf(buf, len, "–");
	else if (a >= 1.0)
		snprintf(buf, len, "%.2f s", s);
	else if (a >= 1e-3)
		snprintf(buf, len, "%.3g ms", s * 1e3);
	else
		snprintf(buf, len, "%.3g µs", s * 1e6);
	return buf;
}

static const char *fmt_bytes(double b, char *buf, size_t len)
{
	double a = fabs(b);

	if (isnan(b))
		snprintf(buf, len, "–");
	else if (a >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else if (a >= 1024.0 * 1024)
		snprintf(buf, len, "%.1f MiB", b / (1024.0 * 1024));
	else if (a >= 1024.0)
		snprintf(buf, len, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, len, "%.0f bytes", b);
	return buf;
}

static const char *fmt_ratio(double r, char *buf, size_t len)
{
	if (isnan(r))
		snprintf(buf, len, "–");
	else if (r >= 10)
		snprintf(buf, len, "%.0f×", r);
	else if (r >= 0.1)
		snprintf(buf, len, "%.1f×", r);
	else
		snprintf(buf, len, "%.2g×", r);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* A value of a JSON document by a dotted path ("summary.latency_s.p50", "tasks.0.pid"). */
static json_t *json_path(json_t *root, const char *path)
{
	char key[128];
	const char *p = path;
	json_t *node = root;

	while (node != NULL && *p != '\0') {
		size_t n = strcspn(p, ".");
		char *end;

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (json_is_array(node)) {
			long i = strtol(key, &end, 10);

			node = (*end == '\0') ? json_array_get(node, (size_t)i) : NULL;
		} else {
			node = json_object_get(node, key);
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return node;
}

static double json_num(json_t *root, const char *path)
{
	json_t *v = root ? json_path(root, path) : NULL;

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *json_str(json_t *root, const char *path)
{
	json_t *v = root ? json_path(root, path) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- what a bench folder holds ------------------------------------------------------------ */

struct meta_entry {
	char *key;   /* as in meta.tsv */
	char *value; /* the rest of the line */
};

struct step {
	char *kind;	/* sweep | demo | timeline | hyperfine | bare */
	char *workload; /* or "-" */
	char *strategy; /* or "-" */
	long count;	/* tasks, 0 for "-" */
	char *status;	/* ok | skipped | failed */
	char *file;	/* result document, relative to the folder, or "-" */
	char *reason;	/* why skipped or failed, or "-" */
	json_t *doc;	/* the parsed result document, or NULL */
};

/* One command's timings pooled over every hyperfine round. */
struct timing {
	int runs;	 /* runs pooled */
	int failed_runs; /* runs that exited non-zero */
	int rounds;	 /* hyperfine invocations it appeared in */
	double *times_s; /* every run's wall time */
	double median_s, mean_s, stddev_s, min_s, max_s;
};

/* One strategy on one workload at one task count. */
struct cell {
	const struct step *step; /* the sweep step, or NULL when not planned */
	struct timing timing;	 /* hyperfine, runs == 0 when not timed */
};

struct bench {
	const char *dir;
	struct meta_entry *meta;
	size_t meta_len;
	struct step *steps;
	size_t steps_len;
	char *strategies[REPORT_MAX_STRATEGIES];
	int nstrategies;
	char *workloads[REPORT_MAX_WORKLOADS];
	int nworkloads;
	long counts[REPORT_MAX_WORKLOADS][REPORT_MAX_COUNTS]; /* sorted, per workload */
	int ncounts[REPORT_MAX_WORKLOADS];
	struct cell cells[REPORT_MAX_WORKLOADS][REPORT_MAX_STRATEGIES][REPORT_MAX_COUNTS];
	json_t *bare[3];     /* fork, thread, timer */
	json_t *host;	     /* the host object of the first result document */
	int hyperfine_files; /* exports read */
};

static const char *const report_bare_names[3] = {"fork", "thread", "timer"};

/* The tutorial's own Python programs (scripts/python/iostrat-py), each beside the C strategy that
 * waits the same way: it is compared with that one, and drawn in its colour with a dash of its
 * own. */
static const struct report_python_pair {
	const char *python; /* the Python program's strategy */
	const char *c;	    /* iostrat's strategy that waits the same way */
} report_python_pairs[] = {
    {.python = "python-blocking", .c = "blocking"},
    {.python = "python-processes", .c = "processes"},
    {.python = "python-threads", .c = "threads"},
    {.python = "python-asyncio", .c = "epoll"},
};

#define REPORT_PYTHON_PAIRS (sizeof(report_python_pairs) / sizeof(*report_python_pairs))

/* The C strategy a Python strategy is compared with, or NULL for a C strategy. */
static const char *python_partner(const char *strategy)
{
	for (size_t i = 0; i < REPORT_PYTHON_PAIRS; i++) {
		if (strcmp(report_python_pairs[i].python, strategy) == 0)
			return report_python_pairs[i].c;
	}
	return NULL;
}

static bool is_python(const char *strategy)
{
	return python_partner(strategy) != NULL || strncmp(strategy, "python-", 7) == 0;
}

static const char *meta_get(const struct bench *b, const char *key)
{
	for (size_t i = 0; i < b->meta_len; i++) {
		if (strcmp(b->meta[i].key, key) == 0)
			return b->meta[i].value;
	}
	return NULL;
}

static const char *meta_or(const struct bench *b, const char *key, const char *fallback)
{
	const char *v = meta_get(b, key);

	return (v && *v) ? v : fallback;
}

static double meta_num(const struct bench *b, const char *key)
{
	const char *v = meta_get(b, key);

	return v ? strtod(v, NULL) : NAN;
}

/* Split "a b c" into words, adding each new one to list. */
static void add_words(const char *text, char **list, int *n, int max)
{
	char *copy = report_xstrdup(text ? text : "");
	char *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		bool seen = false;

		for (int i = 0; i < *n; i++)
			seen = seen || strcmp(list[i], w) == 0;
		if (!seen && *n < max)
			list[(*n)++] = report_xstrdup(w);
	}
	free(copy);
}

static int strategy_index(const struct bench *b, const char *name)
{
	for (int i = 0; i < b->nstrategies; i++) {
		if (strcmp(b->strategies[i], name) == 0)
			return i;
	}
	return -1;
}

static int workload_index(const struct bench *b, const char *name)
{
	for (int i = 0; i < b->nworkloads; i++) {
		if (strcmp(b->workloads[i], name) == 0)
			return i;
	}
	return -1;
}

static int count_index(const struct bench *b, int w, long count)
{
	for (int i = 0; i < b->ncounts[w]; i++) {
		if (b->counts[w][i] == count)
			return i;
	}
	return -1;
}

static void add_count(struct bench *b, int w, long count)
{
	int n = b->ncounts[w], i;

	if (count <= 0 || count_index(b, w, count) >= 0 || n >= REPORT_MAX_COUNTS)
		return;
	for (i = n; i > 0 && b->counts[w][i - 1] > count; i--)
		b->counts[w][i] = b->counts[w][i - 1];
	b->counts[w][i] = count;
	b->ncounts[w] = n + 1;
}

static struct cell *cell_at(struct bench *b, const char *workload, const char *strategy, long count)
{
	int w = workload_index(b, workload), s = strategy_index(b, strategy), c;

	if (w < 0 || s < 0)
		return NULL;
	c = count_index(b, w, count);
	return c < 0 ? NULL : &b->cells[w][s][c];
}

/* Split a line at tabs, in place; returns the number of fields. */
static int split_tabs(char *line, char **fields, int max)
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	while (n < max) {
		fields[n++] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

/* Open one of the run folder's tables (meta.tsv, steps.tsv), saying which when it cannot. */
static FILE *open_table(const struct bench *b, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", b->dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		fprintf(stderr, "iostrat-report: open %s: %s\n", path, strerror(errno));
	return f;
}

static int load_meta(struct bench *b)
{
	char line[8192];
	FILE *f = open_table(b, "meta.tsv");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fields[2];

		if (split_tabs(line, fields, 2) < 2)
			continue;
		b->meta = realloc(b->meta, (b->meta_len + 1) * sizeof(*b->meta));
		b->meta[b->meta_len].key = report_xstrdup(fields[0]);
		b->meta[b->meta_len].value = report_xstrdup(fields[1]);
		b->meta_len++;
	}
	fclose(f);
	/* later lines win (status, finished_at): reverse so that meta_get finds them first */
	for (size_t i = 0; i < b->meta_len / 2; i++) {
		struct meta_entry t = b->meta[i];

		b->meta[i] = b->meta[b->meta_len - 1 - i];
		b->meta[b->meta_len - 1 - i] = t;
	}
	return 0;
}

static json_t *load_json(const char *dir, const char *rel)
{
	char path[4096];
	json_error_t err;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	doc = json_load_file(path, 0, &err);
	if (doc == NULL)
		fprintf(stderr, "iostrat-report: %s: %s (line %d)\n", path, err.text, err.line);
	return doc;
}

static int load_steps(struct bench *b)
{
	char line[8192];
	FILE *f = open_table(b, "steps.tsv");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fl[7];
		struct step *st;

		if (split_tabs(line, fl, 7) < 7)
			continue;
		b->steps = realloc(b->steps, (b->steps_len + 1) * sizeof(*b->steps));
		st = &b->steps[b->steps_len++];
		st->kind = report_xstrdup(fl[0]);
		st->workload = report_xstrdup(fl[1]);
		st->strategy = report_xstrdup(fl[2]);
		st->count = strtol(fl[3], NULL, 10);
		st->status = report_xstrdup(fl[4]);
		st->file = report_xstrdup(fl[5]);
		st->reason = report_xstrdup(fl[6]);
		st->doc = strcmp(st->file, "-") ? load_json(b->dir, st->file) : NULL;
		if (st->doc && b->host == NULL)
			b->host = json_object_get(st->doc, "host");
	}
	fclose(f);
	return 0;
}

static void timing_add(struct timing *t, json_t *result)
{
	json_t *times = json_object_get(result, "times");
	json_t *codes = json_object_get(result, "exit_codes");
	size_t n = json_array_size(times);

	t->times_s = realloc(t->times_s, (size_t)(t->runs + (int)n + 1) * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		t->times_s[t->runs++] = json_number_value(json_array_get(times, i));
		if (json_integer_value(json_array_get(codes, i)) != 0)
			t->failed_runs++;
	}
	t->rounds++;
}

static void timing_finish(struct timing *t)
{
	double sum = 0, sq = 0;

	if (t->runs == 0)
		return;
	qsort(t->times_s, (size_t)t->runs, sizeof(double), cmp_double);
	for (int i = 0; i < t->runs; i++)
		sum += t->times_s[i];
	t->mean_s = sum / t->runs;
	for (int i = 0; i < t->runs; i++)
		sq += (t->times_s[i] - t->mean_s) * (t->times_s[i] - t->mean_s);
	t->stddev_s = t->runs > 1 ? sqrt(sq / (t->runs - 1)) : 0;
	t->min_s = t->times_s[0];
	t->max_s = t->times_s[t->runs - 1];
	t->median_s = (t->runs % 2) ? t->times_s[t->runs / 2]
				    : (t->times_s[t->runs / 2 - 1] + t->times_s[t->runs / 2]) / 2;
}

/* hyperfine/<workload>-n<count>-r<round>.json, commands named "<workload>/<strategy>/<count>". */
static void load_hyperfine(struct bench *b)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/hyperfine", b->dir);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char rel[512];
		json_t *doc, *results;
		size_t n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(rel, sizeof(rel), "hyperfine/%s", de->d_name);
		doc = load_json(b->dir, rel);
		if (doc == NULL)
			continue;
		b->hyperfine_files++;
		results = json_object_get(doc, "results");
		for (size_t i = 0; i < json_array_size(results); i++) {
			json_t *r = json_array_get(results, i);
			const char *name = json_str(r, "command");
			char w[64], s[64];
			long c;
			struct cell *cell;

			if (name == NULL || sscanf(name, "%63[^/]/%63[^/]/%ld", w, s, &c) != 3)
				continue;
			cell = cell_at(b, w, s, c);
			if (cell)
				timing_add(&cell->timing, r);
		}
		json_decref(doc);
	}
	closedir(d);
}

static int bench_load(struct bench *b, const char *dir)
{
	memset(b, 0, sizeof(*b));
	b->dir = dir;
	if (load_meta(b) < 0 || load_steps(b) < 0)
		return -1;
	add_words(meta_get(b, "strategies"), b->strategies, &b->nstrategies, REPORT_MAX_STRATEGIES);
	add_words(meta_get(b, "workloads"), b->workloads, &b->nworkloads, REPORT_MAX_WORKLOADS);
	for (size_t i = 0; i < b->steps_len; i++) {
		struct step *st = &b->steps[i];
		int w = workload_index(b, st->workload);

		if (strcmp(st->kind, "sweep") == 0 && w >= 0 &&
		    strategy_index(b, st->strategy) >= 0)
			add_count(b, w, st->count);
	}
	for (size_t i = 0; i < b->steps_len; i++) {
		struct step *st = &b->steps[i];
		struct cell *cell;

		if (strcmp(st->kind, "sweep") != 0)
			continue;
		cell = cell_at(b, st->workload, st->strategy, st->count);
		if (cell)
			cell->step = st;
	}
	load_hyperfine(b);
	for (int w = 0; w < b->nworkloads; w++)
		for (int s = 0; s < b->nstrategies; s++)
			for (int c = 0; c < b->ncounts[w]; c++)
				timing_finish(&b->cells[w][s][c].timing);
	for (int i = 0; i < 3; i++) {
		char rel[64], path[4096];

		snprintf(rel, sizeof(rel), "bare/%s.json", report_bare_names[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		b->bare[i] = file_exists(path) ? load_json(dir, rel) : NULL;
	}
	return 0;
}

/* ---- figures derived from what was measured ----------------------------------------------- */

static json_t *cell_doc(const struct cell *cell)
{
	return (cell && cell->step) ? cell->step->doc : NULL;
}

static bool cell_timed(const struct cell *cell)
{
	return cell && cell->timing.runs > 0;
}

/* Whether a document's heap is tracemalloc's (the Python objects it traced) rather than iostrat's
 * count of every malloc of the process: the two count different things and must say so. */
static bool heap_traced(json_t *doc)
{
	const char *source = json_str(doc, "summary.heap_source");

	return source != NULL && strcmp(source, "tracemalloc") == 0;
}

/* " (tracemalloc)" after a traced heap figure, nothing after iostrat's. */
static const char *heap_label(json_t *doc)
{
	return heap_traced(doc) ? " (tracemalloc)" : "";
}

/* Whether any of a strategy's documents for a workload has a traced heap. */
static bool strategy_heap_traced(const struct bench *b, int w, int s)
{
	for (int c = 0; c < b->ncounts[w]; c++) {
		if (heap_traced(cell_doc(&b->cells[w][s][c])))
			return true;
	}
	return false;
}

/* Whether the tutorial's Python left a document for a workload in this run. */
static bool any_python(const struct bench *b, int w)
{
	for (int s = 0; s < b->nstrategies; s++) {
		for (int c = 0; c < b->ncounts[w] && is_python(b->strategies[s]); c++) {
			if (cell_doc(&b->cells[w][s][c]) != NULL)
				return true;
		}
	}
	return false;
}

/* The fixed delay of a workload's sweep, from the run's description; NaN when none (file). */
static double workload_delay(const struct bench *b, int w)
{
	if (strcmp(b->workloads[w], "sleep") == 0)
		return meta_num(b, "sweep_delay_s");
	if (strcmp(b->workloads[w], "http") == 0)
		return meta_num(b, "http_delay_s");
	return NAN;
}

/* A strategy ran one task at a time when no document with several tasks saw more in flight. */
static bool strategy_serial(const struct bench *b, int w, int s)
{
	for (int c = 0; c < b->ncounts[w]; c++) {
		json_t *doc = cell_doc(&b->cells[w][s][c]);

		if (doc && b->counts[w][c] > 1)
			return json_num(doc, "summary.inflight_peak") <= 1;
	}
	return false;
}

/* The least time n tasks could take under that strategy: one delay when they wait together,
 * n delays when they wait one after another. */
static double ideal_s(const struct bench *b, int w, int s, long n)
{
	double d = workload_delay(b, w);

	return strategy_serial(b, w, s) ? d * (double)n : d;
}

/* Which bare primitive a strategy pays per task, from what the kernel saw in its documents:
 * child processes -> fork, more threads than one -> thread, one thread with many tasks in
 * flight -> timer (the event loop's wait); -1 when it runs tasks one by one. */
static int strategy_primitive(const struct bench *b, int w, int s)
{
	for (int c = b->ncounts[w] - 1; c >= 0; c--) {
		json_t *doc = cell_doc(&b->cells[w][s][c]);
		long n = b->counts[w][c];

		if (doc == NULL || n < 4)
			continue;
		if (json_num(doc, "summary.processes") > 1)
			return 0;
		if (json_num(doc, "summary.threads_peak") > 1)
			return 1;
		if (json_num(doc, "summary.inflight_peak") > 1)
			return 2;
		return -1;
	}
	return -1;
}

/* Smallest and largest count at which a strategy was timed (timed) or has a document. */
static bool count_span(const struct bench *b, int w, int s, bool timed, int *lo, int *hi)
{
	*lo = *hi = -1;
	for (int c = 0; c < b->ncounts[w]; c++) {
		const struct cell *cell = &b->cells[w][s][c];

		if (timed ? !cell_timed(cell) : cell_doc(cell) == NULL)
			continue;
		if (*lo < 0)
			*lo = c;
		*hi = c;
	}
	return *lo >= 0 && *hi > *lo;
}

/* What one more task costs in wall time beyond the ideal: the slope between the smallest and
 * the largest timed count, so the fixed cost of starting the program cancels out. */
static double overhead_per_task_s(const struct bench *b, int w, int s, long *from, long *to)
{
	int lo, hi;
	double over_lo, over_hi;

	if (!count_span(b, w, s, true, &lo, &hi))
		return NAN;
	*from = b->counts[w][lo];
	*to = b->counts[w][hi];
	over_lo = b->cells[w][s][lo].timing.median_s - ideal_s(b, w, s, *from);
	over_hi = b->cells[w][s][hi].timing.median_s - ideal_s(b, w, s, *to);
	return (over_hi - over_lo) / (double)(*to - *from);
}

/* What one more task costs in memory (a summary key, in bytes): the same kind of slope. */
static double memory_per_task(const struct bench *b, int w, int s, const char *key, long *to)
{
	int lo, hi;
	double m_lo, m_hi;

	if (!count_span(b, w, s, false, &lo, &hi))
		return NAN;
	m_lo = json_num(cell_doc(&b->cells[w][s][lo]), key);
	m_hi = json_num(cell_doc(&b->cells[w][s][hi]), key);
	*to = b->counts[w][hi];
	return (m_hi - m_lo) / (double)(b->counts[w][hi] - b->counts[w][lo]);
}

static double bare_per_op_s(const struct bench *b, int prim)
{
	return (prim >= 0 && b->bare[prim]) ? json_num(b->bare[prim], "per_op_s") : NAN;
}

/* The largest count at which every strategy that was timed at all was timed; else the largest
 * count with a document for most of them. The C strategies choose it: the tutorial's Python rows,
 * with shorter count lists, appear there when they reached it. */
static int reference_count(const struct bench *b, int w)
{
	int best = -1, best_docs = 0;
	bool any_c = false;

	for (int s = 0; s < b->nstrategies; s++)
		any_c = any_c || !is_python(b->strategies[s]);
	for (int c = 0; c < b->ncounts[w]; c++) {
		int docs = 0;

		for (int s = 0; s < b->nstrategies; s++) {
			if (!any_c || !is_python(b->strategies[s]))
				docs += cell_doc(&b->cells[w][s][c]) != NULL;
		}
		if (docs >= best_docs && docs > 0) {
			best = c;
			best_docs = docs;
		}
	}
	return best;
}

/* Throughput from a document: bytes/s for file, requests/s for http, tasks/s otherwise. */
static double throughput(const struct bench *b, int w, json_t *doc, const char **unit)
{
	if (strcmp(b->workloads[w], "file") == 0) {
		*unit = "MB/s";
		return json_num(doc, "summary.throughput_bytes_per_s") / 1e6;
	}
	if (strcmp(b->workloads[w], "http") == 0) {
		*unit = "requests/s";
		return json_num(doc, "summary.requests_per_s");
	}
	*unit = "tasks/s";
	return json_num(doc, "params.tasks") / json_num(doc, "summary.wall_s");
}

/* A Python strategy and its C partner on one workload, at the counts both reached (a result
 * document of a run whose tasks were all ok). */
struct pair_figures {
	int python, c;	      /* strategy indexes */
	int lo, hi;	      /* count indexes: smallest and largest both reached; -1: none */
	double overhead_py_s; /* (wall - ideal) / tasks at hi, NaN without an ideal */
	double overhead_c_s;
	double heap_py_bytes; /* heap per task: slope from lo to hi, or peak / tasks at hi alone */
	double heap_c_bytes;
	double rss_py_bytes; /* resident memory per task, the same way */
	double rss_c_bytes;
	double rate_py; /* requests/s (http) or MB/s (file) at hi; NaN for sleep */
	double rate_c;
	const char *rate_unit; /* "requests/s", "MB/s" */
};

static bool cell_reached(const struct cell *cell)
{
	json_t *doc = cell_doc(cell);

	return doc != NULL && strcmp(cell->step->status, "ok") == 0 &&
	       json_num(doc, "summary.tasks_ok") == json_num(doc, "params.tasks");
}

/* A per-task figure of a summary key: the slope between two counts, or the figure over the
 * tasks when there is only one. */
static double per_task(json_t *lo_doc, long lo_n, json_t *hi_doc, long hi_n, const char *key)
{
	if (lo_doc == NULL || lo_n == hi_n)
		return json_num(hi_doc, key) / (double)hi_n;
	return (json_num(hi_doc, key) - json_num(lo_doc, key)) / (double)(hi_n - lo_n);
}

static bool pair_figures(const struct bench *b, int w, size_t pair, struct pair_figures *f)
{
	const char *unit = "tasks/s";
	json_t *py_hi, *c_hi, *py_lo, *c_lo;
	long n_hi, n_lo;

	memset(f, 0, sizeof(*f));
	f->python = strategy_index(b, report_python_pairs[pair].python);
	f->c = strategy_index(b, report_python_pairs[pair].c);
	f->lo = f->hi = -1;
	if (f->python < 0 || f->c < 0)
		return false;
	for (int c = 0; c < b->ncounts[w]; c++) {
		if (!cell_reached(&b->cells[w][f->python][c]) ||
		    !cell_reached(&b->cells[w][f->c][c]))
			continue;
		if (f->lo < 0)
			f->lo = c;
		f->hi = c;
	}
	if (f->hi < 0)
		return false;
	n_hi = b->counts[w][f->hi];
	n_lo = b->counts[w][f->lo];
	py_hi = cell_doc(&b->cells[w][f->python][f->hi]);
	c_hi = cell_doc(&b->cells[w][f->c][f->hi]);
	py_lo = cell_doc(&b->cells[w][f->python][f->lo]);
	c_lo = cell_doc(&b->cells[w][f->c][f->lo]);
	f->overhead_py_s = json_num(py_hi, "summary.overhead_s") / (double)n_hi;
	f->overhead_c_s = json_num(c_hi, "summary.overhead_s") / (double)n_hi;
	f->heap_py_bytes = per_task(py_lo, n_lo, py_hi, n_hi, "summary.heap_peak_bytes");
	f->heap_c_bytes = per_task(c_lo, n_lo, c_hi, n_hi, "summary.heap_peak_bytes");
	f->rss_py_bytes = per_task(py_lo, n_lo, py_hi, n_hi, "summary.rss_peak_total_bytes");
	f->rss_c_bytes = per_task(c_lo, n_lo, c_hi, n_hi, "summary.rss_peak_total_bytes");
	f->rate_py = f->rate_c = NAN;
	if (strcmp(b->workloads[w], "sleep") != 0) {
		f->rate_py = throughput(b, w, py_hi, &unit);
		f->rate_c = throughput(b, w, c_hi, &unit);
	}
	f->rate_unit = unit;
	return true;
}

/* A Python/C ratio: below 1 with two digits, so that 0.11× and 0.14× stay apart. */
static const char *fmt_pair_ratio(double r, char *buf, size_t len)
{
	if (!isnan(r) && r < 1)
		snprintf(buf, len, "%.2g×", r);
	else
		fmt_ratio(r, buf, len);
	return buf;
}

/* Python / C, only when both figures are above zero (a cost too small to measure has no ratio). */
static double pair_ratio(double python, double c)
{
	return (python > 0 && c > 0) ? python / c : NAN;
}

/* What the demo's tasks did, from its parameters: "4 tasks sleeping 100 ms each". */
static void demo_description(const struct bench *b, char *buf, size_t len)
{
	snprintf(buf, len, "4 tasks sleeping");
	for (size_t i = 0; i < b->steps_len; i++) {
		json_t *doc = b->steps[i].doc;
		double delay, max_delay, tasks;

		if (strcmp(b->steps[i].kind, "demo") || doc == NULL)
			continue;
		delay = json_num(doc, "params.delay_s");
		max_delay = json_num(doc, "params.max_delay_s");
		tasks = json_num(doc, "params.tasks");
		if (!isnan(delay))
			snprintf(buf, len, "%.0f tasks sleeping %g ms each", tasks, delay * 1e3);
		else
			snprintf(buf, len, "%.0f tasks sleeping a random 0 to %g whole seconds",
				 tasks, max_delay - 1);
		return;
	}
}

/* ---- gnuplot data tables ------------------------------------------------------------------ */

static FILE *data_open(const struct bench *b, const char *fmt, ...)
{
	char name[512], path[4096];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/data/%s", b->dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "iostrat-report: create %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

/* One timeline table: task, start, end, colour (one per process or thread seen). */
static bool write_timeline(const struct bench *b, FILE *f, json_t *doc)
{
	json_t *tasks = json_object_get(doc, "tasks");
	long seen_pid[64], seen_tid[64];
	int nseen = 0;
	bool any = false;

	fprintf(f, "# task start_s end_s colour_rgb pid tid\n");
	for (size_t i = 0; i < json_array_size(tasks); i++) {
		json_t *t = json_array_get(tasks, i);
		double start = json_num(t, "start_s"), end = json_num(t, "end_s");
		long pid = (long)json_num(t, "pid"), tid = (long)json_num(t, "tid");
		int k;

		if (isnan(start) || isnan(end))
			continue;
		for (k = 0; k < nseen; k++) {
			if (seen_pid[k] == pid && seen_tid[k] == tid)
				break;
		}
		if (k == nseen && nseen < 64) {
			seen_pid[nseen] = pid;
			seen_tid[nseen] = tid;
			nseen++;
		}
		fprintf(f, "%ld %.6f %.6f %u %ld %ld\n", (long)json_num(t, "id"), start, end,
			report_task_colours[k % (sizeof(report_task_colours) /
						 sizeof(*report_task_colours))],
			pid, tid);
		any = true;
	}
	(void)b;
	return any;
}

static void write_data(struct bench *b)
{
	FILE *vars = data_open(b, "vars.gp");
	struct sbuf list = {0};

	fprintf(vars, "# written by iostrat-report from %s\n", b->dir);
	for (int s = 0; s < b->nstrategies; s++)
		sbuf_printf(&list, "%s%s", s ? " " : "", b->strategies[s]);
	fprintf(vars, "strategies = \"%s\"\n", sbuf_text(&list));
	/* the colour of each strategy: its own, or, for the tutorial's Python, its C partner's */
	sbuf_reset(&list);
	for (int s = 0; s < b->nstrategies; s++) {
		const char *partner = python_partner(b->strategies[s]);

		sbuf_printf(&list, "%s%s", s ? " " : "", partner ? partner : b->strategies[s]);
	}
	fprintf(vars, "colour_of = \"%s\"\n", sbuf_text(&list));
	{
		char demo[128];

		demo_description(b, demo, sizeof(demo));
		fprintf(vars, "demo_title = \"The tutorial's demo: %s, one bar per task\"\n", demo);
	}

	/* 1. timelines: the tutorial's demo and the http run */
	const char *timeline_kinds[2] = {"demo", "timeline"};
	const char *timeline_names[2] = {"demo", "http"};
	for (int k = 0; k < 2; k++) {
		sbuf_reset(&list);
		for (int s = 0; s < b->nstrategies; s++) {
			for (size_t i = 0; i < b->steps_len; i++) {
				struct step *st = &b->steps[i];
				FILE *f;
				bool any;

				if (strcmp(st->kind, timeline_kinds[k]) ||
				    strcmp(st->strategy, b->strategies[s]) || st->doc == NULL)
					continue;
				f = data_open(b, "timeline-%s-%s.dat", timeline_names[k],
					      b->strategies[s]);
				any = write_timeline(b, f, st->doc);
				fclose(f);
				if (any)
					sbuf_printf(&list, "%s%s", list.len ? " " : "",
						    b->strategies[s]);
			}
		}
		fprintf(vars, "timeline_%s = \"%s\"\n", timeline_names[k], sbuf_text(&list));
	}

	/* 2, 3, 5, 6: per workload */
	struct sbuf wl = {0};
	for (int w = 0; w < b->nworkloads; w++) {
		const char *wn = b->workloads[w], *unit = "tasks/s";
		struct sbuf timed = {0}, docs = {0}, xt = {0};
		double d = workload_delay(b, w);
		int ref = reference_count(b, w);
		FILE *f;

		for (int s = 0; s < b->nstrategies; s++) {
			bool any_timed = false, any_doc = false;
			FILE *wall = data_open(b, "wall-%s-%s.dat", wn, b->strategies[s]);
			FILE *mem = data_open(b, "memory-%s-%s.dat", wn, b->strategies[s]);
			FILE *hf = data_open(b, "hyperfine-%s-%s.dat", wn, b->strategies[s]);

			fprintf(wall,
				"# tasks median_s mean_s min_s max_s stddev_s runs ideal_s\n");
			fprintf(
			    mem,
			    "# tasks heap_peak_bytes rss_peak_total_bytes threads_peak processes "
			    "inflight_peak throughput\n");
			fprintf(hf, "# x mean_s min_s max_s tasks\n");
			for (int c = 0; c < b->ncounts[w]; c++) {
				struct cell *cell = &b->cells[w][s][c];
				json_t *doc = cell_doc(cell);
				long n = b->counts[w][c];

				if (cell_timed(cell)) {
					struct timing *t = &cell->timing;

					fprintf(wall, "%ld %.6g %.6g %.6g %.6g %.6g %d %.6g\n", n,
						t->median_s, t->mean_s, t->min_s, t->max_s,
						t->stddev_s, t->runs, ideal_s(b, w, s, n));
					fprintf(hf, "%.4f %.6g %.6g %.6g %ld\n",
						c + (s - (b->nstrategies - 1) / 2.0) * 0.8 /
							b->nstrategies,
						t->mean_s, t->min_s, t->max_s, n);
					any_timed = true;
				}
				if (doc) {
					fprintf(mem, "%ld %.0f %.0f %.0f %.0f %.0f %.6g\n", n,
						json_num(doc, "summary.heap_peak_bytes"),
						json_num(doc, "summary.rss_peak_total_bytes"),
						json_num(doc, "summary.threads_peak"),
						json_num(doc, "summary.processes"),
						json_num(doc, "summary.inflight_peak"),
						throughput(b, w, doc, &unit));
					any_doc = true;
				}
			}
			fclose(wall);
			fclose(mem);
			fclose(hf);
			if (any_timed)
				sbuf_printf(&timed, "%s%s", timed.len ? " " : "", b->strategies[s]);
			if (any_doc)
				sbuf_printf(&docs, "%s%s", docs.len ? " " : "", b->strategies[s]);
		}
		f = data_open(b, "ideal-%s.dat", wn);
		fprintf(f, "# tasks ideal_together_s ideal_one_by_one_s\n");
		for (int c = 0; c < b->ncounts[w] && !isnan(d); c++)
			fprintf(f, "%ld %.6g %.6g\n", b->counts[w][c], d,
				d * (double)b->counts[w][c]);
		fclose(f);
		for (int c = 0; c < b->ncounts[w]; c++)
			sbuf_printf(&xt, "%s\"%ld\" %d", c ? ", " : "", b->counts[w][c], c);

		/* latency percentiles at the reference count */
		f = data_open(b, "latency-%s.dat", wn);
		fprintf(f, "# index strategy p50_s p90_s p99_s\n");
		for (int s = 0; s < b->nstrategies && ref >= 0; s++) {
			json_t *doc = cell_doc(&b->cells[w][s][ref]);

			if (doc)
				fprintf(f, "%d %s %.6g %.6g %.6g\n", s, b->strategies[s],
					json_num(doc, "summary.latency_s.p50"),
					json_num(doc, "summary.latency_s.p90"),
					json_num(doc, "summary.latency_s.p99"));
		}
		fclose(f);

		fprintf(vars, "timed_%s = \"%s\"\n", wn, sbuf_text(&timed));
		fprintf(vars, "docs_%s = \"%s\"\n", wn, sbuf_text(&docs));
		fprintf(vars, "has_ideal_%s = %d\n", wn, !isnan(d));
		fprintf(vars, "delay_ms_%s = %.6g\n", wn, isnan(d) ? 0 : d * 1e3);
		fprintf(vars, "unit_%s = \"%s\"\n", wn, unit);
		fprintf(vars, "ref_%s = %ld\n", wn, ref >= 0 ? b->counts[w][ref] : 0);
		fprintf(vars, "ncounts_%s = %d\n", wn, b->ncounts[w]);
		fprintf(vars, "xtics_%s = '(%s)'\n", wn, sbuf_text(&xt));
		if (timed.len || docs.len)
			sbuf_printf(&wl, "%s%s", wl.len ? " " : "", wn);
		free(timed.text);
		free(docs.text);
		free(xt.text);
	}
	fprintf(vars, "workloads = \"%s\"\n", sbuf_text(&wl));

	/* 4. overhead per task (sleep) next to the bare cost of the primitive */
	int ws = workload_index(b, "sleep");
	FILE *f = data_open(b, "overhead.dat");
	int rows = 0;

	fprintf(f, "# index strategy measured_us bare_us primitive\n");
	for (int s = 0; s < b->nstrategies && ws >= 0; s++) {
		long from = 0, to = 0;
		double per = overhead_per_task_s(b, ws, s, &from, &to);
		int prim = strategy_primitive(b, ws, s);
		double bare = bare_per_op_s(b, prim);

		if (isnan(per))
			continue;
		fprintf(f, "%d %s %.6g %.6g %s\n", rows, b->strategies[s], per * 1e6,
			isnan(bare) ? 0.0 : bare * 1e6,
			prim >= 0 ? report_bare_names[prim] : "none");
		rows++;
	}
	fclose(f);
	fprintf(vars, "overhead_rows = %d\n", rows);
	fclose(vars);
	free(list.text);
	free(wl.text);
}

/* ---- the report: one writer, two outputs (Markdown and HTML) ------------------------------ */

struct doc {
	FILE *md;	 /* report.md */
	FILE *html;	 /* index.html */
	const char *dir; /* the bench folder, to check that linked files exist */
	int figures;	 /* charts linked */
};

static void html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void md_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '*' || *s == '_' || *s == '<' || *s == '[' || *s == ']')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static bool doc_exists(const struct doc *d, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", d->dir, rel);
	return file_exists(path);
}

static void doc_heading(struct doc *d, int level, const char *text)
{
	fprintf(d->md, "\n%.*s ", level, "######");
	md_escape(d->md, text);
	fprintf(d->md, "\n\n");
	fprintf(d->html, "<h%d>", level);
	html_escape(d->html, text);
	fprintf(d->html, "</h%d>\n", level);
}

static void doc_para(struct doc *d, const char *text)
{
	md_escape(d->md, text);
	fprintf(d->md, "\n\n");
	fprintf(d->html, "<p>");
	html_escape(d->html, text);
	fprintf(d->html, "</p>\n");
}

static void doc_code(struct doc *d, const char *text)
{
	fprintf(d->md, "```\n%s\n```\n\n", text);
	fprintf(d->html, "<pre>");
	html_escape(d->html, text);
	fprintf(d->html, "</pre>\n");
}

static void doc_list_begin(struct doc *d)
{
	fprintf(d->html, "<ul>\n");
}

static void doc_item(struct doc *d, const char *text)
{
	fprintf(d->md, "- ");
	md_escape(d->md, text);
	fprintf(d->md, "\n");
	fprintf(d->html, "<li>");
	html_escape(d->html, text);
	fprintf(d->html, "</li>\n");
}

/* A list item that links to a file of the folder, only when that file exists. */
static void doc_item_link(struct doc *d, const char *label, const char *rel)
{
	if (!doc_exists(d, rel))
		return;
	fprintf(d->md, "- [");
	md_escape(d->md, label);
	fprintf(d->md, "](%s)\n", rel);
	fprintf(d->html, "<li><a href=\"");
	html_escape(d->html, rel);
	fprintf(d->html, "\">");
	html_escape(d->html, label);
	fprintf(d->html, "</a></li>\n");
}

static void doc_list_end(struct doc *d)
{
	fprintf(d->md, "\n");
	fprintf(d->html, "</ul>\n");
}

/* A chart: the SVG in the HTML page (sharp when projected), the PNG in Markdown. */
static void doc_figure(struct doc *d, const char *name, const char *alt, const char *caption)
{
	char png[256], svg[256];

	snprintf(png, sizeof(png), "charts/%s.png", name);
	snprintf(svg, sizeof(svg), "charts/%s.svg", name);
	if (!doc_exists(d, png) || !doc_exists(d, svg)) {
		doc_para(d, "(This chart was not drawn: gnuplot left no file for it.)");
		return;
	}
	fprintf(d->md, "![");
	md_escape(d->md, alt);
	fprintf(d->md, "](%s)\n\n", png);
	fprintf(d->md, "*");
	md_escape(d->md, caption);
	fprintf(d->md, "* ([SVG](%s))\n\n", svg);
	fprintf(d->html, "<figure><img src=\"%s\" width=\"1280\" alt=\"", svg);
	html_escape(d->html, alt);
	fprintf(d->html, "\"><figcaption>");
	html_escape(d->html, caption);
	fprintf(d->html, " <a href=\"%s\">PNG</a></figcaption></figure>\n", png);
	d->figures++;
}

/* Tables: cells are collected row by row, then written to both outputs. */
#define DOC_TABLE_COLS 12
struct table {
	int cols;		    /* columns */
	char *head[DOC_TABLE_COLS]; /* header cells */
	char **cells;		    /* rows * cols cells */
	int rows;		    /* rows so far */
	int col;		    /* next cell in the current row */
};

static void table_head(struct table *t, int cols, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	t->cols = cols;
	va_start(ap, cols);
	for (int i = 0; i < cols; i++)
		t->head[i] = report_xstrdup(va_arg(ap, const char *));
	va_end(ap);
}

static void table_cell(struct table *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (t->col == 0) {
		t->cells =
		    realloc(t->cells, (size_t)(t->rows + 1) * (size_t)t->cols * sizeof(char *));
		t->rows++;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->cells[(t->rows - 1) * t->cols + t->col] = report_xstrdup(buf);
	t->col = (t->col + 1) % t->cols;
}

static void doc_table_free(struct table *t)
{
	for (int i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	for (int c = 0; c < t->cols; c++)
		free(t->head[c]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* A column of figures is aligned right, a column of words left (judged on the first row). */
static bool table_numeric(const struct table *t, int c)
{
	const char *cell = t->rows ? t->cells[c] : NULL;

	return cell && (isdigit((unsigned char)cell[0]) ||
			(cell[0] == '-' && isdigit((unsigned char)cell[1])));
}

static void doc_table(struct doc *d, struct table *t)
{
	if (t->rows == 0) {
		doc_para(d, "(No figures for this table.)");
		doc_table_free(t);
		return;
	}
	fprintf(d->md, "|");
	fprintf(d->html, "<table>\n<thead><tr>");
	for (int c = 0; c < t->cols; c++) {
		fprintf(d->md, " ");
		md_escape(d->md, t->head[c]);
		fprintf(d->md, " |");
		fprintf(d->html, "<th>");
		html_escape(d->html, t->head[c]);
		fprintf(d->html, "</th>");
	}
	fprintf(d->md, "\n|");
	fprintf(d->html, "</tr></thead>\n<tbody>\n");
	for (int c = 0; c < t->cols; c++)
		fprintf(d->md, "%s|", table_numeric(t, c) ? "---:" : ":---");
	fprintf(d->md, "\n");
	for (int r = 0; r < t->rows; r++) {
		fprintf(d->md, "|");
		fprintf(d->html, "<tr>");
		for (int c = 0; c < t->cols; c++) {
			const char *cell = t->cells[r * t->cols + c];

			fprintf(d->md, " ");
			md_escape(d->md, cell ? cell : "");
			fprintf(d->md, " |");
			fprintf(d->html, table_numeric(t, c) ? "<td>" : "<td class=\"text\">");
			html_escape(d->html, cell ? cell : "");
			fprintf(d->html, "</td>");
		}
		fprintf(d->md, "\n");
		fprintf(d->html, "</tr>\n");
	}
	fprintf(d->md, "\n");
	fprintf(d->html, "</tbody></table>\n");
	doc_table_free(t);
}

static const char report_html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>%s</title>\n<style>\n"
    "body { font-family: sans-serif; font-size: 20px; line-height: 1.45; max-width: 1320px;"
    " margin: 0 auto; padding: 1em; color: #111; }\n"
    "img { max-width: 100%%; height: auto; border: 1px solid #ccc; }\n"
    "figure { margin: 1.5em 0; }\nfigcaption { font-size: 18px; margin-top: 0.4em; }\n"
    "table { border-collapse: collapse; margin: 1em 0; font-size: 17px; }\n"
    "th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }\n"
    "td.text { text-align: left; }\nth { background: #eee; }\n"
    "pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; font-size: 16px; }\n"
    ".banner { background: #fde2c8; padding: 0.6em; border: 2px solid #D55E00; }\n"
    "#charts-status { color: #555; font-size: 16px; }\n"
    "</style>\n</head>\n<body>\n";

/* The page says, in a marker a browser fills in, whether every chart loaded. */
static const char report_html_tail[] =
    "<p id=\"charts-status\" data-loaded=\"-1\" data-total=\"-1\">Charts: not checked "
    "(scripts off).</p>\n"
    "<script>\n"
    "window.addEventListener('load', function () {\n"
    "  var images = document.images, loaded = 0;\n"
    "  for (var i = 0; i < images.length; i++)\n"
    "    if (images[i].complete && images[i].naturalWidth > 0) loaded++;\n"
    "  var marker = document.getElementById('charts-status');\n"
    "  marker.setAttribute('data-loaded', loaded);\n"
    "  marker.setAttribute('data-total', images.length);\n"
    "  marker.textContent = 'Charts: ' + loaded + ' of ' + images.length + ' loaded.';\n"
    "});\n"
    "</script>\n</body>\n</html>\n";

/* ---- the report's sections ---------------------------------------------------------------- */

/* "threads'" but "epoll's" */
static const char *possessive(const char *name)
{
	size_t n = strlen(name);

	return (n > 0 && name[n - 1] == 's') ? "'" : "'s";
}

static const char *strategy_name(const struct bench *b, int s)
{
	return b->strategies[s];
}

/* "What this shows": sentences computed from the figures of the run. */
static void section_findings(struct bench *b, struct doc *d)
{
	int w = workload_index(b, "sleep");
	struct sbuf sb = {0};
	char t1[64], t2[64], t3[64], n1[32];
	bool any = false;

	doc_heading(d, 2, "What this shows");
	doc_list_begin(d);
	for (int wi = 0; wi < b->nworkloads; wi++) {
		int base = -1, ref = -1;

		/* the serial strategy is the baseline; the largest count where it and another were
		 * timed */
		for (int s = 0; s < b->nstrategies && base < 0; s++) {
			if (strategy_serial(b, wi, s))
				base = s;
		}
		for (int c = 0; c < b->ncounts[wi] && base >= 0; c++) {
			if (!cell_timed(&b->cells[wi][base][c]))
				continue;
			for (int s = 0; s < b->nstrategies; s++) {
				if (s != base && cell_timed(&b->cells[wi][s][c]))
					ref = c;
			}
		}
		if (ref < 0)
			continue;
		double base_s = b->cells[wi][base][ref].timing.median_s;

		sbuf_reset(&sb);
		sbuf_printf(&sb, "%s, %s tasks: %s took %s (median)", b->workloads[wi],
			    fmt_count(b->counts[wi][ref], n1, sizeof(n1)), strategy_name(b, base),
			    fmt_seconds(base_s, t1, sizeof(t1)));
		for (int s = 0; s < b->nstrategies; s++) {
			struct cell *cell = &b->cells[wi][s][ref];

			if (s == base || !cell_timed(cell))
				continue;
			double speedup = base_s / cell->timing.median_s;
			/* "0.2x faster" reads as nonsense: a slower strategy is "5x slower" */
			sbuf_printf(&sb, "; %s %s, %s %s", strategy_name(b, s),
				    fmt_seconds(cell->timing.median_s, t1, sizeof(t1)),
				    fmt_ratio(speedup >= 1 ? speedup : 1 / speedup, t2, sizeof(t2)),
				    speedup >= 1 ? "faster" : "slower");
		}
		if (!isnan(workload_delay(b, wi)))
			sbuf_printf(
			    &sb,
			    " (each task waits %s: the ideal is %s all at once, %s one after "
			    "another)",
			    fmt_seconds(workload_delay(b, wi), t1, sizeof(t1)),
			    fmt_seconds(workload_delay(b, wi), t3, sizeof(t3)),
			    fmt_seconds(workload_delay(b, wi) * (double)b->counts[wi][ref], t2,
					sizeof(t2)));
		sbuf_printf(&sb, ".");
		doc_item(d, sbuf_text(&sb));
		any = true;
	}
	if (w >= 0) {
		/* the largest count each strategy reached */
		sbuf_reset(&sb);
		sbuf_printf(&sb, "The most sleeping tasks each strategy ran:");
		for (int s = 0; s < b->nstrategies; s++) {
			int lo, hi;

			if (count_span(b, w, s, false, &lo, &hi) || (lo >= 0)) {
				json_t *doc = cell_doc(&b->cells[w][s][hi]);

				sbuf_printf(
				    &sb, " %s %s in %s (%.0f in flight at once);",
				    strategy_name(b, s),
				    fmt_count(b->counts[w][hi], n1, sizeof(n1)),
				    fmt_seconds(json_num(doc, "summary.wall_s"), t1, sizeof(t1)),
				    json_num(doc, "summary.inflight_peak"));
			}
		}
		sb.text[sb.len - 1] = '.';
		doc_item(d, sbuf_text(&sb));
		any = true;

		/* memory per task */
		sbuf_reset(&sb);
		sbuf_printf(
		    &sb,
		    "What one more task cost in memory here (slope between the smallest and the "
		    "largest count):");
		for (int s = 0; s < b->nstrategies; s++) {
			long to = 0;
			double rss = memory_per_task(b, w, s, "summary.rss_peak_total_bytes", &to);
			double heap = memory_per_task(b, w, s, "summary.heap_peak_bytes", &to);
			double stack =
			    memory_per_task(b, w, s, "summary.stack_reserved_bytes", &to);

			if (isnan(rss))
				continue;
			if (rss > 0)
				sbuf_printf(&sb, " %s %s resident", strategy_name(b, s),
					    fmt_bytes(rss, t1, sizeof(t1)));
			else
				sbuf_printf(&sb, " %s no resident growth measured",
					    strategy_name(b, s));
			sbuf_printf(&sb, " and %s of heap%s",
				    fmt_bytes(heap > 0 ? heap : 0, t2, sizeof(t2)),
				    strategy_heap_traced(b, w, s) ? " (tracemalloc's)" : "");
			if (stack > 0)
				sbuf_printf(&sb,
					    " (plus %s of address space reserved for its stack)",
					    fmt_bytes(stack, t3, sizeof(t3)));
			sbuf_printf(&sb, ";");
		}
		sb.text[sb.len - 1] = '.';
		doc_item(d, sbuf_text(&sb));

		/* time per task next to the bare primitive */
		sbuf_reset(&sb);
		sbuf_printf(&sb, "What one more task cost in time, beyond its wait:");
		for (int s = 0; s < b->nstrategies; s++) {
			long from = 0, to = 0;
			double per = overhead_per_task_s(b, w, s, &from, &to);
			int prim = strategy_primitive(b, w, s);

			if (isnan(per))
				continue;
			if (per > 0)
				sbuf_printf(&sb, " %s %s", strategy_name(b, s),
					    fmt_seconds(per, t1, sizeof(t1)));
			else
				sbuf_printf(&sb,
					    " %s too little to tell from the noise between runs",
					    strategy_name(b, s));
			if (!isnan(bare_per_op_s(b, prim)))
				sbuf_printf(&sb, " (the bare %s alone: %s)",
					    report_bare_names[prim],
					    fmt_seconds(bare_per_op_s(b, prim), t2, sizeof(t2)));
			sbuf_printf(&sb, ";");
		}
		sb.text[sb.len - 1] = '.';
		doc_item(d, sbuf_text(&sb));
	}
	/* the tutorial's memory comparison, on the demo */
	{
		double heap[REPORT_MAX_STRATEGIES];
		bool have = false;

		sbuf_reset(&sb);
		sbuf_printf(
		    &sb,
		    "The tutorial's 4-task demo, heap peak (every malloc of the process that "
		    "reports it, the counterpart of its tracemalloc figures; for the tutorial's "
		    "own Python, tracemalloc's figures themselves):");
		for (int s = 0; s < b->nstrategies; s++) {
			heap[s] = NAN;
			for (size_t i = 0; i < b->steps_len; i++) {
				struct step *st = &b->steps[i];

				if (strcmp(st->kind, "demo") == 0 &&
				    strcmp(st->strategy, b->strategies[s]) == 0 && st->doc)
					heap[s] = json_num(st->doc, "summary.heap_peak_bytes");
			}
			if (isnan(heap[s]))
				continue;
			sbuf_printf(&sb, " %s %s bytes%s;", strategy_name(b, s),
				    fmt_count((long)heap[s], n1, sizeof(n1)),
				    is_python(b->strategies[s]) ? " (tracemalloc)" : "");
			have = true;
		}
		if (have) {
			sb.text[sb.len - 1] = '.';
			doc_item(d, sbuf_text(&sb));
			any = true;
		}
	}
	/* the tutorial's Python beside C, from the pairs of section 7: one sentence */
	{
		bool have = false;

		sbuf_reset(&sb);
		sbuf_printf(&sb,
			    "The tutorial's Python against C, at the largest count both reached "
			    "(section 7) —");
		for (int wi = 0; wi < b->nworkloads; wi++) {
			bool named = false;

			for (size_t i = 0; i < REPORT_PYTHON_PAIRS; i++) {
				struct pair_figures f;
				double over, rss;

				if (!pair_figures(b, wi, i, &f))
					continue;
				over = pair_ratio(f.overhead_py_s, f.overhead_c_s);
				rss = pair_ratio(f.rss_py_bytes, f.rss_c_bytes);
				if (isnan(over) && isnan(rss))
					continue;
				if (named)
					sbuf_printf(&sb, ",");
				else
					sbuf_printf(&sb, "%s %s:", have ? ";" : "",
						    b->workloads[wi]);
				sbuf_printf(&sb, " %s (%s tasks)", b->strategies[f.python],
					    fmt_count(b->counts[wi][f.hi], n1, sizeof(n1)));
				if (!isnan(over))
					sbuf_printf(&sb, " %s %s%s overhead per task",
						    fmt_pair_ratio(over, t1, sizeof(t1)),
						    b->strategies[f.c],
						    possessive(b->strategies[f.c]));
				if (!isnan(rss))
					sbuf_printf(&sb, "%s %s %s%s resident memory per task",
						    isnan(over) ? "" : " and",
						    fmt_pair_ratio(rss, t2, sizeof(t2)),
						    isnan(over) ? b->strategies[f.c] : "its",
						    isnan(over) ? possessive(b->strategies[f.c])
								: "");
				named = have = true;
			}
		}
		if (have) {
			sbuf_printf(&sb, ".");
			doc_item(d, sbuf_text(&sb));
			any = true;
		}
	}
	{
		int skipped = 0, failed = 0;

		for (size_t i = 0; i < b->steps_len; i++) {
			skipped += strcmp(b->steps[i].status, "skipped") == 0;
			failed += strcmp(b->steps[i].status, "failed") == 0;
		}
		sbuf_reset(&sb);
		sbuf_printf(&sb,
			    "%d step%s skipped and %d failed; the reasons are listed under "
			    "\"Skipped and failed\".",
			    skipped, skipped == 1 ? " was" : "s were", failed);
		doc_item(d, sbuf_text(&sb));
	}
	if (!any)
		doc_item(d, "Too little was measured in this run for comparisons.");
	doc_list_end(d);
	free(sb.text);
}

static void section_machine(struct bench *b, struct doc *d)
{
	struct table t;
	char n1[64], n2[64];
	const char *host_keys[][2] = {
	    {"compiler", "compiler"}, {"libc", "C library"},	{"libcurl", "libcurl"},
	    {"jansson", "jansson"},   {"liburing", "liburing"}, {"commit", "iostrat commit"},
	};

	doc_heading(d, 2, "The machine");
	table_head(&t, 2, "what", "value");
	table_cell(&t, "host");
	table_cell(&t, "%s", meta_or(b, "host", "?"));
	table_cell(&t, "CPU");
	table_cell(&t, "%s", meta_or(b, "cpu_model", "?"));
	table_cell(&t, "cores");
	table_cell(&t, "%s", meta_or(b, "cpus", "?"));
	table_cell(&t, "memory");
	table_cell(&t, "%s", fmt_bytes(meta_num(b, "memory_bytes"), n1, sizeof(n1)));
	table_cell(&t, "kernel");
	table_cell(&t, "%s", meta_or(b, "kernel", "?"));
	table_cell(&t, "limits");
	table_cell(&t, "open files %s, pid_max %s", meta_or(b, "open_files", "?"),
		   meta_or(b, "pid_max", "?"));
	table_cell(&t, "iostrat");
	table_cell(&t, "%s", meta_or(b, "iostrat_version", "?"));
	if (meta_get(b, "python_version") != NULL) {
		table_cell(&t, "the tutorial's Python");
		table_cell(&t, "%s", meta_or(b, "python_version", "?"));
	}
	for (size_t i = 0; i < sizeof(host_keys) / sizeof(*host_keys); i++) {
		const char *v = json_str(b->host, host_keys[i][0]);

		table_cell(&t, "%s", host_keys[i][1]);
		table_cell(&t, "%s", v ? v : "none");
	}
	table_cell(&t, "suite commit");
	table_cell(&t, "%s", meta_or(b, "commit", "?"));
	table_cell(&t, "tools");
	table_cell(&t, "%s, %s", meta_or(b, "hyperfine", "?"), meta_or(b, "gnuplot", "?"));
	table_cell(&t, "run");
	table_cell(&t, "BENCH=%s, %s to %s (%s s)", meta_or(b, "mode", "?"),
		   meta_or(b, "started_at", "?"), meta_or(b, "finished_at", "?"),
		   meta_or(b, "elapsed_s", "?"));
	doc_table(d, &t);
	(void)n2;
}

static void section_method(struct bench *b, struct doc *d)
{
	struct sbuf sb = {0};
	char t1[64];

	doc_heading(d, 2, "How it was measured");
	doc_list_begin(d);
	sbuf_printf(&sb,
		    "Whole-command times come from hyperfine (without a shell in between): %s "
		    "warm-up run%s, then %s round%s of %s run%s per command; each round runs every "
		    "strategy of a task count once more, starting with the next strategy, so that "
		    "drift over time does not favour one. Figures are the median of all runs, with "
		    "the minimum and maximum.",
		    meta_or(b, "warmup", "?"), strcmp(meta_or(b, "warmup", "1"), "1") ? "s" : "",
		    meta_or(b, "rounds", "?"), strcmp(meta_or(b, "rounds", "1"), "1") ? "s" : "",
		    meta_or(b, "runs_per_round", "?"),
		    strcmp(meta_or(b, "runs_per_round", "1"), "1") ? "s" : "");
	doc_item(d, sbuf_text(&sb));
	sbuf_reset(&sb);
	sbuf_printf(&sb,
		    "Timed runs use -q: no per-task lines, since printing is I/O too. Sleep tasks "
		    "wait a fixed %s each",
		    fmt_seconds(meta_num(b, "sweep_delay_s"), t1, sizeof(t1)));
	if (workload_index(b, "http") >= 0)
		sbuf_printf(&sb, ", HTTP responses are held %s each by the local server",
			    fmt_seconds(meta_num(b, "http_delay_s"), t1, sizeof(t1)));
	sbuf_printf(&sb, ", so the ideal time is known.");
	doc_item(d, sbuf_text(&sb));
	doc_item(d, "Memory, threads, processes, tasks in flight and latencies come from iostrat's "
		    "own result document (--json) of one more run of each command: what the kernel "
		    "saw, not what was asked for.");
	if (meta_get(b, "python_strategies") != NULL &&
	    *meta_or(b, "python_strategies", "") != '\0') {
		sbuf_reset(&sb);
		sbuf_printf(
		    &sb,
		    "The tutorial's own Python programs (%s) are run by %s and measured "
		    "the same way, in the same rounds, with shorter count lists of their own; "
		    "they write the same result document, with tracemalloc's figures as their "
		    "heap.",
		    meta_or(b, "python_strategies", "?"),
		    meta_or(b, "python_program", "scripts/python/iostrat-py"));
		doc_item(d, sbuf_text(&sb));
	}
	sbuf_reset(&sb);
	sbuf_printf(&sb,
		    "A count is skipped when one run is predicted, from the count before, to take "
		    "over %s s, or when the machine's limits forbid it; a strategy that says it "
		    "is unavailable (exit status 2) is skipped with its own reason.",
		    meta_or(b, "max_run_s", "?"));
	doc_item(d, sbuf_text(&sb));
	doc_list_end(d);
	doc_para(d, "To repeat this run (from the top of the source tree):");
	doc_code(d, meta_or(b, "repeat", "make bench"));
	free(sb.text);
}

/* The most tasks of a document running at the same moment, from their start and end times. */
static int max_overlap(json_t *doc)
{
	json_t *tasks = json_object_get(doc, "tasks");
	size_t n = json_array_size(tasks);
	int best = 0;

	for (size_t i = 0; i < n; i++) {
		double at = json_num(json_array_get(tasks, i), "start_s");
		int running = 0;

		for (size_t j = 0; j < n && !isnan(at); j++) {
			json_t *t = json_array_get(tasks, j);

			running += json_num(t, "start_s") <= at && json_num(t, "end_s") > at;
		}
		if (running > best)
			best = running;
	}
	return best;
}

/* 1. The tutorial's picture. */
static void section_timelines(struct bench *b, struct doc *d)
{
	const char *kinds[2] = {"demo", "timeline"};
	const char *names[2] = {"demo", "http"};
	char t1[64], t2[64];

	doc_heading(d, 2, "1. The tutorial's picture: one bar per task");
	for (int k = 0; k < 2; k++) {
		struct table t;
		struct sbuf cap = {0};
		char chart[64];
		int n = 0;

		char demo[160] = "The tutorial's demo, ";

		demo_description(b, demo + strlen(demo), sizeof(demo) - strlen(demo));
		table_head(&t, 8, "strategy", "task", "start", "end", "duration", "PID", "TID",
			   "status");
		sbuf_printf(
		    &cap,
		    "%s: each horizontal bar is one task, from its start to its end "
		    "(seconds since the run began), coloured by the process and thread that "
		    "ran it.",
		    k == 0 ? demo : "HTTP fetches from the local server");
		for (int s = 0; s < b->nstrategies; s++) {
			for (size_t i = 0; i < b->steps_len; i++) {
				struct step *st = &b->steps[i];
				json_t *tasks;

				if (strcmp(st->kind, kinds[k]) ||
				    strcmp(st->strategy, b->strategies[s]) || st->doc == NULL)
					continue;
				tasks = json_object_get(st->doc, "tasks");
				for (size_t j = 0; j < json_array_size(tasks); j++) {
					json_t *task = json_array_get(tasks, j);
					double a = json_num(task, "start_s"),
					       e = json_num(task, "end_s");

					table_cell(&t, "%s", b->strategies[s]);
					table_cell(&t, "%.0f", json_num(task, "id"));
					table_cell(&t, "%.3f s", a);
					table_cell(&t, "%.3f s", e);
					table_cell(&t, "%s", fmt_seconds(e - a, t1, sizeof(t1)));
					table_cell(&t, "%.0f", json_num(task, "pid"));
					table_cell(&t, "%.0f", json_num(task, "tid"));
					table_cell(&t, "%s",
						   json_str(task, "status")
						       ? json_str(task, "status")
						       : "?");
				}
				sbuf_printf(&cap, " %s took %s", b->strategies[s],
					    fmt_seconds(json_num(st->doc, "summary.wall_s"), t2,
							sizeof(t2)));
				sbuf_printf(&cap, " with %.0f process%s and at most %.0f thread%s;",
					    json_num(st->doc, "summary.processes"),
					    json_num(st->doc, "summary.processes") == 1 ? "" : "es",
					    json_num(st->doc, "summary.threads_peak"),
					    json_num(st->doc, "summary.threads_peak") == 1 ? ""
											   : "s");
				n++;
			}
		}
		if (n == 0) {
			doc_para(
			    d,
			    k == 0
				? "(The demo did not run for any strategy; see \"Skipped and "
				  "failed\".)"
				: "(No HTTP run: the http workload was not measured in this run; "
				  "see \"Skipped and failed\".)");
			table_head(&t, 1, "-");
			t.rows = 0;
			doc_table_free(&t);
			free(cap.text);
			continue;
		}
		cap.text[cap.len - 1] = '.';
		sbuf_printf(&cap, " Notice how many tasks overlapped at most:");
		for (int s = 0; s < b->nstrategies; s++) {
			for (size_t i = 0; i < b->steps_len; i++) {
				struct step *st = &b->steps[i];

				if (strcmp(st->kind, kinds[k]) == 0 &&
				    strcmp(st->strategy, b->strategies[s]) == 0 && st->doc)
					sbuf_printf(&cap, " %s %d,", b->strategies[s],
						    max_overlap(st->doc));
			}
		}
		cap.text[cap.len - 1] = '.';
		sbuf_printf(&cap, " Tasks that overlap wait together; tasks in series add up.");
		snprintf(chart, sizeof(chart), "timeline-%s", names[k]);
		doc_figure(d, chart,
			   k == 0 ? "Timeline of the 4-task demo per strategy"
				  : "Timeline of an HTTP run per strategy",
			   sbuf_text(&cap));
		doc_table(d, &t);
		free(cap.text);
	}
}

/* 2. Wall time against task count. */
static void section_wall(struct bench *b, struct doc *d, int w)
{
	const char *wn = b->workloads[w];
	struct table t;
	struct sbuf cap = {0}, head = {0};
	char chart[64], t1[64], t2[64], t3[64], n1[32], n2[32];

	sbuf_printf(&head, "2. Wall time against task count: %s", wn);
	doc_heading(d, 2, sbuf_text(&head));
	sbuf_printf(&cap,
		    "Whole-command wall time (median, bars from the fastest to the slowest run) "
		    "against the number of %s tasks, both axes logarithmic, one line per strategy.",
		    wn);
	if (!isnan(workload_delay(b, w)))
		sbuf_printf(
		    &cap,
		    " The black lines are the ideals: %s when every task waits at once "
		    "(solid), one delay per task when they wait one after another (dashed).",
		    fmt_seconds(workload_delay(b, w), t1, sizeof(t1)));
	for (int s = 0; s < b->nstrategies; s++) {
		int lo, hi;

		if (!count_span(b, w, s, true, &lo, &hi))
			continue;
		sbuf_printf(
		    &cap, " %s: %s at %s task%s, %s at %s (%s the ideal);", b->strategies[s],
		    fmt_seconds(b->cells[w][s][lo].timing.median_s, t1, sizeof(t1)),
		    fmt_count(b->counts[w][lo], n1, sizeof(n1)), b->counts[w][lo] == 1 ? "" : "s",
		    fmt_seconds(b->cells[w][s][hi].timing.median_s, t2, sizeof(t2)),
		    fmt_count(b->counts[w][hi], n2, sizeof(n2)),
		    fmt_ratio(b->cells[w][s][hi].timing.median_s /
				  ideal_s(b, w, s, b->counts[w][hi]),
			      t3, sizeof(t3)));
	}
	if (cap.text[cap.len - 1] == ';')
		cap.text[cap.len - 1] = '.';
	snprintf(chart, sizeof(chart), "wall-%s", wn);
	doc_figure(d, chart, "Wall time against task count", sbuf_text(&cap));

	table_head(&t, 8, "strategy", "tasks", "median", "min", "max", "runs", "ideal",
		   "in flight");
	for (int s = 0; s < b->nstrategies; s++) {
		for (int c = 0; c < b->ncounts[w]; c++) {
			struct cell *cell = &b->cells[w][s][c];
			json_t *doc = cell_doc(cell);

			if (!cell_timed(cell))
				continue;
			table_cell(&t, "%s", b->strategies[s]);
			table_cell(&t, "%s", fmt_count(b->counts[w][c], n1, sizeof(n1)));
			table_cell(&t, "%s", fmt_seconds(cell->timing.median_s, t1, sizeof(t1)));
			table_cell(&t, "%s", fmt_seconds(cell->timing.min_s, t2, sizeof(t2)));
			table_cell(&t, "%s", fmt_seconds(cell->timing.max_s, t3, sizeof(t3)));
			table_cell(&t, "%d%s", cell->timing.runs,
				   cell->timing.failed_runs ? " (some failed)" : "");
			table_cell(&t, "%s",
				   fmt_seconds(ideal_s(b, w, s, b->counts[w][c]), t1, sizeof(t1)));
			table_cell(&t, "%.0f", json_num(doc, "summary.inflight_peak"));
		}
	}
	doc_table(d, &t);
	free(cap.text);
	free(head.text);
}

/* 3. Peak memory against task count. */
static void section_memory(struct bench *b, struct doc *d, int w)
{
	const char *wn = b->workloads[w];
	struct table t;
	struct sbuf cap = {0}, head = {0};
	char chart[64], t1[64], t2[64], t3[64], n1[32];

	sbuf_printf(&head, "3. Peak memory against task count: %s", wn);
	doc_heading(d, 2, sbuf_text(&head));
	sbuf_printf(&cap, "Left: heap peak, every malloc of the process that runs the strategy "
			  "(a forked child's own heap is not in it)");
	if (any_python(b, w))
		sbuf_printf(&cap,
			    "; for the tutorial's Python (python-*), tracemalloc's traced peak "
			    "instead, which counts only the Python objects it traced");
	sbuf_printf(&cap,
		    ". Right: resident memory, each process's peak RSS added over every "
		    "process of the run. Both axes logarithmic. Per task, from the smallest to the "
		    "largest count:");
	for (int s = 0; s < b->nstrategies; s++) {
		long to = 0;
		double rss = memory_per_task(b, w, s, "summary.rss_peak_total_bytes", &to);

		if (!isnan(rss) && rss > 0)
			sbuf_printf(&cap, " %s %s resident;", b->strategies[s],
				    fmt_bytes(rss, t1, sizeof(t1)));
		else if (!isnan(rss))
			sbuf_printf(&cap, " %s no growth measured;", b->strategies[s]);
	}
	cap.text[cap.len - 1] = '.';
	snprintf(chart, sizeof(chart), "memory-%s", wn);
	doc_figure(d, chart, "Peak memory against task count", sbuf_text(&cap));

	table_head(&t, 8, "strategy", "tasks", "heap peak", "RSS, all processes", "stacks reserved",
		   "processes", "threads peak", "in flight");
	for (int s = 0; s < b->nstrategies; s++) {
		for (int c = 0; c < b->ncounts[w]; c++) {
			json_t *doc = cell_doc(&b->cells[w][s][c]);

			if (doc == NULL)
				continue;
			table_cell(&t, "%s", b->strategies[s]);
			table_cell(&t, "%s", fmt_count(b->counts[w][c], n1, sizeof(n1)));
			table_cell(
			    &t, "%s%s",
			    fmt_bytes(json_num(doc, "summary.heap_peak_bytes"), t1, sizeof(t1)),
			    heap_label(doc));
			table_cell(&t, "%s",
				   fmt_bytes(json_num(doc, "summary.rss_peak_total_bytes"), t2,
					     sizeof(t2)));
			table_cell(&t, "%s",
				   fmt_bytes(json_num(doc, "summary.stack_reserved_bytes"), t3,
					     sizeof(t3)));
			table_cell(&t, "%.0f", json_num(doc, "summary.processes"));
			table_cell(&t, "%.0f", json_num(doc, "summary.threads_peak"));
			table_cell(&t, "%.0f", json_num(doc, "summary.inflight_peak"));
		}
	}
	doc_table(d, &t);
	free(cap.text);
	free(head.text);
}

/* 4. Overhead per task next to the bare primitive. */
static void section_overhead(struct bench *b, struct doc *d)
{
	int w = workload_index(b, "sleep");
	struct table t;
	struct sbuf cap = {0};
	char t1[64], t2[64], n1[32], n2[32];

	doc_heading(d, 2, "4. Overhead per task, next to the bare kernel cost");
	if (w < 0) {
		doc_para(d, "(The sleep workload was not measured in this run.)");
		return;
	}
	sbuf_printf(&cap,
		    "What one more sleeping task adds to the wall time beyond its wait: the "
		    "slope of (median - ideal) between the smallest and largest timed count, in "
		    "microseconds, logarithmic axis. Beside it, the bare cost of the primitive "
		    "the strategy pays per task, measured alone by iostrat-bare %s times in a row "
		    "(fork + exit + waitpid; pthread_create + join; arming a timerfd and waiting "
		    "for it in epoll).",
		    meta_or(b, "bare_count", "?"));
	table_head(&t, 5, "strategy", "per task", "from … to tasks", "primitive", "bare primitive");
	for (int s = 0; s < b->nstrategies; s++) {
		long from = 0, to = 0;
		double per = overhead_per_task_s(b, w, s, &from, &to);
		int prim = strategy_primitive(b, w, s);

		if (isnan(per))
			continue;
		table_cell(&t, "%s", b->strategies[s]);
		table_cell(&t, "%s", fmt_seconds(per, t1, sizeof(t1)));
		table_cell(&t, "%s … %s", fmt_count(from, n1, sizeof(n1)),
			   fmt_count(to, n2, sizeof(n2)));
		table_cell(&t, "%s", prim >= 0 ? report_bare_names[prim] : "none (one by one)");
		table_cell(&t, "%s", fmt_seconds(bare_per_op_s(b, prim), t2, sizeof(t2)));
		if (prim >= 0 && !isnan(bare_per_op_s(b, prim)) && bare_per_op_s(b, prim) > 0)
			sbuf_printf(&cap, " %s: %s per task, %s the bare %s.", b->strategies[s],
				    fmt_seconds(per, t1, sizeof(t1)),
				    fmt_ratio(per / bare_per_op_s(b, prim), t2, sizeof(t2)),
				    report_bare_names[prim]);
	}
	doc_figure(d, "overhead", "Overhead per task and bare primitive cost", sbuf_text(&cap));
	doc_table(d, &t);
	free(cap.text);
}

/* 5. Throughput and latency percentiles. */
static void section_throughput(struct bench *b, struct doc *d, int w)
{
	const char *wn = b->workloads[w], *unit = "tasks/s";
	int ref = reference_count(b, w);
	struct table t;
	struct sbuf cap = {0}, head = {0};
	char chart[64], t1[64], t2[64], t3[64], n1[32];

	sbuf_printf(&head, "5. Throughput and latency: %s", wn);
	doc_heading(d, 2, sbuf_text(&head));
	table_head(&t, 7, "strategy", "tasks", "throughput", "p50", "p90", "p99", "max");
	for (int s = 0; s < b->nstrategies; s++) {
		for (int c = 0; c < b->ncounts[w]; c++) {
			json_t *doc = cell_doc(&b->cells[w][s][c]);

			if (doc == NULL)
				continue;
			table_cell(&t, "%s", b->strategies[s]);
			table_cell(&t, "%s", fmt_count(b->counts[w][c], n1, sizeof(n1)));
			table_cell(&t, "%.4g %s", throughput(b, w, doc, &unit), unit);
			table_cell(
			    &t, "%s",
			    fmt_seconds(json_num(doc, "summary.latency_s.p50"), t1, sizeof(t1)));
			table_cell(
			    &t, "%s",
			    fmt_seconds(json_num(doc, "summary.latency_s.p90"), t2, sizeof(t2)));
			table_cell(
			    &t, "%s",
			    fmt_seconds(json_num(doc, "summary.latency_s.p99"), t3, sizeof(t3)));
			table_cell(
			    &t, "%s",
			    fmt_seconds(json_num(doc, "summary.latency_s.max"), t1, sizeof(t1)));
		}
	}
	sbuf_printf(&cap,
		    "Left: throughput in %s (from iostrat's own result document) against the task "
		    "count. Right: latency percentiles of one task (its end minus its start) at %s "
		    "tasks, p50, p90 and p99 side by side per strategy.",
		    unit, ref >= 0 ? fmt_count(b->counts[w][ref], n1, sizeof(n1)) : "?");
	for (int s = 0; s < b->nstrategies && ref >= 0; s++) {
		json_t *doc = cell_doc(&b->cells[w][s][ref]);

		if (doc)
			sbuf_printf(
			    &cap, " %s: %.4g %s, p99 %s;", b->strategies[s],
			    throughput(b, w, doc, &unit), unit,
			    fmt_seconds(json_num(doc, "summary.latency_s.p99"), t1, sizeof(t1)));
	}
	cap.text[cap.len - 1] = '.';
	for (int s = 0, short_rows = 0; s < b->nstrategies && ref >= 0; s++) {
		int lo, hi;

		if (!is_python(b->strategies[s]) || cell_doc(&b->cells[w][s][ref]) != NULL ||
		    (!count_span(b, w, s, false, &lo, &hi) && lo < 0))
			continue;
		sbuf_printf(&cap, "%s%s",
			    short_rows++ ? ", " : " Not at that count (shorter count lists): ",
			    b->strategies[s]);
	}
	if (cap.text[cap.len - 1] != '.')
		sbuf_printf(&cap, ".");
	snprintf(chart, sizeof(chart), "throughput-%s", wn);
	doc_figure(d, chart, "Throughput and latency percentiles", sbuf_text(&cap));
	doc_table(d, &t);
	free(cap.text);
	free(head.text);
}

/* 6. hyperfine's own figures, as its Markdown export shows them. */
static void section_hyperfine(struct bench *b, struct doc *d, int w)
{
	const char *wn = b->workloads[w];
	struct table t;
	struct sbuf cap = {0}, head = {0};
	char chart[64], n1[32];

	sbuf_printf(&head, "6. hyperfine's figures: %s", wn);
	doc_heading(d, 2, sbuf_text(&head));
	sbuf_printf(
	    &cap, "Mean wall time of every timed command, grouped by task count, one bar per "
		  "strategy, with a whisker from the fastest to the slowest run; logarithmic axis. "
		  "The table beside it is hyperfine's summary, the runs of all rounds pooled; "
		  "\"relative\" is against the fastest command at the same count.");
	snprintf(chart, sizeof(chart), "hyperfine-%s", wn);
	doc_figure(d, chart, "hyperfine: mean and spread per command", sbuf_text(&cap));
	table_head(&t, 7, "command", "mean [ms]", "stddev [ms]", "min [ms]", "max [ms]", "runs",
		   "relative");
	for (int c = 0; c < b->ncounts[w]; c++) {
		double fastest = INFINITY;

		for (int s = 0; s < b->nstrategies; s++) {
			if (cell_timed(&b->cells[w][s][c]) &&
			    b->cells[w][s][c].timing.mean_s < fastest)
				fastest = b->cells[w][s][c].timing.mean_s;
		}
		for (int s = 0; s < b->nstrategies; s++) {
			struct timing *tm = &b->cells[w][s][c].timing;

			if (tm->runs == 0)
				continue;
			table_cell(&t, "%s %s %s -n %s -q",
				   is_python(b->strategies[s])
				       ? meta_or(b, "python_program", "scripts/python/iostrat-py")
				       : "iostrat",
				   b->strategies[s], wn,
				   fmt_count(b->counts[w][c], n1, sizeof(n1)));
			table_cell(&t, "%.1f", tm->mean_s * 1e3);
			table_cell(&t, "%.1f", tm->stddev_s * 1e3);
			table_cell(&t, "%.1f", tm->min_s * 1e3);
			table_cell(&t, "%.1f", tm->max_s * 1e3);
			table_cell(&t, "%d", tm->runs);
			table_cell(&t, "%.2f", tm->mean_s / fastest);
		}
	}
	doc_table(d, &t);
	free(cap.text);
	free(head.text);
}

/* One row of the comparison: a figure for Python and for C, and their ratio. */
static void pair_row(struct table *t, const struct bench *b, const struct pair_figures *f, int w,
		     const char *figure, const char *python, const char *c, double python_v,
		     double c_v)
{
	double ratio = pair_ratio(python_v, c_v);
	char n1[32], r[64];

	if (!isnan(ratio))
		fmt_pair_ratio(ratio, r, sizeof(r));
	else if (c_v <= 0)
		snprintf(r, sizeof(r), "– (C's figure is not above zero)");
	else if (python_v <= 0)
		snprintf(r, sizeof(r), "– (Python's figure is not above zero)");
	else
		snprintf(r, sizeof(r), "–");

	table_cell(t, "%s", b->strategies[f->python]);
	table_cell(t, "%s", b->strategies[f->c]);
	table_cell(t, "%s", fmt_count(b->counts[w][f->hi], n1, sizeof(n1)));
	table_cell(t, "%s", figure);
	table_cell(t, "%s", python);
	table_cell(t, "%s", c);
	table_cell(t, "%s", r);
}

/* 7. The tutorial's own Python programs beside the C strategies that wait the same way. */
static void section_python(struct bench *b, struct doc *d)
{
	struct sbuf sb = {0};
	char t1[64], t2[64];
	int pairs_shown = 0, skipped = 0, plan_steps = 0;

	doc_heading(d, 2, "7. C and the tutorial's Python");
	sbuf_printf(&sb,
		    "The tutorial's own Python programs (%s, run by %s) beside the C strategy "
		    "that waits the same way:",
		    meta_or(b, "python_version", "scripts/python/iostrat.py"),
		    meta_or(b, "python_program", "scripts/python/iostrat-py"));
	for (size_t i = 0; i < REPORT_PYTHON_PAIRS; i++)
		sbuf_printf(&sb, " %s beside %s%s", report_python_pairs[i].python,
			    report_python_pairs[i].c, i + 1 < REPORT_PYTHON_PAIRS ? "," : ".");
	sbuf_printf(&sb,
		    " Each pair is compared at the largest task count both reached with every "
		    "task ok, from their result documents. Overhead per task is (wall - ideal) / "
		    "tasks of that run (the interpreter's start is not in it: wall time runs from "
		    "the first task's start). Heap and resident memory per task are the slope from "
		    "the smallest to the largest count both reached (what one more task adds), or "
		    "the figure over the tasks when they share one count. The last column is "
		    "Python's figure over C's.");
	doc_para(d, sbuf_text(&sb));
	sbuf_reset(&sb);
	doc_para(
	    d, "The two heaps do not count the same thing. iostrat's is every malloc of the "
	       "process (its own, the C library's, libcurl's, jansson's), from before main() "
	       "begins. The Python programs' is tracemalloc's: the Python objects allocated after "
	       "tracing began, not the interpreter's own C allocations nor what C libraries "
	       "allocate beneath Python. Read their ratio as orders of magnitude, not bytes; the "
	       "resident memory (each process's peak RSS, added over every process) counts the "
	       "same thing in both.");
	for (int w = 0; w < b->nworkloads; w++) {
		struct table t;
		bool any = false;
		char head[128];

		table_head(&t, 7, "Python", "C", "tasks", "figure", "Python", "C", "Python / C");
		for (size_t i = 0; i < REPORT_PYTHON_PAIRS; i++) {
			struct pair_figures f;

			if (!pair_figures(b, w, i, &f))
				continue;
			if (!isnan(f.overhead_py_s) || !isnan(f.overhead_c_s))
				pair_row(&t, b, &f, w, "overhead per task",
					 fmt_seconds(f.overhead_py_s, t1, sizeof(t1)),
					 fmt_seconds(f.overhead_c_s, t2, sizeof(t2)),
					 f.overhead_py_s, f.overhead_c_s);
			pair_row(&t, b, &f, w,
				 "heap per task (Python: tracemalloc; C: every malloc)",
				 fmt_bytes(f.heap_py_bytes, t1, sizeof(t1)),
				 fmt_bytes(f.heap_c_bytes, t2, sizeof(t2)), f.heap_py_bytes,
				 f.heap_c_bytes);
			pair_row(&t, b, &f, w, "resident memory (RSS) per task",
				 fmt_bytes(f.rss_py_bytes, t1, sizeof(t1)),
				 fmt_bytes(f.rss_c_bytes, t2, sizeof(t2)), f.rss_py_bytes,
				 f.rss_c_bytes);
			if (!isnan(f.rate_py)) {
				snprintf(t1, sizeof(t1), "%.4g %s", f.rate_py, f.rate_unit);
				snprintf(t2, sizeof(t2), "%.4g %s", f.rate_c, f.rate_unit);
				pair_row(&t, b, &f, w,
					 strcmp(f.rate_unit, "requests/s") == 0
					     ? "requests per second"
					     : "throughput",
					 t1, t2, f.rate_py, f.rate_c);
			}
			any = true;
			pairs_shown++;
		}
		if (!any) {
			doc_table_free(&t);
			continue;
		}
		snprintf(head, sizeof(head), "%s", b->workloads[w]);
		doc_heading(d, 3, head);
		doc_table(d, &t);
	}
	if (pairs_shown == 0)
		doc_para(d, "No pair of the tutorial's Python and C was measured in this run.");
	/* why a Python row is missing: every step skipped for a whole strategy or workload; the
	 * counts left out of the plan are said in one sentence */
	for (size_t i = 0; i < b->steps_len; i++) {
		struct step *st = &b->steps[i];

		if (is_python(st->strategy) && strcmp(st->kind, "plan") == 0) {
			plan_steps++;
			continue;
		}
		if (!is_python(st->strategy) || strcmp(st->status, "skipped") != 0 ||
		    st->count != 0)
			continue;
		if (skipped++ == 0) {
			doc_para(d, "Python rows left out of this run, and why:");
			doc_list_begin(d);
		}
		sbuf_reset(&sb);
		if (strcmp(st->workload, "-") != 0)
			sbuf_printf(&sb, "%s × %s: %s", st->strategy, st->workload, st->reason);
		else
			sbuf_printf(&sb, "%s: skipped – %s", st->strategy, st->reason);
		doc_item(d, sbuf_text(&sb));
	}
	if (skipped > 0)
		doc_list_end(d);
	if (plan_steps > 0) {
		sbuf_reset(&sb);
		sbuf_printf(
		    &sb,
		    "The Python rows stop at smaller counts than C's in BENCH=%s: Python starts "
		    "a task so slowly that they have shorter count lists of their own (%d "
		    "strategy × workload pairs; each is listed under \"Skipped and failed\").",
		    meta_or(b, "mode", "?"), plan_steps);
		doc_para(d, sbuf_text(&sb));
	}
	free(sb.text);
}

static void section_skipped(struct bench *b, struct doc *d)
{
	struct table t;
	char n1[32];

	doc_heading(d, 2, "Skipped and failed");
	table_head(&t, 6, "step", "workload", "strategy", "tasks", "status", "why");
	for (size_t i = 0; i < b->steps_len; i++) {
		struct step *st = &b->steps[i];

		if (strcmp(st->status, "ok") == 0 && strcmp(st->reason, "-") == 0)
			continue;
		table_cell(&t, "%s", st->kind);
		table_cell(&t, "%s", st->workload);
		table_cell(&t, "%s", st->strategy);
		table_cell(&t, "%s", st->count ? fmt_count(st->count, n1, sizeof(n1)) : "-");
		table_cell(&t, "%s", strcmp(st->status, "ok") ? st->status : "result only");
		table_cell(&t, "%s", st->reason);
	}
	doc_table(d, &t);
}

static void section_files(struct bench *b, struct doc *d)
{
	char path[4096];
	struct dirent *de;
	DIR *dir;

	doc_heading(d, 2, "Files of this run");
	doc_para(
	    d, "iostrat's result documents, hyperfine's exports and the tables behind the charts; "
	       "every figure above comes from these files.");
	doc_list_begin(d);
	doc_item_link(d, "meta.tsv: the run's description", "meta.tsv");
	doc_item_link(d, "steps.tsv: every step, with its status and reason", "steps.tsv");
	doc_item_link(d, "report.md (this report in Markdown)", "report.md");
	for (size_t i = 0; i < b->steps_len; i++) {
		if (strcmp(b->steps[i].file, "-") != 0)
			doc_item_link(d, b->steps[i].file, b->steps[i].file);
	}
	for (int i = 0; i < 3; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "bare/%s.json", report_bare_names[i]);
		doc_item_link(d, rel, rel);
	}
	snprintf(path, sizeof(path), "%s/hyperfine", b->dir);
	dir = opendir(path);
	while (dir && (de = readdir(dir)) != NULL) {
		char rel[512];

		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "hyperfine/%s", de->d_name);
		doc_item_link(d, rel, rel);
	}
	if (dir)
		closedir(dir);
	doc_list_end(d);
}

static FILE *open_out(const char *dir, const char *name, char *tmp, size_t len)
{
	FILE *f;

	snprintf(tmp, len, "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (f == NULL)
		fprintf(stderr, "iostrat-report: create %s: %s\n", tmp, strerror(errno));
	return f;
}

static int finish_out(FILE *f, const char *tmp, const char *dir, const char *name)
{
	char path[4096];

	if (fclose(f) != 0) {
		fprintf(stderr, "iostrat-report: write %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "iostrat-report: rename %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_report(struct bench *b)
{
	char md_tmp[4096], html_tmp[4096], title[512];
	struct doc d = {.dir = b->dir};
	const char *status = meta_or(b, "status", "unknown");
	int ws = workload_index(b, "sleep");

	d.md = open_out(b->dir, "report.md", md_tmp, sizeof(md_tmp));
	d.html = open_out(b->dir, "index.html", html_tmp, sizeof(html_tmp));
	if (d.md == NULL || d.html == NULL)
		return -1;
	snprintf(title, sizeof(title), "iostrat bench, %s, on %s", meta_or(b, "started_at", "?"),
		 meta_or(b, "host", "?"));
	fprintf(d.html, report_html_head, title);
	doc_heading(&d, 1, title);
	if (strcmp(status, "complete") != 0) {
		char text[512];

		snprintf(text, sizeof(text),
			 "This run is incomplete (%s): the figures below are what "
			 "was measured before it stopped.",
			 status);
		fprintf(d.html, "<p class=\"banner\">");
		html_escape(d.html, text);
		fprintf(d.html, "</p>\n");
		fprintf(d.md, "> **");
		md_escape(d.md, text);
		fprintf(d.md, "**\n\n");
	}
	doc_para(&d,
		 "How long a program takes to wait for many things at once, and what it costs, "
		 "for each way of waiting: one after another (blocking), a process per task, a "
		 "thread per task, or one event loop. Every figure below was measured in this run "
		 "and every sentence with a number in it was computed from those figures.");
	section_findings(b, &d);
	section_machine(b, &d);
	section_method(b, &d);
	section_timelines(b, &d);
	for (int w = 0; w < b->nworkloads; w++)
		section_wall(b, &d, w);
	for (int w = 0; w < b->nworkloads; w++)
		section_memory(b, &d, w);
	if (ws >= 0)
		section_overhead(b, &d);
	for (int w = 0; w < b->nworkloads; w++)
		section_throughput(b, &d, w);
	for (int w = 0; w < b->nworkloads; w++)
		section_hyperfine(b, &d, w);
	section_python(b, &d);
	section_skipped(b, &d);
	section_files(b, &d);
	fputs(report_html_tail, d.html);
	if (finish_out(d.md, md_tmp, b->dir, "report.md") < 0 ||
	    finish_out(d.html, html_tmp, b->dir, "index.html") < 0)
		return -1;
	return 0;
}

static int cmd_get(const char *file, const char *path)
{
	json_error_t err;
	json_t *doc = json_load_file(file, 0, &err);
	json_t *v;

	if (doc == NULL) {
		fprintf(stderr, "iostrat-report: %s: %s (line %d)\n", file, err.text, err.line);
		return 1;
	}
	v = json_path(doc, path);
	if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		printf("%.9g\n", json_real_value(v));
	else if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else if (json_is_boolean(v))
		printf("%d\n", json_is_true(v));
	else {
		fprintf(stderr, "iostrat-report: %s: no value at %s\n", file, path);
		json_decref(doc);
		return 1;
	}
	json_decref(doc);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: iostrat-report data DIR | report DIR | get FILE PATH\n");
}

int main(int argc, char **argv)
{
	static struct bench bench;

	if (argc == 4 && strcmp(argv[1], "get") == 0)
		return cmd_get(argv[2], argv[3]);
	if (argc != 3 || (strcmp(argv[1], "data") && strcmp(argv[1], "report"))) {
		usage();
		return 2;
	}
	if (bench_load(&bench, argv[2]) < 0)
		return 1;
	if (strcmp(argv[1], "data") == 0) {
		write_data(&bench);
		return 0;
	}
	return write_report(&bench) < 0 ? 1 : 0;
}
