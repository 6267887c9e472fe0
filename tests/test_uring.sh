#!/usr/bin/env bash
# test_uring.sh - the uring strategy end to end. Protects: sleeps under both timer modes end on
# time, all waited for by one thread, --jobs honoured and the queue depth recorded; Ctrl-C and
# SIGTERM end the wait at once with the result written; the unavailable cases (simulated with
# the IOSTRAT_URING_DISABLE test hook, and a build without liburing) are listed with the reason,
# exit 2 and run nothing. Where this kernel or container refuses io_uring, the checks that need
# it are reported as skipped, one line each.
# sanitize: yes
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh

tests_skipped=0
# skip "what the check would protect" "why it cannot run here"
skip() {
	tests_skipped=$((tests_skipped + 1))
	echo "skip - $1 ($2)"
}

if [ ! -x "$IOSTRAT" ] || [ ! -x "${JSON_GET:-build/tests/json-get}" ]; then
	echo "test_uring: $IOSTRAT or build/tests/json-get is missing: run 'make all test-tools' first" >&2
	exit 1
fi

# at_least A B / at_most A B: numeric comparisons of decimals.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# every VALUE FILE PATH: every value at PATH (tasks.*.x) equals VALUE, and there is at least one.
every() {
	local want=$1 values
	values=$(json_get "$2" "$3") || return 1
	[ -n "$values" ] && ! printf '%s\n' "$values" | grep -qvx -- "$want"
}

# Run iostrat with a time limit, keeping its exit status in $rc and its streams in files.
run_iostrat() {
	local name=$1
	shift
	rc=0
	timeout 60 "$IOSTRAT" "$@" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err" || rc=$?
}

# ---- the unavailable cases, simulated: they run on every machine ----------------------------

IOSTRAT_URING_DISABLE=1 "$IOSTRAT" --list >"$test_tmp/list-disabled.out"
check "--list names uring as unavailable and says it was disabled by the test hook" \
	grep -qE '^  uring +unavailable: disabled by IOSTRAT_URING_DISABLE' "$test_tmp/list-disabled.out"

rc=0
IOSTRAT_URING_DISABLE=1 timeout 20 "$IOSTRAT" uring sleep -n 2 --delay 1ms --json "$test_tmp/disabled.json" \
	>"$test_tmp/disabled.out" 2>"$test_tmp/disabled.err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q 'strategy uring is unavailable: disabled by IOSTRAT_URING_DISABLE' "$test_tmp/disabled.err" &&
	[ ! -e "$test_tmp/disabled.json" ] && ! grep -q 'Task 0' "$test_tmp/disabled.out"; then
	pass "an unavailable uring exits 2 with the reason and runs nothing (no task line, no result file)"
else
	fail "an unavailable uring exits 2 with the reason and runs nothing (no task line, no result file)" \
		"exit $rc" "$(cat "$test_tmp/disabled.err")"
fi

rc=0
IOSTRAT_URING_DISABLE=ENOSYS timeout 20 "$IOSTRAT" uring sleep -n 1 >/dev/null 2>"$test_tmp/enosys.err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q 'this kernel has no io_uring (io_uring_setup: Function not implemented)' "$test_tmp/enosys.err"; then
	pass "a kernel without io_uring (ENOSYS) is explained as such"
else
	fail "a kernel without io_uring (ENOSYS) is explained as such" "exit $rc" "$(cat "$test_tmp/enosys.err")"
fi

rc=0
IOSTRAT_URING_DISABLE=EPERM timeout 20 "$IOSTRAT" uring sleep -n 1 >/dev/null 2>"$test_tmp/eperm.err" || rc=$?
if [ "$rc" -eq 2 ] && grep -qE 'kernel.io_uring_disabled|container or seccomp filter' "$test_tmp/eperm.err" &&
	grep -q 'Operation not permitted' "$test_tmp/eperm.err"; then
	pass "io_uring refused (EPERM) names the sysctl or the container as the cause"
else
	fail "io_uring refused (EPERM) names the sysctl or the container as the cause" "exit $rc" "$(cat "$test_tmp/eperm.err")"
fi

IOSTRAT_URING_DISABLE=1 "$IOSTRAT" --list >"$test_tmp/list-others.out"
check "the other strategies stay available when uring is not" \
	grep -qE '^  epoll +one thread' "$test_tmp/list-others.out"

# A build without liburing: the strategy is still listed and says what to install.
if [ "${IOSTRAT_SANITIZED:-0}" = 1 ]; then
	skip "a build without liburing lists uring with what to install" "checked in the plain run"
else
	nolib=build/no-liburing
	if make -s -j"$(nproc 2>/dev/null || echo 2)" HAVE_LIBURING= BUILD="$nolib" "$nolib/iostrat" \
		>"$test_tmp/nolib-build.out" 2>&1; then
		"$nolib/iostrat" --list >"$test_tmp/nolib-list.out"
		check "a build without liburing lists uring as unavailable and says to install liburing-dev" \
			grep -qE '^  uring +unavailable: built without liburing \(install liburing-dev and rebuild\)' \
			"$test_tmp/nolib-list.out"
		rc=0
		timeout 20 "$nolib/iostrat" uring sleep -n 1 >/dev/null 2>"$test_tmp/nolib.err" || rc=$?
		if [ "$rc" -eq 2 ] && grep -q 'built without liburing' "$test_tmp/nolib.err"; then
			pass "a build without liburing refuses 'uring' with exit 2 and the reason"
		else
			fail "a build without liburing refuses 'uring' with exit 2 and the reason" "exit $rc" "$(cat "$test_tmp/nolib.err")"
		fi
		if nm "$nolib/iostrat" | grep -q io_uring_queue_init; then
			fail "a build without liburing does not link it" "io_uring_queue_init is in $nolib/iostrat"
		else
			pass "a build without liburing does not link it"
		fi
	else
		fail "a build without liburing compiles" "$(tail -n 20 "$test_tmp/nolib-build.out")"
	fi
fi

# ---- real runs: only where this kernel lets the process use io_uring -------------------------

why=$(env -u IOSTRAT_URING_DISABLE "$IOSTRAT" --list | sed -n 's/^  uring *unavailable: //p')
if [ -n "$why" ]; then
	for what in "sleeps end on time in one thread (heap and per-task)" "--jobs bounds the tasks and the queue" \
		"random delays are each kept" "Ctrl-C and SIGTERM end the wait at once" "a bad IOSTRAT_URING_SLEEP is refused" \
		"files read and checked, warm and cold" "damaged files fail their own task" "Ctrl-C stops file reads" \
		"http fetched through POLL_ADD and TIMEOUT requests, faults, Ctrl-C"; do
		skip "$what" "io_uring is unavailable here: $why"
	done
	echo "$tests_skipped skipped"
	test_summary
	exit $?
fi
unset IOSTRAT_URING_DISABLE

for mode in heap per-task; do
	json=$test_tmp/sleep-$mode.json
	IOSTRAT_URING_SLEEP=$mode run_iostrat "sleep-$mode" uring sleep -n 5 --delay 200ms --json "$json"
	check "[$mode] 5 sleeps of 200 ms: exit 0, 5 ok, recorded mode $mode" \
		test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 5 -a "$(json_get "$json" mode)" = "$mode"
	wall=$(json_get "$json" summary.wall_s)
	if at_least "$wall" 0.2 && at_most "$wall" 0.35; then
		pass "[$mode] the tasks sleep side by side: wall $wall s for 5 x 0.2 s"
	else
		fail "[$mode] the tasks sleep side by side: wall $wall s for 5 x 0.2 s"
	fi
	durations=$(json_get "$json" 'tasks.*.end_s' | paste - <(json_get "$json" 'tasks.*.start_s') |
		awk '{ d = $1 - $2; if (d < 0.2 || d > 0.3) bad++ } END { print bad + 0 }')
	check "[$mode] no task ends before its 200 ms deadline, none later than 100 ms after" test "$durations" -eq 0
	pid=$(json_get "$json" 'tasks.0.pid')
	check "[$mode] one thread does all the waiting: every task ran in the process's main thread" \
		every "$pid" "$json" 'tasks.*.tid'
	check "[$mode] the kernel saw one thread (threads_peak 1)" test "$(json_get "$json" summary.threads_peak)" = 1
	check "[$mode] the summary line names the strategy and the mode" \
		grep -q "^Summary: uring x sleep $mode, 5 tasks (5 ok" "$test_tmp/sleep-$mode.out"
done
check "heap: one TIMEOUT waits for all (queue_depth_peak 1)" \
	test "$(json_get "$test_tmp/sleep-heap.json" summary.queue_depth_peak)" = 1
check "per-task: one TIMEOUT per task in flight (queue_depth_peak 5)" \
	test "$(json_get "$test_tmp/sleep-per-task.json" summary.queue_depth_peak)" = 5

for mode in heap per-task; do
	json=$test_tmp/jobs-$mode.json
	IOSTRAT_URING_SLEEP=$mode run_iostrat "jobs-$mode" uring sleep -n 6 -j 2 --delay 100ms -q --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.inflight_peak)" = 2 ] && at_least "$wall" 0.3 && at_most "$wall" 0.45; then
		pass "[$mode] -j 2 keeps 2 tasks in flight: 6 x 100 ms take 3 rounds ($wall s)"
	else
		fail "[$mode] -j 2 keeps 2 tasks in flight: 6 x 100 ms take 3 rounds ($wall s)" "exit $rc" \
			"inflight_peak $(json_get "$json" summary.inflight_peak)"
	fi
done
check "per-task: -j 2 never puts more than 2 sleeps in the ring" \
	test "$(json_get "$test_tmp/jobs-per-task.json" summary.queue_depth_peak)" = 2

# Random whole-second delays (0 or 1 s, as the tutorial draws them), 3 at a time: each task
# keeps its own, zero-second sleeps done at once, tasks started as others end still on time.
for mode in heap per-task; do
	json=$test_tmp/random-$mode.json
	IOSTRAT_URING_SLEEP=$mode run_iostrat "random-$mode" uring sleep -n 8 -j 3 --max-delay 2 --seed 7 -q --json "$json"
	late=$(paste <(json_get "$json" 'tasks.*.start_s') <(json_get "$json" 'tasks.*.end_s') \
		<(json_get "$json" 'tasks.*.delay_s') |
		awk '{ d = $2 - $1; if (d < $3 || d > $3 + 0.1) bad++ } END { print bad + 0 }')
	check "[$mode] random delays: each of 8 tasks sleeps its own delay (within 100 ms), exit 0" \
		test "$rc" -eq 0 -a "$late" -eq 0
done
json=$test_tmp/zero.json
run_iostrat zero uring sleep -n 3 -j 1 --delay 0 -q --json "$json"
check "zero-length sleeps complete at once, one after another (-j 1)" \
	test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 3

# Ctrl-C and SIGTERM: the stop eventfd is polled on the ring, so the wait ends at once; every
# task is cancelled, the result is still written.
for mode in heap per-task; do
	for signal in INT TERM; do
		json=$test_tmp/stop-$mode-$signal.json
		IOSTRAT_URING_SLEEP=$mode "$IOSTRAT" uring sleep -n 50 --delay 30s -q --json "$json" \
			>"$test_tmp/stop.out" 2>"$test_tmp/stop.err" &
		pid=$!
		test_cleanups+=("kill $pid 2>/dev/null")
		sleep 0.3
		start=$(date +%s%N)
		kill -"$signal" "$pid"
		rc=0
		wait "$pid" || rc=$?
		took_ms=$((($(date +%s%N) - start) / 1000000))
		want_rc=130
		[ "$signal" = TERM ] && want_rc=143
		if [ "$rc" -eq "$want_rc" ] && [ "$took_ms" -lt 1000 ] &&
			[ "$(json_get "$json" interrupted)" = "SIG$signal" ] &&
			[ "$(json_get "$json" summary.tasks_cancelled)" = 50 ]; then
			pass "[$mode] SIG$signal ends 30 s sleeps at once (${took_ms} ms): exit $want_rc, 50 cancelled, result written"
		else
			fail "[$mode] SIG$signal ends 30 s sleeps at once: exit $want_rc, 50 cancelled, result written" \
				"exit $rc after ${took_ms} ms" "$(cat "$test_tmp/stop.err")"
		fi
	done
done

rc=0
IOSTRAT_URING_SLEEP=wheel timeout 20 "$IOSTRAT" uring sleep -n 2 --delay 1ms -q --json "$test_tmp/badmode.json" \
	>/dev/null 2>"$test_tmp/badmode.err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'IOSTRAT_URING_SLEEP=wheel: expected heap or per-task' "$test_tmp/badmode.err" &&
	[ "$(json_get "$test_tmp/badmode.json" summary.tasks_ok)" = 0 ]; then
	pass "a bad IOSTRAT_URING_SLEEP is named, no task runs, the result is written (exit 1)"
else
	fail "a bad IOSTRAT_URING_SLEEP is named, no task runs, the result is written (exit 1)" "exit $rc" \
		"$(cat "$test_tmp/badmode.err")"
fi

# ---- file: IORING_OP_READ, --jobs files in flight, read and checked by the one thread --------

set_dir=$test_tmp/set
n=6
size_bytes=65536
files=(-n "$n" --size 64K --block 4K --dir "$set_dir")
"$IOSTRAT" blocking file -q "${files[@]}" >/dev/null 2>&1
for cache in warm cold; do
	json=$test_tmp/file-$cache.json
	run_iostrat "file-$cache" uring file "${files[@]}" --cache "$cache" --json "$json"
	check "file --cache $cache: every task reads and checks its whole file, exit 0" \
		test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = "$n" -a \
		"$(json_get "$json" summary.bytes_total)" = $((n * size_bytes))
	check "file --cache $cache: each task records the bytes it read" \
		test "$(json_get "$json" 'tasks.*.bytes' | sort -u)" = "$size_bytes"
	check "file --cache $cache: the loop's own thread handled every file (no worker pool)" \
		every "$(json_get "$json" tasks.0.pid)" "$json" 'tasks.*.tid'
	check "file --cache $cache: one READ per file in flight, all $n files at once (queue depth $n)" \
		test "$(json_get "$json" summary.queue_depth_peak)" = "$n"
done
json=$test_tmp/file-jobs.json
run_iostrat file-jobs uring file "${files[@]}" -j 2 --json "$json"
check "file -j 2: two files in flight, two READs in the ring at most" \
	test "$rc" -eq 0 -a "$(json_get "$json" summary.inflight_peak)" = 2 -a \
	"$(json_get "$json" summary.queue_depth_peak)" = 2 -a "$(json_get "$json" summary.tasks_ok)" = "$n"
json=$test_tmp/file-block.json
run_iostrat file-block uring file -n 3 --size 64K --block 5000 --dir "$set_dir" --json "$json"
check "file --block 5000: reads that end off a word boundary still check (3 files, exit 0)" \
	test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 3

# Damaged files: that task fails, naming the file and what is wrong; the others finish; exit 1.
damaged_dir=$test_tmp/damaged
damage() { # what-it-protects expected-error setup-commands...
	local what=$1 expected=$2 json=$test_tmp/damage.json
	shift 2
	rm -rf "$damaged_dir"
	"$IOSTRAT" blocking file -q -n "$n" --size 64K --dir "$damaged_dir" >/dev/null 2>&1
	(cd "$damaged_dir" && eval "$*")
	run_iostrat damage uring file -q -n "$n" --size 64K --block 4K --dir "$damaged_dir" --json "$json"
	if [ "$rc" -eq 1 ] && [ "$(json_get "$json" summary.tasks_ok)" = $((n - 1)) ] &&
		[ "$(json_get "$json" tasks.3.status)" = error ] &&
		json_get "$json" tasks.3.error | grep -q -- "$expected"; then
		pass "$what"
	else
		fail "$what" "exit $rc, ok $(json_get "$json" summary.tasks_ok)" "error: $(json_get "$json" tasks.3.error)"
	fi
}
damage "a deleted file fails its task, naming it and why" "f0000003: open: No such file or directory" rm f0000003
damage "a truncated file fails its task with the size found" \
	"f0000003: 1000 bytes, expected $size_bytes (truncated)" truncate -s 1000 f0000003
damage "a single altered byte is found at its offset" "f0000003: wrong content at offset 40000 (altered)" \
	"printf 'Z' | dd of=f0000003 bs=1 seek=40003 conv=notrunc status=none"
damage "a file swapped with another says whose content it holds" \
	"f0000003: wrong content at offset 0 (it holds f0000000's)" "cp f0000000 f0000003"
damage "a longer file fails its task" "f0000003: longer than $size_bytes bytes" "printf 'more' >>f0000003"
damage "a folder where a file should be fails with the read's error" "f0000003: read at offset 0: Is a directory" \
	"rm f0000003 && mkdir f0000003"

# More files than the descriptor limit allows: --jobs is bounded, every file is read.
(
	ulimit -n 64
	run_iostrat emfile uring file -n 100 --size 4K --dir "$test_tmp/many" -q --json "$test_tmp/emfile.json"
	echo "$rc" >"$test_tmp/emfile.rc"
)
check "under ulimit -n 64: --jobs is bounded with a message, and all 100 files are read" \
	test "$(cat "$test_tmp/emfile.rc")" = 0 -a "$(json_get "$test_tmp/emfile.json" summary.tasks_ok)" = 100 -a \
	"$(grep -c 'descriptor limit (ulimit -n 64)' "$test_tmp/emfile.err")" = 1

# Ctrl-C while files are read one byte per READ (millions of requests): the loop stops at
# once, the READs in flight are taken back, every task is cancelled, the result is written.
"$IOSTRAT" blocking file -q -n 4 --size 1M --dir "$test_tmp/big" >/dev/null 2>&1
json=$test_tmp/file-stop.json
"$IOSTRAT" uring file -q -n 4 --size 1M --block 1 --dir "$test_tmp/big" --cache warm --json "$json" \
	>"$test_tmp/file-stop.out" 2>"$test_tmp/file-stop.err" &
pid=$!
test_cleanups+=("kill $pid 2>/dev/null")
sleep 0.5
start=$(date +%s%N)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
took_ms=$((($(date +%s%N) - start) / 1000000))
bytes=$(json_get "$json" summary.bytes_total)
if [ "$rc" -eq 130 ] && [ "$took_ms" -lt 1000 ] && [ "$(json_get "$json" summary.tasks_cancelled)" = 4 ] &&
	[ "$bytes" -gt 0 ] && [ "$bytes" -lt $((4 * 1048576)) ]; then
	pass "Ctrl-C during file reads: exit 130 in ${took_ms} ms, 4 cancelled, $bytes bytes read so far recorded"
else
	fail "Ctrl-C during file reads: exit 130 at once, 4 cancelled, the bytes so far recorded" \
		"exit $rc after ${took_ms} ms, bytes $bytes" "$(cat "$test_tmp/file-stop.err")"
fi

# ---- http: libcurl's multi-socket API on POLL_ADD and TIMEOUT requests ------------------------

export IOSTRAT_HTTPD_DIR=$test_tmp/httpd
unset IOSTRAT_HTTP_URL
if ! command -v nginx >/dev/null 2>&1; then
	skip "http fetched through POLL_ADD and TIMEOUT requests, faults, Ctrl-C" "nginx is not installed (make deps)"
elif ! base=$(scripts/httpd start 2>"$test_tmp/httpd.err"); then
	fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
else
	test_cleanups+=("scripts/httpd stop >/dev/null")

	json=$test_tmp/http.json
	run_iostrat http uring http -n 8 --json "$json"
	check "http: 8 listings fetched, every status 200, exit 0" \
		test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 8 -a \
		"$(json_get "$json" 'tasks.*.http_status' | sort -u)" = 200
	check "http: the listings are printed as they arrive" grep -q '^/r/python:$' "$test_tmp/http.out"
	check "http: one thread waits for every socket (threads_peak 1, every task in the main thread)" \
		test "$(json_get "$json" summary.threads_peak)" = 1 -a \
		"$(json_get "$json" 'tasks.*.tid' | sort -u)" = "$(json_get "$json" tasks.0.pid)"

	json=$test_tmp/http-held.json
	run_iostrat http-held uring http -n 200 --delay 300ms -q --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	if [ "$rc" -eq 0 ] && at_least "$wall" 0.3 && at_most "$wall" 1.5; then
		pass "http: 200 responses held 300 ms each overlap (wall $wall s)"
	else
		fail "http: 200 responses held 300 ms each overlap" "exit $rc, wall $wall s" "$(cat "$test_tmp/http-held.err")"
	fi
	check "http: a POLL_ADD per socket waiting, so the ring held at least 200 requests at once" \
		test "$(json_get "$json" summary.queue_depth_peak)" -ge 200

	json=$test_tmp/http-jobs.json
	run_iostrat http-jobs uring http -n 12 -j 3 --delay 100ms -q --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.inflight_peak)" = 3 ] && at_least "$wall" 0.4 &&
		[ "$(json_get "$json" summary.connections)" -le 3 ]; then
		pass "http -j 3: 3 requests in flight, 4 rounds of 100 ms ($wall s), connections kept alive (at most 3)"
	else
		fail "http -j 3: 3 requests in flight, 4 rounds, connections kept alive" "exit $rc, wall $wall s" \
			"inflight_peak $(json_get "$json" summary.inflight_peak), connections $(json_get "$json" summary.connections)"
	fi

	# The multi handle is the loops' (strategies/loop_http.c): at most -j idle connections kept, so
	# each slot's connection is reused by its next tasks (libcurl's own bound of 4 x the
	# handles in the multi handle closed some: 124 for 20,000 requests over 100 slots).
	json=$test_tmp/http-keepalive.json
	run_iostrat http-keepalive uring http -n 2000 -j 100 -q --json "$json"
	check "http -n 2000 -j 100: every task ok, over one kept-alive connection per slot (exactly 100)" \
		test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 2000 -a \
		"$(json_get "$json" summary.connections)" = 100

	# All in flight, handed to libcurl in rounds: every transfer is in flight before the first
	# response comes back, each on a connection of its own, and the held responses overlap.
	json=$test_tmp/http-allin.json
	run_iostrat http-allin uring http -n 600 --delay 500ms -q --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.tasks_ok)" = 600 ] &&
		[ "$(json_get "$json" summary.inflight_peak)" = 600 ] &&
		[ "$(json_get "$json" summary.connections)" = 600 ] && at_most "$wall" 2.5; then
		pass "http -n 600 --delay 500ms: all 600 in flight at once, a connection each, held together ($wall s)"
	else
		fail "http -n 600 --delay 500ms: all 600 in flight at once, a connection each, held together" \
			"exit $rc, wall $wall s, ok $(json_get "$json" summary.tasks_ok)" \
			"inflight_peak $(json_get "$json" summary.inflight_peak), connections $(json_get "$json" summary.connections)"
	fi

	# Faults: each task records why, the run finishes, exit 1.
	http_fault() { # what url pattern [options]
		local what=$1 url=$2 pattern=$3 json=$test_tmp/http-fault.json error
		shift 3
		run_iostrat http-fault uring http -n 2 --url "$url" -q --json "$json" "$@"
		error=$(json_get "$json" tasks.1.error)
		if [ "$rc" -eq 1 ] && [[ $error =~ $pattern ]] && [ "$(json_get "$json" summary.tasks_failed)" = 2 ]; then
			pass "http, $what: both tasks fail with '$error', exit 1"
		else
			fail "http, $what: both tasks fail with /$pattern/, exit 1" "exit $rc, error: $error" \
				"$(cat "$test_tmp/http-fault.err")"
		fi
	}
	http_fault "server down (connection refused)" "http://127.0.0.1:1/" "Connection refused|Couldn't connect"
	http_fault "404" "$base/status/404" "^HTTP status 404, not 200$"
	http_fault "500" "$base/status/500" "^HTTP status 500, not 200$"
	http_fault "not JSON" "$base/garbage" "^not JSON: "
	http_fault "body cut short" "$base/cut.json" "transfer closed|[Pp]artial"
	http_fault "never answers (libcurl's timeout comes through the ring's TIMEOUT)" \
		"$base/small.json?delay=60" "[Tt]imed out" --timeout 500ms

	json=$test_tmp/http-large.json
	run_iostrat http-large uring http -n 2 --url "$base/large.json" -q --json "$json"
	check "http: a 4 MiB body arrives whole over many POLLIN completions" \
		test "$rc" -eq 0 -a "$(json_get "$json" tasks.1.bytes)" -ge 4194304

	# More requests in flight than descriptors allow: the failures say why, nothing hangs.
	(
		ulimit -n 64
		run_iostrat http-fd uring http -n 150 --url "$base/small.json?delay=0.3" -q --json "$test_tmp/http-fd.json"
		echo "$rc" >"$test_tmp/http-fd.rc"
	)
	check "http, 150 in flight under ulimit -n 64: the run ends (exit 1), failures say 'Too many open files', some succeed" \
		test "$(cat "$test_tmp/http-fd.rc")" = 1 -a \
		"$(json_get "$test_tmp/http-fd.json" 'tasks.*.error' | grep -c 'Too many open files')" -ge 1 -a \
		"$(json_get "$test_tmp/http-fd.json" summary.tasks_ok)" -gt 0

	# Ctrl-C while responses are held: the stop poll ends the wait at once, the POLL_ADDs are
	# taken back, every transfer is cancelled, the result is written.
	json=$test_tmp/http-stop.json
	"$IOSTRAT" uring http -n 20 --url "$base/small.json?delay=30" -q --json "$json" \
		>"$test_tmp/http-stop.out" 2>"$test_tmp/http-stop.err" &
	pid=$!
	test_cleanups+=("kill $pid 2>/dev/null")
	sleep 0.5
	start=$(date +%s%N)
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	took_ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$rc" -eq 130 ] && [ "$took_ms" -lt 1000 ] && [ "$(json_get "$json" summary.tasks_cancelled)" = 20 ]; then
		pass "http, SIGINT while 20 responses are held: exit 130 in ${took_ms} ms, 20 cancelled"
	else
		fail "http, SIGINT while 20 responses are held: exit 130 at once, 20 cancelled" \
			"exit $rc after ${took_ms} ms" "$(cat "$test_tmp/http-stop.err")"
	fi
fi

[ "$tests_skipped" -eq 0 ] || echo "$tests_skipped skipped"
test_summary
