#!/usr/bin/env bash
# test_threads.sh - the threads strategy under load and under interruption: many threads at
# once, a bounded number in flight, Ctrl-C while threads sleep. Also run under
# ThreadSanitizer by tests/run, where a data race fails the run.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

# A sanitizer's runtime may keep a thread of its own, and makes thread creation slower.
extra=0
delay=300ms
if [ -n "${IOSTRAT_SANITIZED:-}" ]; then
	extra=1
	delay=2s
fi

doc="$test_tmp/many.json"
"$IOSTRAT" threads sleep -n 300 --delay "$delay" -q --json "$doc" >"$test_tmp/many.out" 2>&1
check "300 threads at once: exit 0" test $? -eq 0
check "300 threads at once: 300 tasks ok" test "$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')" -eq 300
check "300 threads at once: 300 distinct thread ids" test "$(json_get "$doc" 'tasks.*.tid' | sort -u | wc -l)" -eq 300
check "300 threads at once: all in flight together" test "$(json_get "$doc" summary.inflight_peak)" -eq 300
peak=$(json_get "$doc" summary.threads_peak)
check "300 threads at once: the kernel saw them (threads_peak 301, was $peak)" \
	test "$peak" -ge 301 -a "$peak" -le $((301 + extra))

doc="$test_tmp/bounded.json"
"$IOSTRAT" threads sleep -n 40 -j 7 --delay 20ms --json "$doc" >"$test_tmp/bounded.out" 2>&1
check "--jobs 7: exit 0" test $? -eq 0
check "--jobs 7: at most 7 in flight" test "$(json_get "$doc" summary.inflight_peak)" -eq 7
# pthread_join() returns when the kernel clears the thread's tid, early in its exit and
# before it leaves the process's list of threads: the count taken after the next
# pthread_create() can still see that one exiting thread.
check "--jobs 7: never more than 8 threads (7 and main), and one that is exiting" \
	test "$(json_get "$doc" summary.threads_peak)" -le $((9 + extra))
check "--jobs 7: every start and done line whole (80 lines)" \
	test "$(grep -cE $'^Time: .*\t\tTask [0-9]+(, PID: [0-9]+, TID: [0-9]+, Delay: 0.02 seconds\\.\\.\\.|: Done\\.)$' "$test_tmp/bounded.out")" -eq 80

doc="$test_tmp/int.json"
"$IOSTRAT" threads sleep -n 50 -j 20 --delay 10 -q --json "$doc" >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"
check "Ctrl-C with 20 threads sleeping: exit 130" test $? -eq 130
check "Ctrl-C with 20 threads sleeping: 50 tasks cancelled" \
	test "$(json_get "$doc" 'tasks.*.status' | grep -c '^cancelled$')" -eq 50
check "Ctrl-C with 20 threads sleeping: all joined" test "$(json_get "$doc" summary.threads_end)" -le $((1 + extra))

test_summary
