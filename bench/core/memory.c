/* memory.c - memory that counts each page once. A process reads its own
 * /proc/self/smaps_rollup (USS, PSS), status (RssAnon, VmPTE, Threads) and
 * maps (its VMAs); stacks are measured with mincore(). Teaches: smaps_rollup,
 * the kernel's per-process spending, mincore, a MAP_SHARED record table. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap.h"
#include "memory.h"
#include "run.h"
#include "workload.h"

/* What the kernel allocates beside a process's pages: object sizes from
 * /proc/slabinfo of Linux 6.18 on x86-64 (they vary a little by version and
 * CPU; task_struct carries the FPU state). VMAs dominate for iostrat: libcurl
 * brings 35 libraries, about 190 mappings. */
#define KOBJ_PROCESS_BYTES                                                     \
	(1600 /* mm_struct */ + 1152 /* signal_struct */ +                     \
	 2112 /* sighand_struct */ + 704 /* files_struct */)
#define KOBJ_THREAD_BYTES (4224 /* task_struct */ + 192 /* struct pid */)
#define KOBJ_VMA_BYTES                                                         \
	(192 /* vm_area_struct */ + 256 / 10 /* maple node, ~10 VMAs each */)
#define KOBJ_ANON_VMA_BYTES 104	 /* anon_vma, one per writable mapping */
#define KOBJ_ANON_CHAIN_BYTES 64 /* anon_vma_chain, one per generation */

/* The parent samples itself no more often than this, and no more often than
 * 100 times what one sample costs: at most 1% of its time. */
#define SAMPLE_INTERVAL_NS (10 * 1000000LL)
#define SAMPLE_COST_FACTOR 100

/* "Key:   1234 kB" lines: the value of key in bytes, or -1 when absent. */
static int64_t field_value(const char *text, const char *key, bool kilobytes)
{
	size_t key_len = strlen(key);
	const char *line = text;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
			char *end;
			long long value = strtoll(line + key_len + 1, &end, 10);
			if (end == line + key_len + 1)
				return -1;
			return kilobytes ? value * 1024 : value;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return -1;
}

/* Sets *field from key when present; counts what was found. */
static void take(const char *text, const char *key, bool kilobytes,
		 uint64_t *field, int *found)
{
	int64_t value = field_value(text, key, kilobytes);
	if (value >= 0) {
		*field = (uint64_t)value;
		(*found)++;
	}
}

int memory_parse_rollup(const char *text, struct memory_reading *out)
{
	int found = 0;

	take(text, "Rss", true, &out->rss_bytes, &found);
	take(text, "Pss", true, &out->pss_bytes, &found);
	take(text, "Private_Clean", true, &out->private_clean_bytes, &found);
	take(text, "Private_Dirty", true, &out->private_dirty_bytes, &found);
	return found > 0 ? 0 : -1;
}

int memory_parse_status(const char *text, struct memory_reading *out)
{
	int found = 0;
	uint64_t threads = 0;

	take(text, "RssAnon", true, &out->anon_bytes, &found);
	take(text, "RssShmem", true, &out->shmem_bytes, &found);
	take(text, "VmPTE", true, &out->page_tables_bytes, &found);
	take(text, "Threads", false, &threads, &found);
	out->threads = (long)threads;
	return found > 0 ? 0 : -1;
}

void memory_count_maps(struct memory_maps_count *count, const char *text,
		       size_t len)
{
	/* a line: "start-end perms offset dev inode path"; column 0 is the
	 * address, 1 the perms, 2 the rest */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\n') {
			count->vmas++;
			if (count->perms_len == 4 && count->perms[0] == 'r' &&
			    count->perms[1] == 'w' && count->perms[3] == 'p')
				count->vmas_writable++;
			count->column = 0;
			count->perms_len = 0;
		} else if (count->column == 0 && c == ' ') {
			count->column = 1;
		} else if (count->column == 1 && c == ' ') {
			count->column = 2;
		} else if (count->column == 1 && count->perms_len < 4) {
			count->perms[count->perms_len++] = c;
		}
	}
}

/* The whole of a small /proc file into buf (NUL-terminated): its length, or a
 * negative errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;

	if (fd < 0)
		return -errno;
	while (used < size - 1) {
		ssize_t got = read(fd, buf + used, size - 1 - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = errno;
			close(fd);
			return -err;
		}
		if (got == 0)
			break;
		used += (size_t)got;
	}
	close(fd);
	buf[used] = '\0';
	return (ssize_t)used;
}

static int count_maps(struct memory_reading *out)
{
	struct memory_maps_count count = {0};
	char buf[4096];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = errno;
			close(fd);
			return -err;
		}
		if (got == 0)
			break;
		memory_count_maps(&count, buf, (size_t)got);
	}
	close(fd);
	out->vmas = count.vmas;
	out->vmas_writable = count.vmas_writable;
	return 0;
}

int memory_read_self(struct memory_reading *out, bool with_maps)
{
	char buf[4096];
	ssize_t len;

	memset(out, 0, sizeof(*out));
	len = read_small("/proc/self/smaps_rollup", buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	if (memory_parse_rollup(buf, out) < 0)
		return -EINVAL;
	len = read_small("/proc/self/status", buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	if (memory_parse_status(buf, out) < 0)
		return -EINVAL;
	return with_maps ? count_maps(out) : 0;
}

uint64_t memory_kernel_objects_bytes(long threads, long vmas,
				     long vmas_writable, int generations)
{
	return KOBJ_PROCESS_BYTES + (uint64_t)threads * KOBJ_THREAD_BYTES +
	       (uint64_t)vmas * KOBJ_VMA_BYTES +
	       (uint64_t)vmas_writable *
		   (KOBJ_ANON_VMA_BYTES +
		    (uint64_t)generations * KOBJ_ANON_CHAIN_BYTES);
}

uint64_t memory_resident_bytes(const void *addr, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)addr / page * page;
	uintptr_t end = ((uintptr_t)addr + len + page - 1) / page * page;
	unsigned char vec[1024];
	uint64_t resident = 0;

	while (start < end) {
		size_t pages = (end - start) / page;
		if (pages > sizeof(vec))
			pages = sizeof(vec);
		if (mincore((void *)start, pages * page, vec) < 0)
			return 0;
		for (size_t i = 0; i < pages; i++)
			resident += vec[i] & 1;
		start += pages * page;
	}
	return resident * page;
}

uint64_t memory_thread_stack_resident_bytes(void)
{
	pthread_attr_t attr;
	void *low = NULL;
	size_t size = 0;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return 0;
	if (pthread_attr_getstack(&attr, &low, &size) != 0)
		size = 0;
	pthread_attr_destroy(&attr);
	return size > 0 ? memory_resident_bytes(low, size) : 0;
}

static int compare_event(const void *a, const void *b)
{
	const int64_t *x = a, *y = b; /* {time, +1 start / 0 end, index} */
	if (x[0] != y[0])
		return (x[0] > y[0]) - (x[0] < y[0]);
	return (x[1] > y[1]) - (x[1] < y[1]); /* ends first */
}

uint64_t memory_peak_overlap(const int64_t *starts_ns, const int64_t *ends_ns,
			     const uint64_t *weights, long count,
			     int64_t *when_ns)
{
	int64_t(*events)[3] = malloc((size_t)count * 2 * sizeof(*events));
	uint64_t now = 0, peak = 0;
	long n = 0;

	*when_ns = -1;
	if (events == NULL)
		return 0;
	for (long i = 0; i < count; i++) {
		if (starts_ns[i] < 0 || ends_ns[i] < 0)
			continue;
		events[n][0] = starts_ns[i];
		events[n][1] = 1;
		events[n++][2] = i;
		events[n][0] = ends_ns[i];
		events[n][1] = 0;
		events[n++][2] = i;
	}
	qsort(events, (size_t)n, sizeof(*events), compare_event);
	for (long i = 0; i < n; i++) {
		uint64_t weight = weights[events[i][2]];
		now = events[i][1] ? now + weight : now - weight;
		if (now > peak) {
			peak = now;
			*when_ns = events[i][0];
		}
	}
	free(events);
	return peak;
}

void memory_stacks_peak(struct run *run, const uint64_t *resident_bytes)
{
	long tasks = run->params.tasks;
	int64_t *starts = malloc((size_t)tasks * sizeof(*starts));
	int64_t *ends = malloc((size_t)tasks * sizeof(*ends));
	int64_t when;

	if (starts != NULL && ends != NULL) {
		for (long i = 0; i < tasks; i++) {
			starts[i] = run->tasks[i].start_ns;
			ends[i] = run->tasks[i].end_ns;
		}
		uint64_t peak = memory_peak_overlap(
		    starts, ends, resident_bytes, tasks, &when);
		if (peak > run->memory.stack_resident_bytes)
			run->memory.stack_resident_bytes = peak;
	}
	free(starts);
	free(ends);
}

int memory_run_init(struct run *run)
{
	struct memory_run *memory = &run->memory;
	const char *setting = getenv("IOSTRAT_MEMORY");

	memset(memory, 0, sizeof(*memory));
	memory->on = setting == NULL || strcmp(setting, "off") != 0;
	if (!run->params.tasks_in_children)
		return 0;
	size_t bytes = (size_t)run->params.tasks * sizeof(struct memory_child);
	memory->children = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (memory->children == MAP_FAILED) {
		memory->children = NULL;
		return -errno;
	}
	/* touched here, so the parent's own count holds these pages */
	memset(memory->children, 0, bytes);
	memory->children_map_bytes = bytes;
	/* before any fork: the mappings every child will inherit */
	memory_sample_parent(run, true);
	return 0;
}

void memory_run_free(struct run *run)
{
	if (run->memory.children != NULL)
		munmap(run->memory.children, run->memory.children_map_bytes);
	run->memory.children = NULL;
}

/* What a sample of the parent adds up to: every anonymous and shared page it
 * maps (those it shares with its children are counted here, once), its page
 * tables, kernel stacks and objects. */
static uint64_t parent_added_bytes(const struct memory_reading *reading)
{
	return reading->anon_bytes + reading->shmem_bytes +
	       reading->page_tables_bytes +
	       (uint64_t)reading->threads * MEMORY_KERNEL_STACK_BYTES +
	       memory_kernel_objects_bytes(reading->threads, reading->vmas,
					   reading->vmas_writable, 1);
}

/* Samples come from the thread that starts tasks and, once, from a task's own
 * thread (memory_task_running): one at a time. */
static pthread_mutex_t memory_sample_lock = PTHREAD_MUTEX_INITIALIZER;

static void sample_parent_locked(struct run *run, bool force)
{
	struct memory_run *memory = &run->memory;
	struct memory_reading reading;

	int64_t now = run_now_ns();
	if (!force && memory->samples > 0) {
		int64_t wait = memory->sample_cost_ns * SAMPLE_COST_FACTOR;
		if (wait < SAMPLE_INTERVAL_NS)
			wait = SAMPLE_INTERVAL_NS;
		if (now - memory->sampled_ns < wait)
			return;
	}
	if (memory_read_self(&reading, true) < 0)
		return;
	memory->sampled_ns = run_now_ns();
	memory->sample_cost_ns = memory->sampled_ns - now;
	memory->samples++;
	if (memory->samples == 1) {
		memory->vmas_at_fork = reading.vmas;
		memory->vmas_writable_at_fork = reading.vmas_writable;
	}
	uint64_t added = parent_added_bytes(&reading);
	if (added > memory->parent_added_bytes) {
		memory->parent_added_bytes = added;
		memory->parent = reading;
	}
}

void memory_sample_parent(struct run *run, bool force)
{
	if (!run->memory.on)
		return;
	pthread_mutex_lock(&memory_sample_lock);
	sample_parent_locked(run, force);
	pthread_mutex_unlock(&memory_sample_lock);
}

/* The peak of a run whose tasks run in its own threads is when every slot runs
 * its task at once: every thread alive and on its stack. The thread that
 * starts tasks cannot see that moment (the newest threads may not have run
 * yet, and by the first task's end one is gone), so the task that fills the
 * last slot samples it, in its own thread. */
void memory_task_running(struct run *run, int delta)
{
	struct memory_run *memory = &run->memory;

	if (!memory->on || run->params.tasks_in_children)
		return;
	long running = atomic_fetch_add(&memory->tasks_running, delta) + delta;
	if (delta > 0 && running == run_jobs(run) &&
	    !atomic_exchange(&memory->sampled_when_full, true))
		memory_sample_parent(run, true);
}

void memory_task_done(struct run *run)
{
	/* only the first: later ones are sampled with the threads, so that a
	 * task's end costs no clock read here */
	if (run->memory.sampled_at_finish)
		return;
	run->memory.sampled_at_finish = true;
	memory_sample_parent(run, true);
}

void memory_child_begin(struct run *run, long slot, long task_id)
{
	struct memory_child *child = run->memory.children;

	/* the child's heap is a copy of the parent's: its peak starts here */
	heap_reset_peak();
	if (child == NULL)
		return;
	child[slot].task_id = task_id;
	child[slot].start_ns = run_elapsed_ns(run);
	child[slot].heap_start_bytes = heap_current_bytes();
}

void memory_child_end(struct run *run, long slot)
{
	struct memory_child *child = run->memory.children;
	struct memory_reading reading;

	if (child == NULL)
		return;
	child = &child[slot];
	child->heap_measured = heap_measured();
	child->heap_peak_bytes = heap_peak_bytes();
	if (run->memory.on) {
		int64_t before = run_now_ns();
		if (memory_read_self(&reading, false) == 0) {
			/* a child maps what its parent mapped at the fork */
			child->kernel_objects_bytes =
			    memory_kernel_objects_bytes(
				reading.threads, run->memory.vmas_at_fork,
				run->memory.vmas_writable_at_fork, 2);
			child->uss_bytes = reading.private_clean_bytes +
					   reading.private_dirty_bytes;
			child->pss_bytes = reading.pss_bytes;
			child->page_tables_bytes = reading.page_tables_bytes;
			child->threads = reading.threads;
			/* the pages it wrote itself (anonymous, its copies
			 * of shared ones); clean private pages are the page
			 * cache's */
			child->added_bytes = reading.private_dirty_bytes +
					     reading.page_tables_bytes +
					     (uint64_t)reading.threads *
						 MEMORY_KERNEL_STACK_BYTES +
					     child->kernel_objects_bytes;
			child->measured = true;
		}
		child->read_ns = run_now_ns() - before;
	}
	child->end_ns = run_elapsed_ns(run);
}

const struct memory_child *memory_child_record(const struct run *run, long slot)
{
	if (run->memory.children == NULL || slot < 0 ||
	    slot >= run->params.tasks)
		return NULL;
	return &run->memory.children[slot];
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The children's heaps: largest, median, and the smallest start. */
static void summarize_heaps(const struct run *run, struct memory_summary *out)
{
	long tasks = run->params.tasks;
	uint64_t *peaks = malloc((size_t)tasks * sizeof(*peaks));
	uint64_t *reads = malloc((size_t)tasks * sizeof(*reads));

	if (peaks == NULL || reads == NULL)
		goto out_free;
	for (long i = 0; i < tasks; i++) {
		const struct memory_child *child = &run->memory.children[i];
		if (child->measured)
			reads[out->children_read++] = (uint64_t)child->read_ns;
		if (!child->heap_measured)
			continue;
		if (out->children_heaps == 0 ||
		    child->heap_start_bytes < out->heap_child_start_min_bytes)
			out->heap_child_start_min_bytes =
			    child->heap_start_bytes;
		peaks[out->children_heaps++] = child->heap_peak_bytes;
	}
	if (out->children_heaps > 0) {
		qsort(peaks, (size_t)out->children_heaps, sizeof(*peaks),
		      compare_u64);
		out->heap_child_max_bytes = peaks[out->children_heaps - 1];
		out->heap_child_median_bytes = peaks[out->children_heaps / 2];
	}
	if (out->children_read > 0) {
		qsort(reads, (size_t)out->children_read, sizeof(*reads),
		      compare_u64);
		out->read_us_median =
		    (double)reads[out->children_read / 2] / 1e3;
	}
out_free:
	free(peaks);
	free(reads);
}

/* The children alive together at the moment they added most. */
static void summarize_children(const struct run *run,
			       struct memory_summary *out)
{
	long tasks = run->params.tasks;
	const struct memory_child *child = run->memory.children;
	int64_t *starts = calloc((size_t)tasks, sizeof(*starts));
	int64_t *ends = calloc((size_t)tasks, sizeof(*ends));
	uint64_t *added = calloc((size_t)tasks, sizeof(*added));
	int64_t when = -1;

	if (starts == NULL || ends == NULL || added == NULL)
		goto out_free;
	for (long i = 0; i < tasks; i++) {
		bool ok = child[i].measured;
		starts[i] = ok ? child[i].start_ns : -1;
		ends[i] = ok ? child[i].end_ns : -1;
		added[i] = ok ? child[i].added_bytes : 0;
	}
	memory_peak_overlap(starts, ends, added, tasks, &when);
	for (long i = 0; i < tasks && when >= 0; i++) {
		if (starts[i] < 0 || starts[i] > when || ends[i] <= when)
			continue;
		out->processes++;
		out->pages_bytes +=
		    child[i].added_bytes - child[i].page_tables_bytes -
		    (uint64_t)child[i].threads * MEMORY_KERNEL_STACK_BYTES -
		    child[i].kernel_objects_bytes;
		out->page_tables_bytes += child[i].page_tables_bytes;
		out->kernel_stacks_bytes +=
		    (uint64_t)child[i].threads * MEMORY_KERNEL_STACK_BYTES;
		out->kernel_objects_bytes += child[i].kernel_objects_bytes;
		out->uss_total_bytes += child[i].uss_bytes;
		out->pss_total_bytes += child[i].pss_bytes;
	}
out_free:
	free(starts);
	free(ends);
	free(added);
}

void memory_summarize(const struct run *run, struct memory_summary *out)
{
	const struct memory_reading *parent = &run->memory.parent;

	memset(out, 0, sizeof(*out));
	if (run->memory.children != NULL) {
		summarize_heaps(run, out);
		if (run->memory.on)
			summarize_children(run, out);
	}
	if (!run->memory.on || run->memory.samples == 0)
		return;
	out->measured = true;
	out->processes++;
	out->pages_bytes += parent->anon_bytes + parent->shmem_bytes;
	out->page_tables_bytes += parent->page_tables_bytes;
	out->kernel_stacks_bytes +=
	    (uint64_t)parent->threads * MEMORY_KERNEL_STACK_BYTES;
	out->kernel_objects_bytes += memory_kernel_objects_bytes(
	    parent->threads, parent->vmas, parent->vmas_writable, 1);
	out->uss_total_bytes +=
	    parent->private_clean_bytes + parent->private_dirty_bytes;
	out->pss_total_bytes += parent->pss_bytes;
	out->total_bytes = out->pages_bytes + out->page_tables_bytes +
			   out->kernel_stacks_bytes + out->kernel_objects_bytes;
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

void memory_print(const struct run *run, const struct memory_summary *m,
		  uint64_t rss_sum_peak_bytes, FILE *out)
{
	if (m->measured) {
		print_bytes(out, "  memory added at the peak", m->total_bytes);
		print_bytes(out, " (each page once: pages", m->pages_bytes);
		print_bytes(out, ", page tables", m->page_tables_bytes);
		print_bytes(out, ", kernel stacks", m->kernel_stacks_bytes);
		print_bytes(out, ", kernel objects", m->kernel_objects_bytes);
		fprintf(out, ") over %ld process%s;", m->processes,
			m->processes == 1 ? "" : "es");
		print_bytes(out, " USS", m->uss_total_bytes);
		print_bytes(out, ", PSS", m->pss_total_bytes);
		fprintf(out, "\n");
	} else {
		fprintf(out,
			"  memory added not measured (IOSTRAT_MEMORY=off)\n");
	}
	fprintf(out, "  resident memory added over processes: shared pages "
		     "counted once per process:");
	print_bytes(out, "", rss_sum_peak_bytes);
	fprintf(out, " over %ld process%s\n", run->processes,
		run->processes == 1 ? "" : "es");
	if (m->children_heaps == 0)
		return;
	print_bytes(out, "  each child's own heap: peak max",
		    m->heap_child_max_bytes);
	print_bytes(out, ", median", m->heap_child_median_bytes);
	fprintf(out,
		" over %ld children; each child starts from a copy of the "
		"parent's heap (copy-on-write),",
		m->children_heaps);
	print_bytes(out, " at least", m->heap_child_start_min_bytes);
	if (m->children_read > 0)
		fprintf(out, "; a child's reading of itself took %.0f us",
			m->read_us_median);
	fprintf(out, "\n");
}

static json_t *bytes_or_null(bool known, uint64_t bytes)
{
	return known ? json_integer((json_int_t)bytes) : json_null();
}

void memory_json_summary(const struct run *run, const struct memory_summary *m,
			 json_t *summary)
{
	bool on = m->measured;

	json_object_set_new(summary, "memory_total_bytes",
			    bytes_or_null(on, m->total_bytes));
	json_object_set_new(summary, "memory_pages_bytes",
			    bytes_or_null(on, m->pages_bytes));
	json_object_set_new(summary, "uss_total_bytes",
			    bytes_or_null(on, m->uss_total_bytes));
	json_object_set_new(summary, "pss_total_bytes",
			    bytes_or_null(on, m->pss_total_bytes));
	json_object_set_new(summary, "page_tables_bytes",
			    bytes_or_null(on, m->page_tables_bytes));
	json_object_set_new(summary, "kernel_stacks_bytes",
			    bytes_or_null(on, m->kernel_stacks_bytes));
	json_object_set_new(summary, "kernel_objects_bytes",
			    bytes_or_null(on, m->kernel_objects_bytes));
	json_object_set_new(summary, "memory_processes",
			    on ? json_integer(m->processes) : json_null());
	json_object_set_new(summary, "memory_read_us",
			    m->children_read > 0 ? json_real(m->read_us_median)
						 : json_null());
	json_t *heaps = json_null();
	if (m->children_heaps > 0) {
		heaps = json_object();
		json_object_set_new(
		    heaps, "max", bytes_or_null(true, m->heap_child_max_bytes));
		json_object_set_new(
		    heaps, "median",
		    bytes_or_null(true, m->heap_child_median_bytes));
		json_object_set_new(heaps, "count",
				    json_integer(m->children_heaps));
	}
	json_object_set_new(summary, "heap_peak_per_process_bytes", heaps);
	json_object_set_new(summary, "stack_reserved_bytes",
			    bytes_or_null(true, run->stack_reserved_bytes));
	/* threads' stacks are measured here; a strategy with stacks of its own
	 * (coroutines) measures them itself */
	json_object_set_new(
	    summary, "stack_resident_bytes",
	    run->stack_resident_bytes > 0
		? json_integer((json_int_t)run->stack_resident_bytes)
		: bytes_or_null(run->memory.on,
				run->memory.stack_resident_bytes));
}

void memory_json_task(const struct run *run, const struct task *task,
		      json_t *entry)
{
	const struct memory_child *child = memory_child_record(run, task->id);
	if (child != NULL && child->task_id != task->id)
		child = NULL; /* a worker's record, not this task's */
	bool heap = child != NULL && child->heap_measured;
	bool measured = child != NULL && child->measured;

	json_object_set_new(
	    entry, "heap_start_bytes",
	    bytes_or_null(heap, heap ? child->heap_start_bytes : 0));
	json_object_set_new(
	    entry, "heap_peak_bytes",
	    bytes_or_null(heap, heap ? child->heap_peak_bytes : 0));
	json_object_set_new(
	    entry, "uss_bytes",
	    bytes_or_null(measured, measured ? child->uss_bytes : 0));
	json_object_set_new(
	    entry, "pss_bytes",
	    bytes_or_null(measured, measured ? child->pss_bytes : 0));
}
