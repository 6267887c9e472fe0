#!/usr/bin/env bash
# test_memory.sh - memory that counts each page once: the run's total against
# the summed RSS, each child's own heap and USS in the result, thread stacks
# resident against reserved, the IOSTRAT_MEMORY=off switch, and the tutorial's
# Python with the same per-process keys.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

PYTHON_IOSTRAT=${PYTHON_IOSTRAT:-scripts/python/iostrat-py}
delay=300ms
[ -n "${IOSTRAT_SANITIZED:-}" ] && delay=1s

# 100 processes share the parent's pages: counted once, the run's total is
# far below every child's RSS added up.
run_program "$IOSTRAT" p100 processes sleep -n 100 --delay "$delay" -q
doc="$test_tmp/p100.json"
check "100 processes: exit 0" test "$status" -eq 0
total=$(json_get "$doc" summary.memory_total_bytes)
rss=$(json_get "$doc" summary.rss_sum_peak_bytes)
check "100 processes: memory_total_bytes ($total) below rss_sum_peak_bytes ($rss)" \
	test "$total" -gt 0 -a "$total" -lt "$rss"
check "100 processes: the total holds the parent and 100 children alive together" \
	test "$(json_get "$doc" summary.memory_processes)" -eq 101
check "100 processes: page tables and kernel stacks (16 KiB a thread) counted" \
	test "$(json_get "$doc" summary.page_tables_bytes)" -gt 0 -a \
	"$(json_get "$doc" summary.kernel_stacks_bytes)" -ge $((101 * 16384))
check "100 processes: every child's USS measured" \
	test "$(json_get "$doc" 'tasks.*.uss_bytes' | grep -c '^[1-9][0-9]*$')" -eq 100
uss=$(json_get "$doc" summary.uss_total_bytes)
pss=$(json_get "$doc" summary.pss_total_bytes)
check "100 processes: USS ($uss) <= PSS ($pss) <= summed RSS" \
	test "$uss" -le "$pss" -a "$pss" -le "$rss"
check "100 processes: the printed summed RSS says what it counts" \
	grep -q 'resident memory added over processes: shared pages counted once per process' \
	"$test_tmp/p100.out"

# The tutorial's demo: each child has its own heap, which starts from its copy
# of the parent's at fork(), so it is never below it.
run_program "$IOSTRAT" demo processes sleep -n 4 --max-delay 2 --seed 7
doc="$test_tmp/demo.json"
check "4-task demo: four children measured themselves" \
	test "$(json_get "$doc" 'tasks.*.uss_bytes' | grep -c '^[1-9][0-9]*$')" -eq 4
# a sanitizer build leaves the heap counters out
if [ -z "${IOSTRAT_SANITIZED:-}" ]; then
	check "4-task demo: four child heaps" \
		test "$(json_get "$doc" summary.heap_peak_per_process_bytes.count)" -eq 4
	ok=0
	while read -r start peak; do
		[ "$peak" -ge "$start" ] && [ "$start" -ge "$(json_get "$doc" summary.heap_at_main_bytes)" ] &&
			ok=$((ok + 1))
	done < <(paste <(json_get "$doc" 'tasks.*.heap_start_bytes') <(json_get "$doc" 'tasks.*.heap_peak_bytes'))
	check "4-task demo: each child's heap peak at least the parent's heap at the fork" test "$ok" -eq 4
	check "4-task demo: the summary says each child starts from a copy of the parent's heap" \
		grep -q "each child starts from a copy of the parent's heap (copy-on-write)" "$test_tmp/demo.out"
fi

# A thread's stack: 8 MiB reserved, a few pages of it resident.
run_program "$IOSTRAT" t50 threads sleep -n 50 --delay "$delay" -q
doc="$test_tmp/t50.json"
reserved=$(json_get "$doc" summary.stack_reserved_bytes)
resident=$(json_get "$doc" summary.stack_resident_bytes)
check "50 threads: resident stacks ($resident) above zero, far below reserved ($reserved)" \
	test "$resident" -gt 0 -a "$((resident * 64))" -lt "$reserved"
check "50 threads: one process, no per-child figures" \
	test "$(json_get "$doc" summary.heap_peak_per_process_bytes)" = null -a \
	"$(json_get "$doc" 'tasks.0.uss_bytes')" = null
# (under a sanitizer the peak may come at the end, its quarantine holding
# what the threads freed, when they are gone)
if [ -z "${IOSTRAT_SANITIZED:-}" ]; then
	check "50 threads: the total counts 51 kernel stacks" \
		test "$(json_get "$doc" summary.kernel_stacks_bytes)" -ge $((51 * 16384))
fi

# Timing runs switch the /proc readings off; the summed RSS and heaps stay.
IOSTRAT_MEMORY=off run_program "$IOSTRAT" off processes sleep -n 5 --delay 10ms -q
doc="$test_tmp/off.json"
check "IOSTRAT_MEMORY=off: exit 0" test "$status" -eq 0
check "IOSTRAT_MEMORY=off: no total, no USS" \
	test "$(json_get "$doc" summary.memory_total_bytes)" = null -a \
	"$(json_get "$doc" 'tasks.0.uss_bytes')" = null
check "IOSTRAT_MEMORY=off: summed RSS still there" \
	test "$(json_get "$doc" summary.rss_sum_peak_bytes)" -gt 0

# The tutorial's Python: the same keys, each child reading its own smaps_rollup.
if [ -z "${IOSTRAT_SANITIZED:-}" ] && "$PYTHON_IOSTRAT" --version >/dev/null 2>&1; then
	run_program "$PYTHON_IOSTRAT" py python-processes sleep -n 4 --delay 100ms -q
	doc="$test_tmp/py.json"
	check "python-processes: exit 0" test "$status" -eq 0
	check "python-processes: every child's USS and heap peak" \
		test "$(json_get "$doc" 'tasks.*.uss_bytes' | grep -c '^[1-9][0-9]*$')" -eq 4 -a \
		"$(json_get "$doc" 'tasks.*.heap_peak_bytes' | grep -c '^[0-9][0-9]*$')" -eq 4
	total=$(json_get "$doc" summary.memory_total_bytes)
	check "python-processes: memory_total_bytes ($total) below rss_sum_peak_bytes" \
		test "$total" -gt 0 -a "$total" -lt "$(json_get "$doc" summary.rss_sum_peak_bytes)"
	check "python-processes: four child heaps" \
		test "$(json_get "$doc" summary.heap_peak_per_process_bytes.count)" -eq 4
	run_program "$PYTHON_IOSTRAT" pyt python-threads sleep -n 4 --delay 100ms -q
	doc="$test_tmp/pyt.json"
	check "python-threads: one process measured, no per-child figures" \
		test "$(json_get "$doc" summary.memory_processes)" -eq 1 -a \
		"$(json_get "$doc" 'tasks.0.uss_bytes')" = null -a \
		"$(json_get "$doc" summary.heap_peak_per_process_bytes)" = null
	# The peak sample is the one that adds up to most: with every thread
	# alive, or at the first task's end, one thread gone, when the interpreter
	# has allocated more meanwhile. Either way the task threads are in it.
	check "python-threads: its kernel stacks are counted (at least 4 of 5 threads)" \
		test "$(json_get "$doc" summary.kernel_stacks_bytes)" -ge $((4 * 16384))
fi

# prefork: each worker measures itself before it exits, a record per worker
# (not per task), so its figures are those of K processes however many tasks.
run_program "$IOSTRAT" pf3 prefork sleep -n 12 -j 3 --delay 200ms -q
doc="$test_tmp/pf3.json"
check "prefork, 12 tasks on 3 workers: the total holds the parent and 3 workers" \
	test "$(json_get "$doc" summary.memory_processes)" -eq 4
if [ -z "${IOSTRAT_SANITIZED:-}" ]; then # a sanitizer build leaves the heap counters out
	check "prefork: three worker heaps, not twelve" \
		test "$(json_get "$doc" summary.heap_peak_per_process_bytes.count)" -eq 3
fi
check "prefork: memory_total_bytes below rss_sum_peak_bytes" \
	test "$(json_get "$doc" summary.memory_total_bytes)" -lt \
	"$(json_get "$doc" summary.rss_sum_peak_bytes)"

test_summary
