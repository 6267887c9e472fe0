#!/usr/bin/env bash
# test_coroutines.sh - the coroutines strategy: every workload's tasks run in one thread of one
# process and interleave there (a task starts before another is done); the read workers are
# the only other threads and are counted; --jobs bounds the coroutines; four switches per
# sleeping task; a stack overflow is stopped by the guard page with a message naming the task,
# and the result is still written; Ctrl-C unwinds every coroutine (exit 130).
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

# A sanitizer's runtime may keep a thread of its own.
extra=0
if [ -n "${IOSTRAT_SANITIZED:-}" ]; then
	extra=1
fi

# interleaved DOC: the latest start comes before the earliest end (all in flight at once)
interleaved() {
	local last_start first_end
	last_start=$(json_get "$1" 'tasks.*.start_s' | sort -g | tail -1)
	first_end=$(json_get "$1" 'tasks.*.end_s' | sort -g | head -1)
	awk -v s="$last_start" -v e="$first_end" 'BEGIN { exit !(s < e) }'
}

# one_flow DOC: every task ran in the parent process, in its one thread
one_flow() {
	local pid
	pid=$(json_get "$1" 'tasks.*.pid' | sort -u)
	[ "$(echo "$pid" | wc -l)" -eq 1 ] &&
		[ "$(json_get "$1" 'tasks.*.tid' | sort -u)" = "$pid" ]
}

# ---- sleep ---------------------------------------------------------------------------
run_program "$IOSTRAT" sleep coroutines sleep -n 200 --delay 300ms
doc=$test_tmp/sleep.json
check "sleep, 200 at once: exit 0" test "$status" -eq 0
check "sleep, 200 at once: 200 tasks ok" \
	test "$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')" -eq 200
check "sleep, 200 at once: every task in the parent's one thread" one_flow "$doc"
check "sleep, 200 at once: the kernel saw one thread (threads_peak $(json_get "$doc" summary.threads_peak))" \
	test "$(json_get "$doc" summary.threads_peak)" -le $((1 + extra))
check "sleep, 200 at once: all in flight together" \
	test "$(json_get "$doc" summary.inflight_peak)" -eq 200
check "sleep, 200 at once: the last task started before the first was done" \
	interleaved "$doc"
first_done=$(grep -n 'Task [0-9]*: Done\.' "$test_tmp/sleep.out" | head -1 | cut -d: -f1)
last_start=$(grep -n 'Task 199, PID' "$test_tmp/sleep.out" | cut -d: -f1)
check "sleep, 200 at once: task 199's start line comes before the first done line" \
	test "${last_start:-999999}" -lt "${first_done:-0}"
check "sleep: four switches a task (in, out at the sleep, in, out at the end): $(json_get "$doc" summary.coroutine_switches)" \
	test "$(json_get "$doc" summary.coroutine_switches)" -eq 800
check "sleep: 200 stacks of 64 KiB reserved" \
	test "$(json_get "$doc" summary.stack_reserved_bytes)" -eq $((200 * 65536))
resident=$(json_get "$doc" summary.stack_resident_bytes)
check "sleep: stacks resident ($resident bytes) above 0 and below what is reserved" \
	test "$resident" -gt 0 -a "$resident" -lt $((200 * 65536))

run_program "$IOSTRAT" bounded coroutines sleep -n 40 -j 7 --delay 20ms --stack 16K
doc=$test_tmp/bounded.json
check "--jobs 7: exit 0, 40 tasks ok" \
	test "$status" -eq 0 -a "$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')" -eq 40
check "--jobs 7: at most 7 in flight" test "$(json_get "$doc" summary.inflight_peak)" -eq 7
check "--jobs 7 --stack 16K: 7 stacks of 16 KiB reserved" \
	test "$(json_get "$doc" summary.stack_reserved_bytes)" -eq $((7 * 16384))
check "--jobs 7: every start and done line whole (80 lines)" \
	test "$(grep -cE $'^Time: .*\t\tTask [0-9]+(, PID: [0-9]+, TID: [0-9]+, Delay: 0.02 seconds\\.\\.\\.|: Done\\.)$' "$test_tmp/bounded.out")" -eq 80

run_program "$IOSTRAT" minimal coroutines sleep -n 50 --delay 50ms --switch minimal
doc=$test_tmp/minimal.json
check "--switch minimal: exit 0, 50 tasks ok, interleaved" \
	test "$status" -eq 0 -a "$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')" -eq 50
check "--switch minimal: the result names it, four switches a task" \
	test "$(json_get "$doc" summary.coroutine_switch)" = minimal -a \
	"$(json_get "$doc" summary.coroutine_switches)" -eq 200
check "--switch ucontext is the default, and the result says swapcontext" \
	test "$(json_get "$test_tmp/sleep.json" summary.coroutine_switch)" = swapcontext

run_program "$IOSTRAT" badstack coroutines sleep --stack 1K
check "--stack 1K: refused (exit 2), naming the option" \
	grep -q -- '--stack' "$test_tmp/badstack.err"
check "--stack 1K: exit 2" test "$status" -eq 2
run_program "$IOSTRAT" epollstack epoll sleep --stack 64K
check "--stack with epoll: does not apply (exit 2)" test "$status" -eq 2

# ---- file ----------------------------------------------------------------------------
files=$test_tmp/files
run_program "$IOSTRAT" file coroutines file -n 12 --size 256K --dir "$files" --pool 3
doc=$test_tmp/file.json
check "file, 12 files: exit 0, 12 tasks ok" \
	test "$status" -eq 0 -a "$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')" -eq 12
check "file: every byte read and checked ($(json_get "$doc" summary.bytes_total))" \
	test "$(json_get "$doc" summary.bytes_total)" -eq $((12 * 262144))
check "file: every task's code ran in the parent's one thread" one_flow "$doc"
check "file: the loop and its 3 read workers, counted ($(json_get "$doc" summary.threads_peak))" \
	test "$(json_get "$doc" summary.threads_peak)" -ge 4 -a \
	"$(json_get "$doc" summary.threads_peak)" -le $((4 + extra))
check "file: the reads interleave (the last task started before the first was done)" \
	interleaved "$doc"
check "file: mode pool" test "$(json_get "$doc" mode)" = pool
run_program "$IOSTRAT" inline coroutines file -n 12 --size 256K --dir "$files" --inline
doc=$test_tmp/inline.json
check "file --inline: exit 0, one thread, mode inline" \
	test "$status" -eq 0 -a "$(json_get "$doc" summary.threads_peak)" -le $((1 + extra)) -a \
	"$(json_get "$doc" mode)" = inline

# ---- http ----------------------------------------------------------------------------
export IOSTRAT_HTTPD_DIR=$test_tmp/httpd
unset IOSTRAT_HTTP_URL
if ! scripts/httpd start >/dev/null 2>"$test_tmp/httpd.err"; then
	fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
else
	test_cleanups+=("scripts/httpd stop >/dev/null")
	run_program "$IOSTRAT" http coroutines http -n 40 --delay 300ms
	doc=$test_tmp/http.json
	check "http, 40 held 300 ms: exit 0, 40 tasks ok" \
		test "$status" -eq 0 -a "$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')" -eq 40
	check "http: every task in the parent's one thread" one_flow "$doc"
	check "http: one thread as the kernel saw it (a numeric address: no resolver thread)" \
		test "$(json_get "$doc" summary.threads_peak)" -le $((1 + extra))
	check "http: all 40 in flight at once, interleaved" interleaved "$doc"
	check "http: the tutorial's listings printed (40 blocks)" \
		test "$(grep -c '^/r/[a-z_]*:$' "$test_tmp/http.out")" -eq 40

	"$IOSTRAT" coroutines http -n 30 --delay 20 -q --json "$test_tmp/http-int.json" \
		>/dev/null 2>&1 &
	pid=$!
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	check "Ctrl-C with 30 transfers held: exit 130" test $? -eq 130
	check "Ctrl-C with 30 transfers held: 30 tasks cancelled" \
		test "$(json_get "$test_tmp/http-int.json" 'tasks.*.status' | grep -c '^cancelled$')" -eq 30
fi

# ---- a stack overflow: a 4 KiB stack holds the coroutine's record and little else, and the
# tutorial's start line (snprintf) needs more
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	run_program "$IOSTRAT" tiny coroutines sleep -n 3 --delay 10ms --stack 4K
check "--stack 4K: the overflow is stopped, exit 1 (not a crash: $status)" test "$status" -eq 1
check "--stack 4K: the message names the task and the stack" \
	grep -Eq 'coroutines: task [0-2] overflowed its stack of 4096 bytes' "$test_tmp/tiny.err"
check "--stack 4K: the result is written: a task failed with 'stack overflow', none ok" \
	test "$(json_get "$test_tmp/tiny.json" 'tasks.*.error' | grep -c '^stack overflow')" -eq 1 -a \
	"$(json_get "$test_tmp/tiny.json" 'tasks.*.status' | grep -c '^ok$')" -eq 0

# ---- a stack overflow: a document nested 1,500 deep, parsed by jansson recursively ----
# The guard page below the stack stops it; the message names the task; the result is written.
# The overflowing coroutine is abandoned, never resumed, so what it had allocated is leaked by
# design: LeakSanitizer is told not to count it in this one run.
mkdir -p "$test_tmp/www"
/usr/bin/python3 -c "print('[' * 1500 + ']' * 1500)" >"$test_tmp/www/nested.json"
/usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$test_tmp/www" \
	>"$test_tmp/pyhttp.log" 2>&1 &
pyhttp=$!
test_cleanups+=("kill $pyhttp 2>/dev/null; wait $pyhttp 2>/dev/null")
port=""
for _ in $(seq 50); do
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$test_tmp/pyhttp.log" | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -z "$port" ]; then
	fail "python3 -m http.server starts" "$(cat "$test_tmp/pyhttp.log")"
else
	url=http://127.0.0.1:$port/nested.json
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run_program "$IOSTRAT" overflow coroutines http -n 2 --url "$url"
	doc=$test_tmp/overflow.json
	check "overflow of the 64 KiB stack: exit 1 (not a crash: $status)" test "$status" -eq 1
	check "overflow: the message names the task and the stack" \
		grep -Eq 'coroutines: task [01] overflowed its stack of 65536 bytes' "$test_tmp/overflow.err"
	check "overflow: the result is written, the task failed with 'stack overflow'" \
		grep -q '^stack overflow' <(json_get "$doc" 'tasks.*.error')
	run_program "$IOSTRAT" bigstack coroutines http -n 2 --url "$url" --stack 1M
	check "the same document with --stack 1M: exit 0 (the stack was too small, nothing else)" \
		test "$status" -eq 0
fi

# ---- Ctrl-C --------------------------------------------------------------------------
"$IOSTRAT" coroutines sleep -n 50 -j 20 --delay 10 -q --json "$test_tmp/int.json" \
	>/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"
check "Ctrl-C with 20 coroutines sleeping: exit 130" test $? -eq 130
check "Ctrl-C with 20 coroutines sleeping: 50 tasks cancelled" \
	test "$(json_get "$test_tmp/int.json" 'tasks.*.status' | grep -c '^cancelled$')" -eq 50
check "Ctrl-C with 20 coroutines sleeping: 20 had started, each unwound to its done line" \
	test "$(json_get "$test_tmp/int.json" 'tasks.*.end_s' | grep -vc null)" -eq 20

test_summary
