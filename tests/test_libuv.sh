#!/usr/bin/env bash
# test_libuv.sh - the libuv strategy end to end. Protects: sleeps (a uv_timer_t each, or one for
# a min-heap) end on time, never early, all waited for by one thread; files are read by libuv's
# thread pool, whose threads the kernel's count in threads_peak shows (1 + --pool, checked against
# /proc while the run goes), checked block by block (missing, truncated, altered files fail their
# task and name why); --inline reads in the loop thread; HTTP on uv_poll_t: listings, held
# responses overlapping, --jobs bounding what is in flight, the known faults (server down, 404,
# not JSON, a timeout); Ctrl-C ends each workload at once, every task accounted, exit 130 with a
# result; a build without libuv lists the strategy as unavailable with what to install.
# sanitize: yes
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

if [ ! -x "$IOSTRAT" ] || [ ! -x "${JSON_GET:-build/tests/json-get}" ]; then
	echo "test_libuv: $IOSTRAT or build/tests/json-get is missing: run 'make all test-tools' first" >&2
	exit 1
fi

at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# Run iostrat with a time limit, keeping its exit status in $rc and its streams in files.
run_iostrat() {
	local name=$1
	shift
	rc=0
	timeout 60 "$IOSTRAT" "$@" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err" || rc=$?
}

# The shortest task of a result, end - start - delay, in seconds (negative: ended early).
shortest_margin() {
	paste <(json_get "$1" 'tasks.*.start_s') <(json_get "$1" 'tasks.*.end_s') \
		<(json_get "$1" 'tasks.*.delay_s') |
		awk 'NR == 1 || $2 - $1 - $3 < m { m = $2 - $1 - $3 } END { printf "%.6f", m }'
}

# stop_after SECONDS NAME ARGS...: iostrat in the background, SIGINT after SECONDS; $rc, $took_ms.
stop_after() {
	local wait_s=$1 name=$2 pid start
	shift 2
	"$IOSTRAT" "$@" --json "$test_tmp/$name.json" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err" &
	pid=$!
	sleep "$wait_s"
	start=$(date +%s%N)
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	took_ms=$((($(date +%s%N) - start) / 1000000))
}

# ---- a build without libuv: listed, with what to install; refused with exit 2 -------------------
if [ "${IOSTRAT_SANITIZED:-0}" = 1 ]; then
	echo "skip - a build without libuv lists libuv with what to install (checked in the plain run)"
else
	nolib=build/no-libuv
	if make -s -j2 HAVE_LIBUV= BUILD="$nolib" "$nolib/iostrat" >"$test_tmp/nolib-build.out" 2>&1; then
		"$nolib/iostrat" --list >"$test_tmp/nolib-list.out"
		check "a build without libuv lists libuv as unavailable: install libuv1-dev and rebuild" \
			grep -qE '^  libuv +unavailable: built without libuv \(install libuv1-dev and rebuild\)' \
			"$test_tmp/nolib-list.out"
		rc=0
		timeout 20 "$nolib/iostrat" libuv sleep -n 1 --json "$test_tmp/nolib.json" >"$test_tmp/nolib.out" \
			2>"$test_tmp/nolib.err" || rc=$?
		if [ "$rc" -eq 2 ] && grep -q 'strategy libuv is unavailable: built without libuv' "$test_tmp/nolib.err" &&
			[ ! -e "$test_tmp/nolib.json" ] && ! grep -q 'Task 0' "$test_tmp/nolib.out"; then
			pass "a build without libuv refuses 'libuv' with exit 2 and the reason, and runs nothing"
		else
			fail "a build without libuv refuses 'libuv' with exit 2 and the reason, and runs nothing" \
				"exit $rc" "$(cat "$test_tmp/nolib.err")"
		fi
		if nm "$nolib/iostrat" | grep -q ' U uv_run'; then
			fail "a build without libuv does not link it" "uv_run is in $nolib/iostrat"
		else
			pass "a build without libuv does not link it, and its epoll still runs"
		fi
		"$nolib/iostrat" epoll sleep -q -n 2 --delay 1ms --json "$test_tmp/nolib-epoll.json" >/dev/null
		check "a build without libuv records host.libuv as null" \
			test "$(json_get "$test_tmp/nolib-epoll.json" host.libuv)" = null
	else
		fail "a build without libuv compiles" "$(tail -n 20 "$test_tmp/nolib-build.out")"
	fi
fi

"$IOSTRAT" --list --format tsv >"$test_tmp/list.tsv" 2>/dev/null || "$IOSTRAT" --list >"$test_tmp/list.tsv"
check "--list names libuv as available in this build" \
	grep -qE '^(  libuv +libuv|strategy	libuv	[^	]*	yes)' "$test_tmp/list.tsv"

# ---- sleep: uv_timer_t ---------------------------------------------------------------------------
for mode in per-task heap; do
	json=$test_tmp/sleep-$mode.json
	IOSTRAT_LIBUV_SLEEP=$mode run_iostrat "sleep-$mode" libuv sleep -n 200 --delay 300ms --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	margin=$(shortest_margin "$json")
	if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.tasks_ok)" = 200 ] && at_least "$wall" 0.3 &&
		at_most "$wall" 1.0 && at_least "$margin" 0 && [ "$(json_get "$json" mode)" = "$mode" ]; then
		pass "sleep ($mode): 200 sleeps of 300 ms overlap (wall $wall s), none ends early (shortest +${margin} s)"
	else
		fail "sleep ($mode): 200 sleeps of 300 ms overlap, none ends early" \
			"exit $rc, wall $wall, shortest margin $margin s, mode $(json_get "$json" mode)"
	fi
	check "sleep ($mode): one thread (threads_peak 1), every task in the main thread" \
		test "$(json_get "$json" summary.threads_peak)" = 1 -a \
		"$(json_get "$json" 'tasks.*.tid' | sort -u)" = "$(json_get "$json" tasks.0.pid)"
done
check "sleep: the tutorial's lines, a start and a finish per task" \
	test "$(grep -c 'Task [0-9]*, PID: .*Delay: 0.3 seconds\.\.\.' "$test_tmp/sleep-heap.out")" = 200 -a \
	"$(grep -c 'Task [0-9]*: Done\.' "$test_tmp/sleep-heap.out")" = 200
check "the result's host block names the libuv this build links" \
	test "$(json_get "$test_tmp/sleep-heap.json" host.libuv)" = "$(pkg-config --modversion libuv)"

json=$test_tmp/sleep-jobs.json
run_iostrat sleep-jobs libuv sleep -n 6 -j 2 --delay 200ms -q --json "$json"
wall=$(json_get "$json" summary.wall_s)
if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.inflight_peak)" = 2 ] && at_least "$wall" 0.6; then
	pass "sleep -j 2: at most 2 in flight, so 6 sleeps of 200 ms take 3 rounds ($wall s)"
else
	fail "sleep -j 2: at most 2 in flight, 3 rounds" "exit $rc, wall $wall, inflight_peak $(json_get "$json" summary.inflight_peak)"
fi

IOSTRAT_LIBUV_SLEEP=wheel run_iostrat sleep-bad libuv sleep -n 2 --delay 1ms -q --json "$test_tmp/sleep-bad.json"
check "IOSTRAT_LIBUV_SLEEP=wheel: refused, naming the value and what is expected, tasks cancelled" \
	test "$rc" -eq 1 -a "$(grep -c 'IOSTRAT_LIBUV_SLEEP=wheel: expected per-task or heap' "$test_tmp/sleep-bad.err")" = 1 \
	-a "$(json_get "$test_tmp/sleep-bad.json" summary.tasks_cancelled)" = 2

stop_after 0.4 sleep-stop libuv sleep -n 50 --delay 30 -q
json=$test_tmp/sleep-stop.json
if [ "$rc" -eq 130 ] && [ "$took_ms" -lt 1000 ] && [ "$(json_get "$json" summary.tasks_cancelled)" = 50 ]; then
	pass "Ctrl-C during sleeps: exit 130 in ${took_ms} ms, all 50 cancelled, the result written"
else
	fail "Ctrl-C during sleeps: exit 130 at once, all 50 cancelled" "exit $rc after ${took_ms} ms" "$(cat "$test_tmp/sleep-stop.err")"
fi

# ---- file: uv_fs_open/read/close on libuv's thread pool -----------------------------------------
set_dir=$test_tmp/set
json=$test_tmp/file.json
run_iostrat file libuv file -n 16 --size 256K --block 16K --dir "$set_dir" --cache warm -q --json "$json"
check "file: 16 files of 256K read and checked, exit 0" \
	test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 16 -a \
	"$(json_get "$json" summary.bytes_total)" = $((16 * 262144)) -a "$(json_get "$json" mode)" = pool
check "file: libuv's 4 pool threads beside the loop thread (threads_peak 5, --pool's default)" \
	test "$(json_get "$json" summary.threads_peak)" = 5

for pool in 2 9; do
	json=$test_tmp/file-pool-$pool.json
	run_iostrat "file-pool-$pool" libuv file -n 16 --size 256K --block 16K --dir "$set_dir" --cache warm \
		--pool "$pool" -q --json "$json"
	check "file --pool $pool: UV_THREADPOOL_SIZE=$pool, threads_peak $((pool + 1)), params.pool $pool" \
		test "$rc" -eq 0 -a "$(json_get "$json" summary.threads_peak)" = $((pool + 1)) -a \
		"$(json_get "$json" params.pool)" = "$pool"
done
UV_THREADPOOL_SIZE=7 run_iostrat file-env libuv file -n 4 --size 256K --dir "$set_dir" --cache warm --pool 3 \
	-q --json "$test_tmp/file-env.json"
check "file: UV_THREADPOOL_SIZE in the environment is replaced by --pool, and the run says so" \
	test "$rc" -eq 0 -a "$(json_get "$test_tmp/file-env.json" summary.threads_peak)" = 4 -a \
	"$(grep -c 'UV_THREADPOOL_SIZE=7 from the environment replaced by --pool 3' "$test_tmp/file-env.err")" = 1

json=$test_tmp/file-inline.json
run_iostrat file-inline libuv file -n 16 --size 256K --block 16K --dir "$set_dir" --cache warm --inline -q --json "$json"
check "file --inline: the calls without a callback run in the loop thread: no pool, one thread, one at a time" \
	test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 16 -a \
	"$(json_get "$json" summary.threads_peak)" = 1 -a "$(json_get "$json" mode)" = inline -a \
	"$(json_get "$json" summary.inflight_peak)" = 1

json=$test_tmp/file-jobs.json
run_iostrat file-jobs libuv file -n 16 --size 256K --block 16K --dir "$set_dir" --cache warm -j 3 -q --json "$json"
check "file -j 3: at most 3 files in flight" \
	test "$rc" -eq 0 -a "$(json_get "$json" summary.inflight_peak)" = 3 -a "$(json_get "$json" summary.tasks_ok)" = 16

# A slow run (64-byte reads, each a trip through the pool): the kernel's thread count, read from
# /proc while it runs, is what threads_peak records; then Ctrl-C.
slow_dir=$test_tmp/slow
"$IOSTRAT" blocking file -q -n 4 --size 4M --dir "$slow_dir" >/dev/null 2>&1
stop_pid_file=$test_tmp/slow.pid
(
	"$IOSTRAT" libuv file -n 4 --size 4M --block 64 --dir "$slow_dir" --cache warm -q \
		--json "$test_tmp/file-stop.json" >"$test_tmp/file-stop.out" 2>"$test_tmp/file-stop.err" &
	echo $! >"$stop_pid_file"
	wait $! || echo $? >"$test_tmp/file-stop.rc"
) &
waiter=$!
sleep 0.6
pid=$(cat "$stop_pid_file")
seen=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
start=$(date +%s%N)
kill -INT "$pid"
wait "$waiter" || true
took_ms=$((($(date +%s%N) - start) / 1000000))
rc=$(cat "$test_tmp/file-stop.rc" 2>/dev/null || echo 0)
json=$test_tmp/file-stop.json
peak=$(json_get "$json" summary.threads_peak)
check "file: threads in /proc while reading ($seen) = 1 + 4 pool threads = threads_peak ($peak)" \
	test "$seen" = 5 -a "$peak" = 5
bytes=$(json_get "$json" summary.bytes_total)
if [ "$rc" -eq 130 ] && [ "$took_ms" -lt 1000 ] && [ "$(json_get "$json" summary.tasks_cancelled)" = 4 ] &&
	[ "$bytes" -gt 0 ] && [ "$bytes" -lt $((4 * 4194304)) ]; then
	pass "Ctrl-C during file reads: exit 130 in ${took_ms} ms, 4 cancelled, $bytes bytes read so far recorded"
else
	fail "Ctrl-C during file reads: exit 130 at once, 4 cancelled, the bytes so far recorded" \
		"exit $rc after ${took_ms} ms, bytes $bytes" "$(cat "$test_tmp/file-stop.err")"
fi

# Damaged files: the task fails naming the file and why, the others finish, exit 1.
damage() { # what expected-error commands...
	local what=$1 expected=$2 dir=$test_tmp/damaged
	shift 2
	rm -rf "$dir"
	"$IOSTRAT" blocking file -q -n 6 --size 64K --dir "$dir" >/dev/null 2>&1
	(cd "$dir" && eval "$*")
	run_iostrat damage libuv file -q -n 6 --size 64K --block 4K --dir "$dir" --json "$test_tmp/damage.json"
	if [ "$rc" -eq 1 ] && [ "$(json_get "$test_tmp/damage.json" summary.tasks_ok)" = 5 ] &&
		json_get "$test_tmp/damage.json" tasks.3.error | grep -q -- "$expected"; then
		pass "file, $what: that task fails ('$expected'), the 5 others are read, exit 1"
	else
		fail "file, $what: that task fails, the others are read, exit 1" "exit $rc" \
			"error: $(json_get "$test_tmp/damage.json" tasks.3.error)"
	fi
}
damage "a missing file" "f0000003: open: No such file or directory" rm f0000003
damage "a truncated file" "f0000003: 1000 bytes, expected 65536 (truncated)" truncate -s 1000 f0000003
damage "a file altered in place" "f0000003: wrong content at offset 8192 (altered)" \
	"printf 'XXXXXXXX' | dd of=f0000003 bs=1 seek=8192 conv=notrunc status=none"

# ---- http: libcurl's multi-socket API on uv_poll_t and a uv_timer_t -------------------------------
export IOSTRAT_HTTPD_DIR=$test_tmp/httpd
unset IOSTRAT_HTTP_URL
if ! command -v nginx >/dev/null 2>&1; then
	echo "skip - http on uv_poll_t, faults, Ctrl-C (nginx is not installed: make deps)"
elif ! base=$(scripts/httpd start 2>"$test_tmp/httpd.err"); then
	fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
else
	test_cleanups+=("scripts/httpd stop >/dev/null")

	json=$test_tmp/http.json
	run_iostrat http libuv http -n 8 --json "$json"
	check "http: 8 listings fetched, every status 200, exit 0, printed as they arrive" \
		test "$rc" -eq 0 -a "$(json_get "$json" summary.tasks_ok)" = 8 -a \
		"$(json_get "$json" 'tasks.*.http_status' | sort -u)" = 200 -a \
		"$(grep -c '^/r/[a-z_]*:$' "$test_tmp/http.out")" -ge 1
	check "http: one thread waits for every socket (threads_peak 1)" \
		test "$(json_get "$json" summary.threads_peak)" = 1

	json=$test_tmp/http-held.json
	run_iostrat http-held libuv http -n 300 --delay 300ms -q --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.inflight_peak)" = 300 ] && at_least "$wall" 0.3 &&
		at_most "$wall" 1.5 && [ "$(json_get "$json" summary.connections)" = 300 ]; then
		pass "http: 300 responses held 300 ms overlap ($wall s), all in flight, a connection each"
	else
		fail "http: 300 responses held 300 ms overlap, all in flight" "exit $rc, wall $wall s" \
			"inflight_peak $(json_get "$json" summary.inflight_peak), connections $(json_get "$json" summary.connections)"
	fi

	json=$test_tmp/http-jobs.json
	run_iostrat http-jobs libuv http -n 12 -j 3 --delay 100ms -q --json "$json"
	wall=$(json_get "$json" summary.wall_s)
	if [ "$rc" -eq 0 ] && [ "$(json_get "$json" summary.inflight_peak)" = 3 ] && at_least "$wall" 0.4 &&
		[ "$(json_get "$json" summary.connections)" -le 3 ]; then
		pass "http -j 3: 3 in flight, 4 rounds of 100 ms ($wall s), connections kept alive (at most 3)"
	else
		fail "http -j 3: 3 in flight, 4 rounds, connections kept alive" "exit $rc, wall $wall s" \
			"inflight_peak $(json_get "$json" summary.inflight_peak), connections $(json_get "$json" summary.connections)"
	fi

	http_fault() { # what url pattern [options]
		local what=$1 url=$2 pattern=$3 json=$test_tmp/http-fault.json error
		shift 3
		run_iostrat http-fault libuv http -n 2 --url "$url" -q --json "$json" "$@"
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
	http_fault "not JSON" "$base/garbage" "^not JSON: "
	http_fault "never answers (libcurl's timeout through the uv_timer_t)" \
		"$base/small.json?delay=60" "[Tt]imed out" --timeout 500ms

	stop_after 0.5 http-stop libuv http -n 20 --url "$base/small.json?delay=30" -q
	json=$test_tmp/http-stop.json
	if [ "$rc" -eq 130 ] && [ "$took_ms" -lt 1000 ] && [ "$(json_get "$json" summary.tasks_cancelled)" = 20 ]; then
		pass "Ctrl-C while responses are held: exit 130 in ${took_ms} ms, all 20 cancelled, the result written"
	else
		fail "Ctrl-C while responses are held: exit 130 at once, all 20 cancelled" "exit $rc after ${took_ms} ms" \
			"$(cat "$test_tmp/http-stop.err")"
	fi
fi

test_summary
