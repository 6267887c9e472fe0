/* test_core.c - unit tests for the core's pieces that need no processes or threads: the heap
 * counters, the parsing of counts, durations and sizes, the ideal schedule, percentiles, the
 * min-heap, and the registries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../bench/core/heap.h"
#include "../../bench/core/minheap.h"
#include "../../bench/core/summary.h"
#include "../../bench/core/units.h"
#include "../../bench/core/workload.h"
#include "../../bench/core/strategy.h"

/* A known allocation moves the current figure up by at least its size and the peak with it;
 * freeing it brings the current figure back. This is what the tutorial's (current, peak) pair
 * means, so it must hold for every malloc-family call. */
static void heap_counts_a_known_allocation(void **state)
{
	(void)state;
	if (!heap_measured())
		skip();
	const size_t bytes = 1 << 20;
	uint64_t before = heap_current_bytes();
	char *block = malloc(bytes);
	assert_non_null(block);
	memset(block, 1, bytes);
	assert_true(heap_current_bytes() >= before + bytes);
	assert_true(heap_peak_bytes() >= before + bytes);
	free(block);
	assert_int_equal(heap_current_bytes(), before);
}

static void heap_counts_calloc_realloc_and_aligned(void **state)
{
	(void)state;
	if (!heap_measured())
		skip();
	uint64_t before = heap_current_bytes();
	char *zeroed = calloc(1000, 100);
	assert_true(heap_current_bytes() >= before + 100000);
	zeroed = realloc(zeroed, 300000);
	assert_non_null(zeroed);
	assert_true(heap_current_bytes() >= before + 300000);
	assert_true(heap_current_bytes() < before + 300000 + 4096);
	void *aligned = NULL;
	assert_int_equal(posix_memalign(&aligned, 4096, 50000), 0);
	assert_true(heap_current_bytes() >= before + 350000);
	free(aligned);
	free(zeroed);
	assert_int_equal(heap_current_bytes(), before);
}

static void heap_peak_survives_free_and_resets(void **state)
{
	(void)state;
	if (!heap_measured())
		skip();
	heap_reset_peak();
	uint64_t before = heap_current_bytes();
	char *volatile block = malloc(2 << 20); /* volatile: the pair may not be elided */
	free(block);
	assert_true(heap_peak_bytes() >= before + (2 << 20));
	heap_reset_peak();
	assert_int_equal(heap_peak_bytes(), heap_current_bytes());
}

static void parses_durations(void **state)
{
	int64_t ns;
	(void)state;
	assert_true(units_parse_duration("1.5", &ns));
	assert_int_equal(ns, 1500000000LL);
	assert_true(units_parse_duration("1.5s", &ns));
	assert_int_equal(ns, 1500000000LL);
	assert_true(units_parse_duration("250ms", &ns));
	assert_int_equal(ns, 250000000LL);
	assert_true(units_parse_duration("100us", &ns));
	assert_int_equal(ns, 100000LL);
	assert_true(units_parse_duration("0", &ns));
	assert_int_equal(ns, 0);
	assert_false(units_parse_duration("xyz", &ns));
	assert_false(units_parse_duration("-1", &ns));
	assert_false(units_parse_duration("1.5 s", &ns));
	assert_false(units_parse_duration("", &ns));
	assert_false(units_parse_duration("1e400", &ns));
	assert_false(units_parse_duration("nan", &ns));
	/* decimal only: strtod alone takes hex and hex floats */
	assert_false(units_parse_duration("0x10", &ns));
	assert_false(units_parse_duration("0x1p3", &ns));
	assert_false(units_parse_duration("inf", &ns));
	assert_false(units_parse_duration("1e", &ns));
	assert_true(units_parse_duration("1e3ms", &ns));
	assert_int_equal(ns, 1000000000LL);
	assert_true(units_parse_duration(".5", &ns));
	assert_int_equal(ns, 500000000LL);
}

static void parses_sizes_and_counts(void **state)
{
	uint64_t bytes;
	long count;
	(void)state;
	assert_true(units_parse_size("4K", &bytes));
	assert_int_equal(bytes, 4096);
	assert_true(units_parse_size("16M", &bytes));
	assert_int_equal(bytes, 16u << 20);
	assert_true(units_parse_size("1G", &bytes));
	assert_int_equal(bytes, 1u << 30);
	assert_true(units_parse_size("1.5K", &bytes));
	assert_int_equal(bytes, 1536);
	assert_false(units_parse_size("abc", &bytes));
	assert_false(units_parse_size("4Q", &bytes));
	assert_false(units_parse_size("0.3", &bytes));
	assert_false(units_parse_size("0x10", &bytes));
	assert_false(units_parse_size("0x1p4", &bytes));
	assert_true(units_parse_long("42", 1, 100, &count));
	assert_int_equal(count, 42);
	assert_false(units_parse_long("0", 1, 100, &count));
	assert_false(units_parse_long("-5", 1, 100, &count));
	assert_false(units_parse_long("abc", 1, 100, &count));
	assert_false(units_parse_long("12abc", 1, 100, &count));
	assert_false(units_parse_long("+5", 1, 100, &count));
	assert_false(units_parse_long(" 5", 1, 100, &count));
	assert_false(units_parse_long("0x10", 1, 100, &count));
	assert_false(units_parse_long("99999999999999999999", 1, 100, &count));
}

/* The ideal time: the sum on one slot, the longest task with a slot each, and the greedy
 * in-order schedule in between. */
static void ideal_time_follows_the_schedule(void **state)
{
	const int64_t s = 1000000000LL;
	int64_t four[] = {3 * s, 1 * s, 2 * s, 2 * s};
	(void)state;
	assert_float_equal(summary_ideal_s(four, 4, 1), 8.0, 1e-9);
	assert_float_equal(summary_ideal_s(four, 4, 4), 3.0, 1e-9);
	/* two slots: 3 on A; 1 on B (free at 1); 2 on B (free at 3); 2 on A or B at 3 -> 5 */
	assert_float_equal(summary_ideal_s(four, 4, 2), 5.0, 1e-9);
	int64_t equal[] = {s, s, s, s};
	assert_float_equal(summary_ideal_s(equal, 4, 2), 2.0, 1e-9);
}

static void percentiles_by_nearest_rank(void **state)
{
	double values[100];
	(void)state;
	for (int i = 0; i < 100; i++)
		values[i] = i + 1;
	assert_float_equal(summary_percentile(values, 100, 50), 50, 1e-9);
	assert_float_equal(summary_percentile(values, 100, 90), 90, 1e-9);
	assert_float_equal(summary_percentile(values, 100, 99), 99, 1e-9);
	assert_float_equal(summary_percentile(values, 100, 100), 100, 1e-9);
	assert_float_equal(summary_percentile(values, 1, 99), 1, 1e-9);
}

/* In flight means between start and end: touching intervals do not overlap, unfinished
 * tasks do not count. */
static void overlap_counts_tasks_really_in_flight(void **state)
{
	int64_t starts[] = {0, 10, 10, 20, 5, -1};
	int64_t ends[] = {10, 20, 30, 40, 15, -1};
	(void)state;
	/* at 10: task 0 ends, 1 and 2 start, 4 is running -> 3 */
	assert_int_equal(summary_max_overlap(starts, ends, 6), 3);
	assert_int_equal(summary_max_overlap(starts, ends, 1), 1);
	int64_t serial_starts[] = {0, 1, 2}, serial_ends[] = {1, 2, 3};
	assert_int_equal(summary_max_overlap(serial_starts, serial_ends, 3), 1);
}

static void minheap_pops_in_order(void **state)
{
	struct minheap heap;
	(void)state;
	assert_int_equal(minheap_init(&heap, 2), 0);
	int64_t keys[] = {50, 10, 40, 10, 30, 20, 60, 0, 70, 5};
	for (long i = 0; i < 10; i++)
		assert_int_equal(minheap_push(&heap, keys[i], i), 0);
	int64_t last = -1;
	for (int i = 0; i < 10; i++) {
		struct minheap_item item = minheap_pop(&heap);
		assert_true(item.key >= last);
		assert_int_equal(keys[item.value], item.key);
		last = item.key;
	}
	assert_int_equal(heap.len, 0);
	minheap_free(&heap);
}

/* Every strategy and workload is found by its own name and has what the core calls. */
static void registries_are_complete(void **state)
{
	(void)state;
	for (const struct strategy *const *s = strategy_list(); *s != NULL; s++) {
		assert_ptr_equal(strategy_find((*s)->name), *s);
		assert_non_null((*s)->run);
		assert_non_null((*s)->summary);
		assert_true((*s)->workloads & WORKLOAD_BIT(WORKLOAD_SLEEP));
	}
	for (const struct workload *const *w = workload_list(); *w != NULL; w++) {
		assert_ptr_equal(workload_find((*w)->name), *w);
		assert_non_null((*w)->task_run);
		assert_non_null((*w)->describe);
	}
	assert_null(strategy_find("nonesuch"));
	assert_null(workload_find("nonesuch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(heap_counts_a_known_allocation),
	    cmocka_unit_test(heap_counts_calloc_realloc_and_aligned),
	    cmocka_unit_test(heap_peak_survives_free_and_resets),
	    cmocka_unit_test(parses_durations),
	    cmocka_unit_test(parses_sizes_and_counts),
	    cmocka_unit_test(ideal_time_follows_the_schedule),
	    cmocka_unit_test(percentiles_by_nearest_rank),
	    cmocka_unit_test(overlap_counts_tasks_really_in_flight),
	    cmocka_unit_test(minheap_pops_in_order),
	    cmocka_unit_test(registries_are_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
