#!/usr/bin/env bash
# test_python.sh - the tutorial's own Python programs (scripts/python/iostrat.py) end to end:
# every strategy on small cases of sleep, file and http writes a result document in iostrat's
# schema with every task and prints the tutorial's lines; processes run in other PIDs, threads
# in other TIDs, asyncio in one thread; the same seed gives iostrat's delays; bad arguments,
# failed tasks and signals end with iostrat's exit statuses; the file set is iostrat's.
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
	check "python-$s sleep: every task in it, every one ok" \
		[ "$(get "$name" tasks.#)" = 4 ] && [ "$(get "$name" summary.tasks_ok)" = 4 ]
	check "python-$s sleep: 'Parent PID: <pid>' first" \
		grep -qE '^Parent PID: [0-9]+$' <(head -n 1 "$test_tmp/$name.out")
	if [ "$s" != processes ]; then
		check "python-$s sleep: every task in the parent's process" \
			[ "$(get "$name" 'tasks.*.pid' | sort -u)" = "$(sed -n 's/^Parent PID: //p' "$test_tmp/$name.out")" ]
	fi
	check "python-$s sleep: the tutorial's start and done lines, once per task" \
		has_task_lines "$test_tmp/$name.out" 4 "Delay: 0\\.2 seconds"
	check "python-$s sleep: the heap figures are tracemalloc's, and say so" \
		[ "$(get "$name" summary.heap_source)" = tracemalloc ] &&
		above "$(get "$name" summary.heap_peak_bytes)" 0
	check "python-$s sleep: ideal 0.2 s per slot, overhead measured against it" \
		[ "$(get "$name" summary.ideal_s)" = "$([ "$s" = blocking ] && echo 0.8 || echo 0.2)" ] &&
		above "$(get "$name" summary.overhead_s)" 0
	check "python-$s sleep: every task slept at least its 200 ms" \
		above "$(get "$name" summary.latency_s.p50)" 0.2
	check "python-$s sleep: the host names Python and aiohttp" \
		[ "$(get "$name" host.python)" != null ] && [ "$(get "$name" host.aiohttp)" != null ]
done

parent=$(sed -n 's/^Parent PID: //p' "$test_tmp/sleep-processes.out")
check "python-processes: each task in a process of its own, none the parent" \
	[ "$(count_distinct sleep-processes pid)" = 4 ] &&
	! get sleep-processes 'tasks.*.pid' | grep -qx "$parent"
check "python-processes: 5 processes, RSS added over every one of them" \
	[ "$(get sleep-processes summary.processes)" = 5 ] &&
	above "$(get sleep-processes summary.rss_sum_peak_bytes)" \
		"$(($(get sleep-processes summary.rss_peak_parent_bytes) * 4))"
check "python-threads: one process, each task in a thread of its own" \
	[ "$(count_distinct sleep-threads pid)" = 1 ] && [ "$(count_distinct sleep-threads tid)" = 4 ]
check "python-threads: the kernel saw the 4 threads and the main one" \
	[ "$(get sleep-threads summary.threads_peak)" -ge 5 ]
check "python-threads: their stacks' address space is reported" \
	above "$(get sleep-threads summary.stack_reserved_bytes)" 0
check "python-asyncio: every task in the main thread of one process" \
	[ "$(count_distinct sleep-asyncio tid)" = 1 ] &&
	[ "$(get sleep-asyncio tasks.0.tid)" = "$(get sleep-asyncio tasks.0.pid)" ]
check "python-asyncio: one thread as the kernel counts them" \
	[ "$(get sleep-asyncio summary.threads_peak)" = 1 ]
check "python-blocking: one task at a time" \
	[ "$(get sleep-blocking summary.inflight_peak)" = 1 ] &&
	above "$(get sleep-blocking summary.wall_s)" 0.8
for s in processes threads asyncio; do
	check "python-$s: the 4 tasks in flight together" \
		[ "$(get "sleep-$s" summary.inflight_peak)" = 4 ]
done

for s in processes threads asyncio; do
	run "jobs-$s" "python-$s" sleep -n 6 -j 2 --delay 100ms -q
	check "python-$s -j 2: never more than 2 in flight, ideal 0.3 s" \
		[ "$status" -eq 0 ] && [ "$(get "jobs-$s" summary.inflight_peak)" = 2 ] &&
		[ "$(get "jobs-$s" summary.ideal_s)" = 0.3 ] && above "$(get "jobs-$s" summary.wall_s)" 0.3
done
check "-q: no per-task lines, the summary still printed" \
	not_grep '^Time: ' "$test_tmp/jobs-threads.out" && grep -q '^Summary: ' "$test_tmp/jobs-threads.out"

IOSTRAT_PY_TRACEMALLOC=off run untraced python-threads sleep -n 2 --delay 10ms
check "IOSTRAT_PY_TRACEMALLOC=off: no heap figures invented, the lines say (untraced)" \
	[ "$status" -eq 0 ] && [ "$(get untraced summary.heap_measured)" = false ] &&
	[ "$(get untraced summary.heap_peak_bytes)" = null ] &&
	[ "$(grep -c 'Malloc, Peak: (untraced)' "$test_tmp/untraced.out")" = 4 ]

# ---- the same seed gives iostrat's random delays; a signal still leaves a document ----------
# stopped NAME SIGNAL COMMAND...: starts the command, sends SIGNAL after 0.5 s; $status
stopped() {
	local name=$1 signal=$2 pid
	shift 2
	"$@" --json "$test_tmp/$name.json" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err" &
	pid=$!
	sleep 0.5
	kill "-$signal" "$pid"
	wait "$pid"
	status=$?
}
stopped seed-python TERM "$IOSTRAT_PY" python-threads sleep -n 6 --seed 42 --max-delay 1000 -q
check "SIGTERM: exit 143, the document written, every task cancelled" \
	[ "$status" -eq 143 ] && [ "$(get seed-python interrupted)" = SIGTERM ] &&
	[ "$(get seed-python summary.tasks_cancelled)" = 6 ]
if [ -x "$IOSTRAT" ]; then
	stopped seed-c TERM "$IOSTRAT" threads sleep -n 6 --seed 42 --max-delay 1000 -q
	check "--seed 42: the same delays as iostrat's (splitmix64)" \
		[ "$(get seed-python 'tasks.*.delay_s')" = "$(get seed-c 'tasks.*.delay_s')" ]
else
	fail "--seed 42: the same delays as iostrat's ($IOSTRAT is not built: make)"
fi
for s in processes asyncio; do
	stopped "int-$s" INT "$IOSTRAT_PY" "python-$s" sleep -n 3 --delay 10 -q
	check "python-$s after SIGINT: exit 130, each task cancelled with its end time" \
		[ "$status" -eq 130 ] && [ "$(get "int-$s" interrupted)" = SIGINT ] &&
		[ "$(get "int-$s" summary.tasks_cancelled)" = 3 ] &&
		not_grep -x null <(get "int-$s" 'tasks.*.end_s')
done
check "python-processes after SIGINT: no child left behind" \
	not_grep -q . <(pgrep -f "int-processes.json")

# ---- arguments: iostrat's checks, exit 2 before anything runs -------------------------------
usage() {
	local what=$1 expect=$2
	shift 2
	timeout 20 "$IOSTRAT_PY" "$@" >"$test_tmp/usage.out" 2>"$test_tmp/usage.err"
	local code=$?
	check "$what: exit 2 and says why" \
		[ "$code" -eq 2 ] && grep -q -- "$expect" "$test_tmp/usage.err" &&
		not_grep -q '^Parent PID' "$test_tmp/usage.out"
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
	check "python-$s file: exit 0, 4 files read whole (4 x 64 KiB)" \
		[ "$status" -eq 0 ] && [ "$(get "$name" summary.tasks_ok)" = 4 ] &&
		[ "$(get "$name" summary.bytes_total)" = 262144 ]
	check "python-$s file: the tutorial's lines name each file" \
		has_task_lines "$test_tmp/$name.out" 4 "File: ${set_dir//./\\.}/f000000[0-3], 65536 bytes"
	check "python-$s file: the share of the set in the page cache is measured" \
		[ "$(get "$name" summary.resident_at_start)" != null ]
done
check "the set carries iostrat's manifest (so iostrat reuses it)" \
	[ "$(head -n 1 "$set_dir/MANIFEST")" = "iostrat file set" ]
check "the first run made the set, the next ones reused it" \
	[ "$(get file-blocking summary.files_created)" = 4 ] &&
	[ "$(get file-threads summary.files_created)" = 0 ]
check "python-asyncio file: asyncio.to_thread, whose worker threads the kernel saw" \
	[ "$(get file-asyncio mode)" = to_thread ] && [ "$(get file-asyncio summary.threads_peak)" -gt 1 ]
run warm python-threads file -n 4 --size 64K --dir "$set_dir" --cache warm -q
check "--cache warm: the whole set in the page cache at start" \
	[ "$(get warm summary.resident_at_start)" = 1.0 ]
if "$IOSTRAT" --list 2>/dev/null | grep -q '^  file '; then
	"$IOSTRAT" threads file -n 4 --size 64K --dir "$set_dir" -q --json "$test_tmp/c-file.json" \
		>/dev/null 2>&1
	check "iostrat reads the set the Python program made, and finds it right" \
		[ "$(get c-file summary.tasks_ok)" = 4 ] && [ "$(get c-file summary.files_created)" = 0 ]
fi
printf 'X' | dd of="$set_dir/f0000002" bs=1 seek=5003 conv=notrunc 2>/dev/null
run damaged python-processes file -n 4 --size 64K --dir "$set_dir" -q
check "an altered byte fails its task (exit 1), the others still ok" \
	[ "$status" -eq 1 ] && [ "$(get damaged summary.tasks_ok)" = 3 ] &&
	[ "$(get damaged tasks.2.error)" = "f0000002: wrong content at offset 5000 (altered)" ]

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
check "http with no local server: exit 2, and says to start it" \
	[ "$status" -eq 2 ] && grep -q 'scripts/httpd start' "$test_tmp/no-server.err"
if ! command -v nginx >/dev/null 2>&1; then
	fail "nginx is installed, for the http cases (make deps)"
elif ! base=$(scripts/httpd start 2>"$test_tmp/httpd.err"); then
	fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
else
	test_cleanups+=("scripts/httpd stop >/dev/null")
	for s in "${strategies[@]}"; do
		name=http-$s
		run "$name" "python-$s" http -n 8
		check "python-$s http: 8 listings fetched, exit 0, every status 200" \
			[ "$status" -eq 0 ] && [ "$(get "$name" summary.tasks_ok)" = 8 ] &&
			[ "$(get "$name" 'tasks.*.http_status' | sort -u)" = 200 ]
		check "python-$s http: /r/python and /r/rust printed as the tutorial prints them" \
			has_listing "$test_tmp/$name.out" python && has_listing "$test_tmp/$name.out" rust
		check "python-$s http: the tutorial's lines name each URL" \
			has_task_lines "$test_tmp/$name.out" 8 "GET ${base//./\\.}/r/[a-z_]+/top\\.json\\?sort=top&t=day&limit=5"
		check "python-$s http: bytes, requests per second and connections reported" \
			above "$(get "$name" summary.bytes_total)" 8000 &&
			above "$(get "$name" summary.requests_per_s)" 0 &&
			above "$(get "$name" summary.connections)" 0
	done
	check "urllib opens a connection per request (Connection: close)" \
		[ "$(get http-threads summary.connections)" = 8 ]
	check "python-asyncio http: aiohttp in one thread" \
		[ "$(get http-asyncio summary.threads_peak)" = 1 ] && [ "$(count_distinct http-asyncio tid)" = 1 ]

	run held python-asyncio http -n 4 --delay 300ms -q
	check "--delay 300ms: the server holds each response, all 4 at once" \
		[ "$status" -eq 0 ] && above "$(get held summary.latency_s.p50)" 0.3 &&
		[ "$(get held summary.ideal_s)" = 0.3 ] && ! above "$(get held summary.wall_s)" 0.9
	for s in threads asyncio; do
		run "404-$s" "python-$s" http -n 2 --url "$base/status/404"
		check "python-$s: a 404 fails the tasks (exit 1) and says so" \
			[ "$status" -eq 1 ] && [ "$(get "404-$s" tasks.0.error)" = "HTTP status 404, not 200" ] &&
			[ "$(get "404-$s" tasks.0.http_status)" = 404 ]
		run "garbage-$s" "python-$s" http -n 1 --url "$base/garbage"
		check "python-$s: a body that is not JSON fails the task" \
			[ "$status" -eq 1 ] && get "garbage-$s" tasks.0.error | grep -q '^not JSON: '
		run "refused-$s" "python-$s" http -n 1 --url http://127.0.0.1:1/
		check "python-$s: a refused connection fails the task and says so" \
			[ "$status" -eq 1 ] && get "refused-$s" tasks.0.error | grep -qi 'refused'
	done
fi

test_summary
