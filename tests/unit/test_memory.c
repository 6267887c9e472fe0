/* test_memory.c - unit tests for the memory accounting: parsing of
 * /proc/self/smaps_rollup, status and maps text, the weighted peak of
 * overlapping lives, mincore() on a stack, and a forked child's own figures
 * (its heap and USS rise by a block it allocates and touches). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../bench/core/heap.h"
#include "../../bench/core/memory.h"
#include "../../bench/core/run.h"
#include "../../bench/core/strategy.h"
#include "../../bench/core/workload.h"

/* As Linux 6.18 prints it. */
static const char rollup_text[] =
    "56273410b000-7fff1feb8000 ---p 00000000 00:00 0     [rollup]\n"
    "Rss:                1772 kB\n"
    "Pss:                 268 kB\n"
    "Pss_Dirty:           112 kB\n"
    "Pss_Anon:            112 kB\n"
    "Pss_File:            156 kB\n"
    "Shared_Clean:       1616 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:        44 kB\n"
    "Private_Dirty:       112 kB\n"
    "Anonymous:           112 kB\n";

static const char status_text[] = "Name:\tiostrat\n"
				  "VmRSS:\t    8184 kB\n"
				  "RssAnon:\t    1304 kB\n"
				  "RssFile:\t    6788 kB\n"
				  "RssShmem:\t      92 kB\n"
				  "VmPTE:\t      92 kB\n"
				  "Threads:\t5\n";

/* Each field comes from its own line, in bytes; a key that only begins like
 * another (Pss against Pss_Dirty) is not taken for it. */
static void parses_smaps_rollup(void **state)
{
	struct memory_reading reading = {0};

	(void)state;
	assert_int_equal(memory_parse_rollup(rollup_text, &reading), 0);
	assert_int_equal(reading.rss_bytes, 1772 * 1024);
	assert_int_equal(reading.pss_bytes, 268 * 1024);
	assert_int_equal(reading.private_clean_bytes, 44 * 1024);
	assert_int_equal(reading.private_dirty_bytes, 112 * 1024);
}

static void parses_status(void **state)
{
	struct memory_reading reading = {0};

	(void)state;
	assert_int_equal(memory_parse_status(status_text, &reading), 0);
	assert_int_equal(reading.anon_bytes, 1304 * 1024);
	assert_int_equal(reading.shmem_bytes, 92 * 1024);
	assert_int_equal(reading.page_tables_bytes, 92 * 1024);
	assert_int_equal(reading.threads, 5);
}

/* Text without the fields (a kernel too old, a wrong file) is refused, not
 * read as zeros. */
static void refuses_text_without_fields(void **state)
{
	struct memory_reading reading = {0};

	(void)state;
	assert_int_equal(
	    memory_parse_rollup("Name:\tx\nVmRSS: 1 kB\n", &reading), -1);
	assert_int_equal(memory_parse_status(rollup_text, &reading), -1);
	assert_int_equal(memory_parse_rollup("", &reading), -1);
}

/* Mappings are counted whatever the pieces the text arrives in; rw-p ones are
 * the private writable mappings. */
static void counts_maps_in_pieces(void **state)
{
	static const char maps[] =
	    "55d0c000-55d0d000 r--p 00000000 fe:01 123  /usr/bin/iostrat\n"
	    "55d0d000-55d0e000 r-xp 00001000 fe:01 123  /usr/bin/iostrat\n"
	    "55d0f000-55d10000 rw-p 00003000 fe:01 123  /usr/bin/iostrat\n"
	    "55d11000-55d32000 rw-p 00000000 00:00 0    [heap]\n"
	    "7f000000-7f001000 ---p 00000000 00:00 0\n"
	    "7f001000-7f002000 rw-s 00000000 00:01 9    /dev/zero (deleted)\n";
	struct memory_maps_count whole = {0}, pieces = {0};

	(void)state;
	memory_count_maps(&whole, maps, strlen(maps));
	assert_int_equal(whole.vmas, 6);
	assert_int_equal(whole.vmas_writable, 2);
	for (size_t i = 0; i < strlen(maps); i += 7)
		memory_count_maps(&pieces, maps + i,
				  strlen(maps) - i < 7 ? strlen(maps) - i : 7);
	assert_int_equal(pieces.vmas, 6);
	assert_int_equal(pieces.vmas_writable, 2);
}

/* The peak is the most alive at one moment, not the sum over all lives: an
 * end at t comes before a start at t. */
static void peak_overlap_weighs_the_lives_alive_together(void **state)
{
	const int64_t starts[] = {0, 10, 20, -1, 30};
	const int64_t ends[] = {20, 30, 40, 50, 31};
	const uint64_t weights[] = {100, 10, 1, 1000, 5};
	int64_t when;

	(void)state;
	/* 0..20: 100; 10..20: 110; 20..30: 11; 30..31: 6 */
	assert_int_equal(memory_peak_overlap(starts, ends, weights, 5, &when),
			 110);
	assert_int_equal(when, 10);
}

/* Of a fresh mapping only the touched pages are resident. */
static void resident_counts_touched_pages(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	assert_true(map != MAP_FAILED);
	assert_int_equal(memory_resident_bytes(map, 64 * page), 0);
	for (int i = 0; i < 5; i++)
		map[i * 8 * page] = 1;
	assert_int_equal(memory_resident_bytes(map, 64 * page), 5 * page);
	munmap(map, 64 * page);
}

/* A process reads itself: its figures are there and hang together. */
static void reads_itself(void **state)
{
	struct memory_reading reading;

	(void)state;
	assert_int_equal(memory_read_self(&reading, true), 0);
	assert_true(reading.rss_bytes > 0);
	assert_true(reading.pss_bytes <= reading.rss_bytes);
	assert_true(reading.private_clean_bytes + reading.private_dirty_bytes <=
		    reading.rss_bytes);
	assert_true(reading.anon_bytes > 0);
	assert_true(reading.page_tables_bytes > 0);
	assert_true(reading.threads >= 1);
	assert_true(reading.vmas > 10);
	assert_true(reading.vmas_writable > 0);
}

/* A test workload: each task allocates a known block and writes every page of
 * it; the child exits holding it, measured just before (its peak). */
#define BLOCK_BYTES (4u << 20)

static void *block_held; /* the child's block, not freed: it exits with it */

static void block_task(struct run *run, struct task *task)
{
	(void)run;
	char *block = malloc(BLOCK_BYTES);
	if (block == NULL) {
		task->status = TASK_ERROR;
		return;
	}
	volatile char *pages = block; /* every page is written, for real */
	for (size_t i = 0; i < BLOCK_BYTES; i += 4096)
		pages[i] = 1;
	block_held = block;
	usleep(300000); /* so that the three children hold theirs together */
}

static void block_describe(const struct run *run, const struct task *task,
			   char *buf, size_t len)
{
	(void)run;
	(void)task;
	snprintf(buf, len, "a block");
}

static const struct workload block_workload = {
    .name = "block",
    .summary = "allocates and touches a known block",
    .kind = WORKLOAD_SLEEP,
    .task_run = block_task,
    .describe = block_describe,
};

/* In a processes run each child's own heap peak rises by at least the block
 * it allocates from where it began (its copy of the parent's heap), and its
 * USS holds the block's pages; the parent's heap never saw the block; the
 * run's total holds the three blocks held at once. */
static void a_child_counts_its_own_block(void **state)
{
	struct run run = {0};

	(void)state;
	run.params.strategy_name = "processes";
	run.params.workload = &block_workload;
	run.params.tasks = 3;
	run.params.jobs = 3;
	run.params.quiet = true;
	run.params.tasks_in_children = true;
	setenv("IOSTRAT_MEMORY", "on", 1);
	assert_int_equal(run_init(&run), 0);
	uint64_t parent_peak_before = heap_peak_bytes();
	run.start_ns = run_now_ns();
	assert_int_equal(strategy_processes.run(&run), 0);
	for (long i = 0; i < run.params.tasks; i++) {
		const struct memory_child *child = memory_child_record(&run, i);
		assert_non_null(child);
		assert_int_equal(run.tasks[i].status, TASK_OK);
		assert_true(child->measured);
		assert_true(child->uss_bytes >= BLOCK_BYTES);
		assert_true(child->added_bytes >= BLOCK_BYTES);
		if (heap_measured()) {
			assert_true(child->heap_measured);
			assert_true(child->heap_peak_bytes >=
				    child->heap_start_bytes + BLOCK_BYTES);
		}
	}
	if (heap_measured())
		assert_true(heap_peak_bytes() <
			    parent_peak_before + BLOCK_BYTES);
	struct memory_summary summary;
	memory_sample_parent(&run, true);
	memory_summarize(&run, &summary);
	assert_true(summary.measured);
	assert_true(summary.total_bytes >= 3 * BLOCK_BYTES);
	run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_smaps_rollup),
	    cmocka_unit_test(parses_status),
	    cmocka_unit_test(refuses_text_without_fields),
	    cmocka_unit_test(counts_maps_in_pieces),
	    cmocka_unit_test(peak_overlap_weighs_the_lives_alive_together),
	    cmocka_unit_test(resident_counts_touched_pages),
	    cmocka_unit_test(reads_itself),
	    cmocka_unit_test(a_child_counts_its_own_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
