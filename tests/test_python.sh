#!/usr/bin/env bash
# test_python.sh - the tutorial's own Python programs (scripts/python/iostrat.py) end to end:
# every strategy on small cases of sleep, file and http writes a result document in iostrat's
# schema with every task and prints the tutorial's lines; processes run in other PIDs, threads
# in other TIDs, asyncio in one thread; the same seed gives iostrat's delays; bad arguments,
# failed tasks and signals end with iostrat's exit statuses; the file set is iostrat's; hostile
# input (bounded --urls, odd --json targets, closed or full stdout, non-ASCII digits) is refused
# or survived as iostrat refuses or survives it.
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

PYTHON=/usr/bin/python3
IOSTRAT_PY=scripts/python/iostrat-py
strategies=(blocking processes threads asyncio)

if [ ! -x "$PYTHON" ]; then
	fail "Debian's $PYTHON is there (install the package python3: make deps)"
	test_summary
	exit
fi
if ! "$PYTHON" -c 'import aiohttp' 2>/dev/null; then
	fail "aiohttp is importable by $PYTHON (install the package python3-aiohttp: make deps)"
fi

# run NAME ARGS...: run_program (tests/lib.sh) with $IOSTRAT_PY
run() {
	run_program "$IOSTRAT_PY" "$@"
}

# get NAME PATH: a value from NAME's result document
get() {
	json_get "$test_tmp/$1.json" "$2"
}

# above NUMBER LIMIT: NUMBER > LIMIT (decimals)
above() {
	awk -v n="$1" -v l="$2" 'BEGIN { exit !(n > l) }'
}

# The tutorial's start and done lines for task ids 0..N-1, each exactly once, with TAIL after
# "TID: <n>, " on the start line.
has_task_lines() {
	local file=$1 tasks=$2 tail=$3 id
	local prefix=$'^Time: [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}\t Malloc, Peak: \\([0-9]+, [0-9]+\\)\t\t'
	for ((id = 0; id < tasks; id++)); do
		[ "$(grep -cE "${prefix}Task $id, PID: [0-9]+, TID: [0-9]+, ${tail}\\.\\.\\.\$" "$file")" -eq 1 ] ||
			return 1
		[ "$(grep -cE "${prefix}Task $id: Done\\.\$" "$file")" -eq 1 ] || return 1
	done
}

# py_bad WHAT PATTERN ARGS...: the Python program exits 2 with PATTERN on stderr, no traceback
py_bad() {
	local what=$1 pattern=$2 status
	shift 2
	timeout 20 "$IOSTRAT_PY" "$@" >/dev/null 2>"$test_tmp/py-bad.err"
	status=$?
	if [ "$status" -eq 2 ] && grep -q -- "$pattern" "$test_tmp/py-bad.err" &&
		! grep -q Traceback "$test_tmp/py-bad.err"; then
		pass "$what: exit 2"
	else
		fail "$what: exit 2 with /$pattern/" "exit $status" "$(cat "$test_tmp/py-bad.err")"
	fi
}

# not_grep ARGS...: grep finds nothing
not_grep() {
	! grep -q "$@"
}

# count_distinct NAME FIELD: how many different values tasks.*.FIELD takes
count_distinct() {
	get "$1" "tasks.*.$2" | sort -u | wc -l
}

# ---- sleep: the tutorial's demo, 4 tasks of 200 ms -----------------------------------------
for s in "${strategies[@]}"; do
	name=sleep-$s
	run "$name" "python-$s" sleep -n 4 --delay 200ms
	check "python-$s sleep: exit 0" [ "$status" -eq 0 ]
	check "python-$s sleep: a result document naming the strategy" \
		[ "$(get "$name" strategy)" = "python-$s" ]
	if [ "$(get "$name" tasks.#)" = 4 ] && [ "$(get "$name" summary.tasks_ok)" = 4 ]; then
		pass "python-$s sleep: every task in it, every one ok"
	else
		fail "python-$s sleep: every task in it, every one ok"
	fi
	check "python-$s sleep: 'Parent PID: <pid>' first" \
		grep -qE '^Parent PID: [0-9]+$' <(head -n 1 "$test_tmp/$name.out")
	if [ "$s" != processes ]; then
		check "python-$s sleep: every task in the parent's process" \
			[ "$(get "$name" 'tasks.*.pid' | sort -u)" = "$(sed -n 's/^Parent PID: //p' "$test_tmp/$name.out")" ]
	fi
	check "python-$s sleep: the tutorial's start and done lines, once per task" \
		has_task_lines "$test_tmp/$name.out" 4 "Delay: 0\\.2 seconds"
	if [ "$(get "$name" summary.heap_source)" = tracemalloc ] &&
		above "$(get "$name" summary.heap_peak_bytes)" 0; then
		pass "python-$s sleep: the heap figures are tracemalloc's, and say so"
	else
		fail "python-$s sleep: the heap figures are tracemalloc's, and say so"
	fi
	if [ "$(get "$name" summary.ideal_s)" = "$([ "$s" = blocking ] && echo 0.8 || echo 0.2)" ] &&
		above "$(get "$name" summary.overhead_s)" 0; then
		pass "python-$s sleep: ideal 0.2 s per slot, overhead measured against it"
	else
		fail "python-$s sleep: ideal 0.2 s per slot, overhead measured against it"
	fi
	check "python-$s sleep: every task slept at least its 200 ms" \
		above "$(get "$name" summary.latency_s.p50)" 0.2
	if [ "$(get "$name" host.python)" != null ] && [ "$(get "$name" host.aiohttp)" != null ]; then
		pass "python-$s sleep: the host names Python and aiohttp"
	else
		fail "python-$s sleep: the host names Python and aiohttp"
	fi
done

parent=$(sed -n 's/^Parent PID: //p' "$test_tmp/sleep-processes.out")
if [ "$(count_distinct sleep-processes pid)" = 4 ] &&
	! get sleep-processes 'tasks.*.pid' | grep -qx "$parent"; then
	pass "python-processes: each task in a process of its own, none the parent"
else
	fail "python-processes: each task in a process of its own, none the parent"
fi
if [ "$(get sleep-processes summary.processes)" = 5 ] &&
	above "$(get sleep-processes summary.rss_sum_peak_bytes)" \
		"$(($(get sleep-processes summary.rss_peak_parent_bytes) * 4))"; then
	pass "python-processes: 5 processes, RSS added over every one of them"
else
	fail "python-processes: 5 processes, RSS added over every one of them"
fi
if [ "$(count_distinct sleep-threads pid)" = 1 ] && [ "$(count_distinct sleep-threads tid)" = 4 ]; then
	pass "python-threads: one process, each task in a thread of its own"
else
	fail "python-threads: one process, each task in a thread of its own"
fi
check "python-threads: the kernel saw the 4 threads and the main one" \
	[ "$(get sleep-threads summary.threads_peak)" -ge 5 ]
check "python-threads: their stacks' address space is reported" \
	above "$(get sleep-threads summary.stack_reserved_bytes)" 0
if [ "$(count_distinct sleep-asyncio tid)" = 1 ] &&
	[ "$(get sleep-asyncio tasks.0.tid)" = "$(get sleep-asyncio tasks.0.pid)" ]; then
	pass "python-asyncio: every task in the main thread of one process"
else
	fail "python-asyncio: every task in the main thread of one process"
fi
check "python-asyncio: one thread as the kernel counts them" \
	[ "$(get sleep-asyncio summary.threads_peak)" = 1 ]
if [ "$(get sleep-blocking summary.inflight_peak)" = 1 ] &&
	above "$(get sleep-blocking summary.wall_s)" 0.8; then
	pass "python-blocking: one task at a time"
else
	fail "python-blocking: one task at a time"
fi
for s in processes threads asyncio; do
	check "python-$s: the 4 tasks in flight together" \
		[ "$(get "sleep-$s" summary.inflight_peak)" = 4 ]
done

for s in processes threads asyncio; do
	run "jobs-$s" "python-$s" sleep -n 6 -j 2 --delay 100ms -q
	if [ "$status" -eq 0 ] && [ "$(get "jobs-$s" summary.inflight_peak)" = 2 ] &&
		[ "$(get "jobs-$s" summary.ideal_s)" = 0.3 ] && above "$(get "jobs-$s" summary.wall_s)" 0.3; then
		pass "python-$s -j 2: never more than 2 in flight, ideal 0.3 s"
	else
		fail "python-$s -j 2: never more than 2 in flight, ideal 0.3 s"
	fi
done
if not_grep '^Time: ' "$test_tmp/jobs-threads.out" && grep -q '^Summary: ' "$test_tmp/jobs-threads.out"; then
	pass "-q: no per-task lines, the summary still printed"
else
	fail "-q: no per-task lines, the summary still printed"
fi

IOSTRAT_PY_TRACEMALLOC=off run untraced python-threads sleep -n 2 --delay 10ms
if [ "$status" -eq 0 ] && [ "$(get untraced summary.heap_measured)" = false ] &&
	[ "$(get untraced summary.heap_peak_bytes)" = null ] &&
	[ "$(grep -c 'Malloc, Peak: (untraced)' "$test_tmp/untraced.out")" = 4 ]; then
	pass "IOSTRAT_PY_TRACEMALLOC=off: no heap figures invented, the lines say (untraced)"
else
	fail "IOSTRAT_PY_TRACEMALLOC=off: no heap figures invented, the lines say (untraced)"
fi

# ---- the same seed gives iostrat's random delays; a signal still leaves a document ----------
# stopped NAME SIGNAL COMMAND...: starts the command, sends SIGNAL once a task has started
# (its first line; at most 10 s) and 0.2 s more; $status
stopped() {
	local name=$1 signal=$2 pid tries
	shift 2
	"$@" --json "$test_tmp/$name.json" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err" &
	pid=$!
	for ((tries = 0; tries < 100; tries++)); do
		grep -q '^Time:' "$test_tmp/$name.out" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.2
	kill "-$signal" "$pid"
	wait "$pid"
	status=$?
}
stopped seed-python TERM "$IOSTRAT_PY" python-threads sleep -n 6 --seed 42 --max-delay 1000
if [ "$status" -eq 143 ] && [ "$(get seed-python interrupted)" = SIGTERM ] &&
	[ "$(get seed-python summary.tasks_cancelled)" = 6 ]; then
	pass "SIGTERM: exit 143, the document written, every task cancelled"
else
	fail "SIGTERM: exit 143, the document written, every task cancelled"
fi
if [ -x "$IOSTRAT" ]; then
	stopped seed-c TERM "$IOSTRAT" threads sleep -n 6 --seed 42 --max-delay 1000
	check "--seed 42: the same delays as iostrat's (splitmix64)" \
		[ "$(get seed-python 'tasks.*.delay_s')" = "$(get seed-c 'tasks.*.delay_s')" ]
else
	fail "--seed 42: the same delays as iostrat's ($IOSTRAT is not built: make)"
fi
for s in processes asyncio; do
	stopped "int-$s" INT "$IOSTRAT_PY" "python-$s" sleep -n 3 --delay 10
	if [ "$status" -eq 130 ] && [ "$(get "int-$s" interrupted)" = SIGINT ] &&
		[ "$(get "int-$s" summary.tasks_cancelled)" = 3 ] &&
		not_grep -x null <(get "int-$s" 'tasks.*.end_s'); then
		pass "python-$s after SIGINT: exit 130, each task cancelled with its end time"
	else
		fail "python-$s after SIGINT: exit 130, each task cancelled with its end time"
	fi
done
check "python-processes after SIGINT: no child left behind" \
	not_grep -q . <(pgrep -f "int-processes.json")

# ---- arguments: iostrat's checks, exit 2 before anything runs -------------------------------
usage() {
	local what=$1 expect=$2
	shift 2
	timeout 20 "$IOSTRAT_PY" "$@" >"$test_tmp/usage.out" 2>"$test_tmp/usage.err"
	local code=$?
	if [ "$code" -eq 2 ] && grep -q -- "$expect" "$test_tmp/usage.err" &&
		not_grep -q '^Parent PID' "$test_tmp/usage.out"; then
		pass "$what: exit 2 and says why"
	else
		fail "$what: exit 2 and says why"
	fi
}
usage "an unknown strategy" "unknown strategy 'threads'" threads sleep
usage "an unknown workload" "unknown workload 'disk'" python-threads disk
usage "-n 0" "'0' is not a whole number" python-threads sleep -n 0
usage "--delay 5x" "'5x' is not a duration" python-threads sleep --delay 5x
usage "--size on sleep" "does not apply to the sleep workload" python-threads sleep --size 4K
usage "--pool (epoll's)" "for iostrat's epoll strategy" python-threads file --pool 2
usage "--json into a missing folder" "cannot write there" python-threads sleep --json "$test_tmp/no/r.json"
usage "an unknown option" "not recognized" python-threads sleep --bogus
check "--list names the four Python strategies" \
	[ "$("$IOSTRAT_PY" --list | grep -cE '^  python-(blocking|processes|threads|asyncio) ')" = 4 ]

# ---- file: iostrat's file set, made here, read and checked by every strategy ----------------
set_dir=$test_tmp/set
for s in "${strategies[@]}"; do
	name=file-$s
	run "$name" "python-$s" file -n 4 --size 64K --block 4K --dir "$set_dir"
	if [ "$status" -eq 0 ] && [ "$(get "$name" summary.tasks_ok)" = 4 ] &&
		[ "$(get "$name" summary.bytes_total)" = 262144 ]; then
		pass "python-$s file: exit 0, 4 files read whole (4 x 64 KiB)"
	else
		fail "python-$s file: exit 0, 4 files read whole (4 x 64 KiB)"
	fi
	check "python-$s file: the tutorial's lines name each file" \
		has_task_lines "$test_tmp/$name.out" 4 "File: ${set_dir//./\\.}/f000000[0-3], 65536 bytes"
	check "python-$s file: the share of the set in the page cache is measured" \
		[ "$(get "$name" summary.resident_at_start)" != null ]
done
check "the set carries iostrat's manifest (so iostrat reuses it)" \
	[ "$(head -n 1 "$set_dir/MANIFEST")" = "iostrat file set" ]
if [ "$(get file-blocking summary.files_created)" = 4 ] &&
	[ "$(get file-threads summary.files_created)" = 0 ]; then
	pass "the first run made the set, the next ones reused it"
else
	fail "the first run made the set, the next ones reused it"
fi
if [ "$(get file-asyncio mode)" = to_thread ] && [ "$(get file-asyncio summary.threads_peak)" -gt 1 ]; then
	pass "python-asyncio file: asyncio.to_thread, whose worker threads the kernel saw"
else
	fail "python-asyncio file: asyncio.to_thread, whose worker threads the kernel saw"
fi
run warm python-threads file -n 4 --size 64K --dir "$set_dir" --cache warm -q
check "--cache warm: the whole set in the page cache at start" \
	[ "$(get warm summary.resident_at_start)" = 1.0 ]
if "$IOSTRAT" --list 2>/dev/null | grep -q '^  file '; then
	"$IOSTRAT" threads file -n 4 --size 64K --dir "$set_dir" -q --json "$test_tmp/c-file.json" \
		>/dev/null 2>&1
	if [ "$(get c-file summary.tasks_ok)" = 4 ] && [ "$(get c-file summary.files_created)" = 0 ]; then
		pass "iostrat reads the set the Python program made, and finds it right"
	else
		fail "iostrat reads the set the Python program made, and finds it right"
	fi
fi
printf 'X' | dd of="$set_dir/f0000002" bs=1 seek=5003 conv=notrunc 2>/dev/null
run damaged python-processes file -n 4 --size 64K --dir "$set_dir" -q
if [ "$status" -eq 1 ] && [ "$(get damaged summary.tasks_ok)" = 3 ] &&
	[ "$(get damaged tasks.2.error)" = "f0000002: wrong content at offset 5000 (altered)" ]; then
	pass "an altered byte fails its task (exit 1), the others still ok"
else
	fail "an altered byte fails its task (exit 1), the others still ok"
fi

# ---- http: the local nginx, in a private run folder -----------------------------------------
# The tutorial's block for one listing: "/r/NAME:", then "\t<score>: <title>" and
# "\t\t(<link>)" for each of the 5 posts.
has_listing() {
	local file=$1 name=$2
	awk -v header="/r/$name:" '
		$0 == header { inside = 1; posts = 0; next }
		inside && /^\t[0-9]+: ./ { getline link; if (link ~ /^\t\t\(.+\)$/) posts++; next }
		inside { inside = 0; if (posts == 5) found = 1 }
		END { if (inside && posts == 5) found = 1; exit !found }
	' "$file"
}

unset IOSTRAT_HTTP_URL
export IOSTRAT_HTTPD_DIR=$test_tmp/httpd
run no-server python-threads http -n 2
if [ "$status" -eq 2 ] && grep -q 'scripts/httpd start' "$test_tmp/no-server.err"; then
	pass "http with no local server: exit 2, and says to start it"
else
	fail "http with no local server: exit 2, and says to start it"
fi
if ! command -v nginx >/dev/null 2>&1; then
	fail "nginx is installed, for the http cases (make deps)"
elif ! base=$(scripts/httpd start 2>"$test_tmp/httpd.err"); then
	fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
else
	test_cleanups+=("scripts/httpd stop >/dev/null")
	for s in "${strategies[@]}"; do
		name=http-$s
		run "$name" "python-$s" http -n 8
		if [ "$status" -eq 0 ] && [ "$(get "$name" summary.tasks_ok)" = 8 ] &&
			[ "$(get "$name" 'tasks.*.http_status' | sort -u)" = 200 ]; then
			pass "python-$s http: 8 listings fetched, exit 0, every status 200"
		else
			fail "python-$s http: 8 listings fetched, exit 0, every status 200"
		fi
		if has_listing "$test_tmp/$name.out" python && has_listing "$test_tmp/$name.out" rust; then
			pass "python-$s http: /r/python and /r/rust printed as the tutorial prints them"
		else
			fail "python-$s http: /r/python and /r/rust printed as the tutorial prints them"
		fi
		check "python-$s http: the tutorial's lines name each URL" \
			has_task_lines "$test_tmp/$name.out" 8 "GET ${base//./\\.}/r/[a-z_]+/top\\.json\\?sort=top&t=day&limit=5"
		if above "$(get "$name" summary.bytes_total)" 8000 &&
			above "$(get "$name" summary.requests_per_s)" 0 &&
			above "$(get "$name" summary.connections)" 0; then
			pass "python-$s http: bytes, requests per second and connections reported"
		else
			fail "python-$s http: bytes, requests per second and connections reported"
		fi
	done
	check "urllib opens a connection per request (Connection: close)" \
		[ "$(get http-threads summary.connections)" = 8 ]
	if [ "$(get http-asyncio summary.threads_peak)" = 1 ] && [ "$(count_distinct http-asyncio tid)" = 1 ]; then
		pass "python-asyncio http: aiohttp in one thread"
	else
		fail "python-asyncio http: aiohttp in one thread"
	fi

	run held python-asyncio http -n 4 --delay 300ms -q
	if [ "$status" -eq 0 ] && above "$(get held summary.latency_s.p50)" 0.3 &&
		[ "$(get held summary.ideal_s)" = 0.3 ] && ! above "$(get held summary.wall_s)" 0.9; then
		pass "--delay 300ms: the server holds each response, all 4 at once"
	else
		fail "--delay 300ms: the server holds each response, all 4 at once"
	fi
	for s in threads asyncio; do
		run "404-$s" "python-$s" http -n 2 --url "$base/status/404"
		if [ "$status" -eq 1 ] && [ "$(get "404-$s" tasks.0.error)" = "HTTP status 404, not 200" ] &&
			[ "$(get "404-$s" tasks.0.http_status)" = 404 ]; then
			pass "python-$s: a 404 fails the tasks (exit 1) and says so"
		else
			fail "python-$s: a 404 fails the tasks (exit 1) and says so"
		fi
		run "garbage-$s" "python-$s" http -n 1 --url "$base/garbage"
		if [ "$status" -eq 1 ] && get "garbage-$s" tasks.0.error | grep -q '^not JSON: '; then
			pass "python-$s: a body that is not JSON fails the task"
		else
			fail "python-$s: a body that is not JSON fails the task"
		fi
		run "refused-$s" "python-$s" http -n 1 --url http://127.0.0.1:1/
		if [ "$status" -eq 1 ] && get "refused-$s" tasks.0.error | grep -qi 'refused'; then
			pass "python-$s: a refused connection fails the task and says so"
		else
			fail "python-$s: a refused connection fails the task and says so"
		fi
	done
	run nul python-threads http -n 1 --url "$base/nul.json" -q
	check "valid JSON with an escaped NUL is JSON (as iostrat takes it)" [ "$status" -eq 0 ]

	# hostile --urls and URLs: refused as iostrat refuses them, exit 2
	py_bad "--urls /dev/zero: a NUL byte, read no further" "line 1: a NUL byte" \
		python-threads http --urls /dev/zero
	truncate -s 65M "$test_tmp/huge.txt"
	py_bad "--urls larger than 64 MiB" "larger than 64 MiB" python-threads http --urls "$test_tmp/huge.txt"
	py_bad "--delay beside a URL's own delay=" "delay= of its own" \
		python-threads http --delay 100ms --url "$base/small.json?delay=1"
	printf '%s\n' "$base/small.json" >"$test_tmp/urls.txt"
	py_bad "--json naming the --urls file" "would overwrite the input" \
		python-threads http --urls "$test_tmp/urls.txt" --json "$test_tmp/urls.txt"
	check "--json naming the --urls file: the input is left as it was" \
		[ "$(cat "$test_tmp/urls.txt")" = "$base/small.json" ]
	# C and Python agree on a URL with a space: both refuse it, with the same reason
	url_space="$base/small.json?a=b c"
	"$IOSTRAT_PY" python-threads http -n 1 --url "$url_space" >/dev/null 2>"$test_tmp/space-py.err"
	py_status=$?
	"$IOSTRAT" threads http -n 1 --url "$url_space" >/dev/null 2>"$test_tmp/space-c.err"
	c_status=$?
	if [ "$py_status" -eq 2 ] && [ "$c_status" -eq 2 ] &&
		[ "$(sed 's/.*fetches: //' "$test_tmp/space-py.err")" = "$(sed 's/.*fetches: //' "$test_tmp/space-c.err")" ]; then
		pass "a URL with a space: refused by both, exit 2 (Python $py_status, C $c_status), the same reason"
	else
		fail "a URL with a space: refused by both, exit 2 (Python $py_status, C $c_status), the same reason"
	fi
	run own-delay python-asyncio http -n 2 --url "$base/small.json?delay=0.3" -q
	check "a URL's own delay=0.3 is the ideal, as iostrat takes it" [ "$(get own-delay summary.ideal_s)" = 0.3 ]
	# Ctrl-C while --urls waits on a FIFO with no writer: exit 130, a result
	mkfifo "$test_tmp/urls.fifo"
	timeout 20 "$IOSTRAT_PY" python-threads http -n 3 --urls "$test_tmp/urls.fifo" \
		--json "$test_tmp/fifo.json" >/dev/null 2>"$test_tmp/fifo.err" &
	pid=$!
	for ((tries = 0; tries < 50; tries++)); do # its result file is made before it waits
		[ -n "$(find "$test_tmp" -maxdepth 1 -name 'fifo.json.tmp.*')" ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -INT "$pid"
	wait "$pid"
	status=$?
	if [ "$status" -eq 130 ] && [ "$(get fifo summary.tasks_cancelled)" = 3 ] && not_grep -q Traceback "$test_tmp/fifo.err"; then
		pass "Ctrl-C while --urls waits on a FIFO: exit 130 (was $status), a result with every task cancelled, no traceback"
	else
		fail "Ctrl-C while --urls waits on a FIFO: exit 130 (was $status), a result with every task cancelled, no traceback"
	fi
	# A stale pid file naming another live process: not the server
	mkdir -p "$test_tmp/stale"
	echo "http://127.0.0.1:1" >"$test_tmp/stale/url"
	sleep 30 &
	other=$!
	echo "$other" >"$test_tmp/stale/nginx.pid"
	IOSTRAT_HTTPD_DIR=$test_tmp/stale run stale python-threads http -n 1
	if [ "$status" -eq 2 ] && grep -q 'is not running any more' "$test_tmp/stale.err"; then
		pass "a stale nginx.pid naming another live process: exit 2, 'not running'"
	else
		fail "a stale nginx.pid naming another live process: exit 2, 'not running'"
	fi
	kill "$other"
	wait "$other" 2>/dev/null
fi

# ---- threads_peak against the kernel's count seen from outside, while thread creation fails
# part-way (as nobody, ulimit -u): counted after each start, the peak cannot be missed
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 777 "$test_tmp"
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all bash -c \
		"ulimit -u 12 && exec '$IOSTRAT_PY' python-threads sleep -n 40 --delay 1.5 -q --json '$test_tmp/peak.json'" \
		>/dev/null 2>&1 &
	pid=$!
	outside=0
	for _ in $(seq 25); do
		seen=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ "${seen:-0}" -gt "$outside" ] && outside=$seen
		sleep 0.05
	done
	wait "$pid"
	peak=$(get peak summary.threads_peak)
	if [ "$outside" -gt 2 ] && [ "$peak" -ge "$outside" ]; then
		pass "python-threads at the process limit: threads_peak $peak is at least what /proc showed ($outside)"
	else
		fail "python-threads at the process limit: threads_peak $peak is at least what /proc showed ($outside)"
	fi
else
	echo "skip - the process-limit check needs root (to run as nobody with ulimit -u)"
fi

# ---- hostile surroundings: closed or full stdout, odd --json targets, numbers, signals ------
"$IOSTRAT_PY" python-threads sleep -n 2 --delay 10ms --json "$test_tmp/closed.json" >&- 2>"$test_tmp/closed.err"
status=$?
if [ "$status" -eq 0 ] && not_grep -q Traceback "$test_tmp/closed.err" &&
	[ "$(get closed tasks.#)" = 2 ] && not_grep -q '^Time:' "$test_tmp/closed.json"; then
	pass "stdout closed: exit 0 (was $status), no traceback, the result has both tasks and no task line"
else
	fail "stdout closed: exit 0 (was $status), no traceback, the result has both tasks and no task line"
fi
"$IOSTRAT_PY" python-threads sleep -n 2 --delay 10ms --json "$test_tmp/full.json" >/dev/full 2>"$test_tmp/full.err"
status=$?
if [ "$status" -eq 1 ] && grep -q 'writing standard output: No space left' "$test_tmp/full.err" &&
	[ "$(get full tasks.#)" = 2 ]; then
	pass "stdout on a full device: exit 1 (was $status), says so, the result is written"
else
	fail "stdout on a full device: exit 1 (was $status), says so, the result is written"
fi
py_bad "--size 1T: a set larger than the free space, refused before a byte is written" \
	"GiB free" python-threads file -n 2 --size 1T --dir "$test_tmp/huge-set"
# Ctrl-C while one large file of the set is written: exit 130, a result, nothing half-made left
"$IOSTRAT_PY" python-blocking file -n 1 --size 2G --dir "$test_tmp/making" \
	--json "$test_tmp/making.json" >/dev/null 2>"$test_tmp/making.err" &
pid=$!
for ((tries = 0; tries < 100; tries++)); do
	[ -e "$test_tmp/making/f0000000" ] && break
	sleep 0.1
done
sleep 0.2
kill -INT "$pid"
wait "$pid"
status=$?
if [ "$status" -eq 130 ] && [ "$(get making summary.tasks_cancelled)" = 1 ] &&
	[ -z "$(ls -A "$test_tmp/making")" ] && not_grep -q Traceback "$test_tmp/making.err"; then
	pass "Ctrl-C while the set is made: exit 130, a result, no half-made file, no traceback"
else
	fail "Ctrl-C while the set is made: exit 130, a result, no half-made file, no traceback" \
		"exit $status" "$(cat "$test_tmp/making.err")"
fi
# The folder of --json renamed during the run: the result follows it, and says so
mkdir "$test_tmp/before"
"$IOSTRAT_PY" python-threads sleep -n 2 --delay 1 -q --json "$test_tmp/before/r.json" \
	>/dev/null 2>"$test_tmp/moved.err" &
pid=$!
for ((tries = 0; tries < 50; tries++)); do # until the run has its temporary file there
	[ -n "$(find "$test_tmp/before" -name 'r.json.tmp.*')" ] && break
	sleep 0.1
done
sleep 0.2
mv "$test_tmp/before" "$test_tmp/after"
wait "$pid"
status=$?
if [ "$status" -eq 1 ] && grep -q 'was renamed during the run: the result is in' "$test_tmp/moved.err" &&
	[ "$(ls "$test_tmp/after")" = r.json ] && [ "$(json_get "$test_tmp/after/r.json" tasks.#)" = 2 ]; then
	pass "--json's folder renamed mid-run: the result is in it where it went, exit 1, nothing else left"
else
	fail "--json's folder renamed mid-run: the result is in it where it went, exit 1, nothing else left" \
		"exit $status" "$(cat "$test_tmp/moved.err")" "$(ls "$test_tmp/after")"
fi
py_bad "--json naming a folder" "a folder, not a file" python-threads sleep --json "$test_tmp"
if [ "$(id -u)" -eq 0 ]; then
	mknod "$test_tmp/fulldev" c 1 7
	"$IOSTRAT_PY" python-threads sleep -n 1 --delay 1ms -q --json "$test_tmp/fulldev" >/dev/null 2>&1
	status=$?
	if [ "$status" -eq 1 ] && [ -c "$test_tmp/fulldev" ]; then
		pass "--json on a device: written in place (exit 1: it is full), still a device"
	else
		fail "--json on a device: written in place (exit 1: it is full), still a device"
	fi
else
	echo "skip - --json on a device node: mknod needs root"
fi
long=$(printf 'r%.0s' $(seq 250)).json
"$IOSTRAT_PY" python-threads sleep -n 1 --delay 1ms -q --json "$test_tmp/$long" >/dev/null 2>&1
if [ "$(json_get "$test_tmp/$long" tasks.#)" = 1 ] && [ "$(find "$test_tmp" -name '*.tmp.*' | wc -l)" = 0 ]; then
	pass "--json with a 255-byte name: written, no temporary file left"
else
	fail "--json with a 255-byte name: written, no temporary file left"
fi
py_bad "--delay in hex is refused, as iostrat refuses it" "--delay: '0x10'" python-threads sleep --delay 0x10
py_bad "--tasks in other digits than ASCII is refused" "--tasks: '٣'" python-threads sleep -n ٣
py_bad "--seed as a superscript digit is refused (no traceback)" "--seed: '²'" python-threads sleep --seed ²
run seedmax python-threads sleep -n 1 --delay 1ms -q --seed 18446744073709551615
if [ "$(get seedmax params.seed)" = 18446744073709551615 ] &&
	grep -q '"seed": "18446744073709551615"' "$test_tmp/seedmax.json"; then
	pass "--seed 2^64-1: a string of its digits in the result, as iostrat writes it"
else
	fail "--seed 2^64-1: a string of its digits in the result, as iostrat writes it"
fi
stopped hup HUP "$IOSTRAT_PY" python-processes sleep -n 4 --delay 5
if [ "$status" -eq 129 ] && [ "$(get hup interrupted)" = SIGHUP ]; then
	pass "SIGHUP: exit 129 (was $status), a result that says so"
else
	fail "SIGHUP: exit 129 (was $status), a result that says so"
fi

test_summary
