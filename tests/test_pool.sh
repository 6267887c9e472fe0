#!/usr/bin/env bash
# test_pool.sh - pool (K worker threads) and prefork (K worker processes forked once): each on
# every workload; exactly K workers as the kernel counts them, seen from inside (the result
# document) and from outside (/proc during the run); ceil(N/K) rounds of tasks; the pool's
# default K is the CPU count; Ctrl-C; a killed worker fails its task; workers die with the
# parent; a thread or process limit reached part-way.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

# A sanitizer's runtime may keep a thread of its own, and makes everything slower.
extra=0
slack=0.35
if [ -n "${IOSTRAT_SANITIZED:-}" ]; then
	extra=1
	slack=1.0
fi

PY=scripts/python/iostrat-py # the tutorial's Python

# run NAME ARGS...: run_program (tests/lib.sh) with $IOSTRAT
run() {
	run_program "$IOSTRAT" "$@"
}

# count_of DOC KEY VALUE: how many tasks have KEY equal to VALUE
count_of() {
	json_get "$1" "tasks.*.$2" | grep -cx -- "$3"
}

# rss_sum DOC: every process's peak RSS added (the key's new name, or its old one)
rss_sum() {
	json_get "$1" summary.rss_sum_peak_bytes 2>/dev/null ||
		json_get "$1" summary.rss_peak_total_bytes
}

# ---- every workload under each strategy ----------------------------------------------------
http_base=
if command -v nginx >/dev/null 2>&1; then
	export IOSTRAT_HTTPD_DIR=$test_tmp/httpd
	unset IOSTRAT_HTTP_URL
	if http_base=$(scripts/httpd start 2>"$test_tmp/httpd.err"); then
		test_cleanups+=("scripts/httpd stop >/dev/null")
	else
		fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
		http_base=
	fi
else
	echo "skip - http under pool and prefork: nginx is not installed (make deps)"
fi
for strategy in pool prefork; do
	for workload in sleep file http; do
		case $workload in
		sleep) args=(-n 9 -j 3 --delay 50ms) ;;
		file) args=(-n 9 -j 3 --size 256K --dir "$test_tmp/files") ;;
		http)
			[ -n "$http_base" ] || continue
			args=(-n 9 -j 3 --delay 100ms)
			;;
		esac
		name=$strategy-$workload
		run "$name" "$strategy" "$workload" "${args[@]}"
		doc=$test_tmp/$name.json
		check "$strategy $workload: exit 0" test "$status" -eq 0
		check "$strategy $workload: 9 tasks ok" test "$(count_of "$doc" status ok)" -eq 9
		check "$strategy $workload: a start and a done line per task (18)" \
			test "$(grep -cE $'^Time: .*\t\tTask [0-9]+(, PID: [0-9]+, TID: [0-9]+, .*\\.\\.\\.|: Done\\..*)$' "$test_tmp/$name.out")" -eq 18
		# a file task takes a millisecond: one worker may take several before the
		# last is running, so 3 at once is required only of the tasks that wait
		expect=-eq
		[ "$workload" = file ] && expect=-le
		check "$strategy $workload: at most 3 in flight ($expect 3)" \
			test "$(json_get "$doc" summary.inflight_peak)" $expect 3
		if [ "$strategy" = pool ]; then
			check "$strategy $workload: 3 worker threads ran the tasks ($expect 3)" \
				test "$(json_get "$doc" 'tasks.*.tid' | sort -u | wc -l)" $expect 3
		else
			check "$strategy $workload: 3 worker processes ran the tasks ($expect 3)" \
				test "$(json_get "$doc" 'tasks.*.pid' | sort -u | wc -l)" $expect 3
		fi
	done
done
if [ -n "$http_base" ]; then
	check "prefork http: the listing printed as the tutorial prints it" \
		grep -qx '/r/python:' "$test_tmp/prefork-http.out"
fi

# ---- K workers, ceil(N/K) rounds ---------------------------------------------------------
# 10 tasks of 400 ms on 3 workers: 4 rounds (3, 3, 3, 1), 1.6 s. Sampled from outside while
# the second round runs: the pool's threads (/proc/PID/task) and prefork's children.
rounds() { # rounds STRATEGY
	local strategy=$1 doc=$test_tmp/rounds-$1.json pid outside
	"$IOSTRAT" "$strategy" sleep -n 10 -j 3 --delay 400ms -q --json "$doc" \
		>"$test_tmp/rounds-$strategy.out" 2>&1 &
	pid=$!
	sleep 0.6
	if [ "$strategy" = pool ]; then
		outside=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		check "pool -j 3: /proc saw 4 threads during the run (main and 3 workers; saw $outside)" \
			test "$outside" -ge 4 -a "$outside" -le $((4 + extra))
	else
		outside=$(wc -w <"/proc/$pid/task/$pid/children")
		check "prefork -j 3: /proc saw 3 child processes during the run (saw $outside)" \
			test "$outside" -eq 3
	fi
	wait "$pid"
	check "$strategy -j 3: exit 0" test $? -eq 0
	local wall
	wall=$(json_get "$doc" summary.wall_s)
	check "$strategy -j 3: 10 tasks of 0.4 s take 4 rounds (wall $wall s, 1.6 to 1.6+$slack)" \
		awk -v w="$wall" -v s="$slack" 'BEGIN { exit !(w >= 1.6 && w < 1.6 + s) }'
	# each start falls in its round's first 0.2 s: 3, 3, 3 and 1 starts per round
	local per_round
	per_round=$(json_get "$doc" 'tasks.*.start_s' | awk '
		{ r = int($1 / 0.4); if ($1 - r * 0.4 < 0.2) n[r]++; else n["late"]++ }
		END { printf "%d %d %d %d %d", n[0], n[1], n[2], n[3], n["late"] }')
	check "$strategy -j 3: task starts cluster in rounds of 3, 3, 3, 1 (saw $per_round, last: late)" \
		test "$per_round" = "3 3 3 1 0"
	if [ "$strategy" = pool ]; then
		local peak
		peak=$(json_get "$doc" summary.threads_peak)
		check "pool -j 3: the document's threads_peak is 4 (was $peak)" \
			test "$peak" -ge 4 -a "$peak" -le $((4 + extra))
		check "pool -j 3: stacks reserved for 3 threads only" test \
			"$(json_get "$doc" summary.stack_reserved_bytes)" -eq $((3 * $(ulimit -s) * 1024))
	else
		check "prefork -j 3: the document counts 4 processes (parent and 3 workers)" \
			test "$(json_get "$doc" summary.processes)" -eq 4
		check "prefork -j 3: the workers' peak RSS is summed (above the parent's)" test \
			"$(rss_sum "$doc")" -gt "$(json_get "$doc" summary.rss_peak_parent_bytes)"
	fi
}
rounds pool
rounds prefork

cpus=$(getconf _NPROCESSORS_ONLN)
run default pool sleep -n $((2 * cpus + 1)) --delay 20ms -q
check "pool: --jobs defaults to the CPUs online ($cpus)" test "$(json_get "$test_tmp/default.json" params.jobs)" -eq "$cpus"
check "pool: by default, one worker thread per CPU ran the tasks" \
	test "$(json_get "$test_tmp/default.json" 'tasks.*.tid' | sort -u | wc -l)" -eq "$cpus"
run default-prefork prefork sleep -n 5 --delay 20ms -q
check "prefork: --jobs defaults to all tasks, like processes" test "$(json_get "$test_tmp/default-prefork.json" params.jobs)" -eq 5

# ---- Ctrl-C ------------------------------------------------------------------------------
for strategy in pool prefork; do
	doc=$test_tmp/int-$strategy.json
	"$IOSTRAT" "$strategy" sleep -n 12 -j 4 --delay 10 -q --json "$doc" >/dev/null 2>&1 &
	pid=$!
	sleep 0.4
	workers=$(cat "/proc/$pid/task/$pid/children")
	kill -INT "$pid"
	wait "$pid"
	check "$strategy, Ctrl-C with 4 workers sleeping: exit 130" test $? -eq 130
	check "$strategy, Ctrl-C: 12 tasks cancelled" test "$(count_of "$doc" status cancelled)" -eq 12
	check "$strategy, Ctrl-C: only the 4 in flight had started" \
		test "$(json_get "$doc" 'tasks.*.start_s' | grep -cvx null)" -eq 4
	if [ "$strategy" = prefork ]; then
		left=$(for w in $workers; do [ -e "/proc/$w" ] && echo "$w"; done)
		check "prefork, Ctrl-C: its 4 workers ($(wc -w <<<"$workers")) reaped, none left" \
			test "$(wc -w <<<"$workers")" -eq 4 -a -z "$left"
	fi
done
check "pool, Ctrl-C: every worker joined" test "$(json_get "$test_tmp/int-pool.json" summary.threads_end)" -le $((1 + extra))

# ---- a killed worker ---------------------------------------------------------------------
doc=$test_tmp/killed.json
"$IOSTRAT" prefork sleep -n 6 -j 2 --delay 300ms --json "$doc" >"$test_tmp/killed.out" 2>&1 &
pid=$!
sleep 0.15
victim=$(ps -o pid= --ppid "$pid" | head -n 1 | tr -d ' ')
kill -KILL "$victim"
wait "$pid"
check "prefork, a worker killed: exit 1" test $? -eq 1
check "prefork, a worker killed: its task failed, naming the worker and the signal" \
	test "$(count_of "$doc" error "worker process $victim killed by signal 9 (Killed) during the task")" -eq 1
check "prefork, a worker killed: the other worker ran the other 5" test "$(count_of "$doc" status ok)" -eq 5

# ---- the workers die with the parent -------------------------------------------------------
# A subreaper adopts the orphans, so that it can see how they ended.
orphans=$(/usr/bin/python3 - "$IOSTRAT" <<'EOF'
import ctypes, os, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
parent = subprocess.Popen([sys.argv[1], "prefork", "sleep", "-n", "3", "--delay", "20", "-q"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.3)
parent.kill()
parent.wait()
ends, deadline = [], time.time() + 5
while len(ends) < 3 and time.time() < deadline:
    try:
        pid, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        time.sleep(0.01)
    else:
        ends.append(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1)
print(" ".join(str(e) for e in sorted(ends)))
EOF
)
check "prefork: the 3 workers are killed (SIGKILL) when the parent dies (saw: $orphans)" \
	test "$orphans" = "9 9 9"

# ---- a thread or process limit reached part-way (as an ordinary user, ulimit -u) ----------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 777 "$test_tmp"
	for strategy in pool prefork; do
		doc=$test_tmp/limit-$strategy.json
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all bash -c \
			"ulimit -u 12 && exec '$IOSTRAT' $strategy sleep -n 40 -j 40 --delay 200ms -q --json '$doc'" \
			>"$test_tmp/limit-$strategy.out" 2>"$test_tmp/limit-$strategy.err"
		check "$strategy at the process limit: exit 1" test $? -eq 1
		ok=$(count_of "$doc" status ok)
		call=pthread_create
		[ "$strategy" = prefork ] && call=fork
		check "$strategy at the process limit: the tasks taken finished ok ($ok)" test "$ok" -gt 0
		check "$strategy at the process limit: the rest failed, naming $call and EAGAIN" \
			test "$(count_of "$doc" error "$call: Resource temporarily unavailable")" -eq $((40 - ok))
		check "$strategy at the process limit: stderr says what failed" \
			grep -qE "$strategy: $call failed after [0-9]+ workers" "$test_tmp/limit-$strategy.err"
	done
	for strategy in python-pool python-prefork; do
		doc=$test_tmp/limit-$strategy.json
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all bash -c \
			"ulimit -u 12 && exec '$PY' $strategy sleep -n 40 -j 40 --delay 200ms -q --json '$doc'" \
			>"$test_tmp/limit-$strategy.out" 2>"$test_tmp/limit-$strategy.err"
		check "$strategy at the process limit: exit 1" test $? -eq 1
		ok=$(count_of "$doc" status ok)
		if [ "$strategy" = python-pool ]; then
			check "python-pool at the process limit: the tasks taken finished ok ($ok), the rest never ran" \
				test "$ok" -gt 0 -a "$(count_of "$doc" error "never run: a worker thread could not be started")" -eq $((40 - ok))
			check "python-pool at the process limit: stderr says what failed" \
				grep -qE "ThreadPoolExecutor: a thread could not be started after [0-9]+ workers" "$test_tmp/limit-$strategy.err"
		else
			check "python-prefork at the process limit: every task failed, naming fork and EAGAIN" \
				test "$(count_of "$doc" error "fork: Resource temporarily unavailable")" -eq 40
			check "python-prefork at the process limit: stderr says what failed, and nothing else" \
				test "$(cat "$test_tmp/limit-$strategy.err")" = "iostrat.py: multiprocessing.Pool: fork failed while starting 40 workers: Resource temporarily unavailable"
		fi
	done
else
	echo "skip - the process-limit checks need root (to run as nobody with ulimit -u)"
fi

# ---- the tutorial's Python: python-pool (ThreadPoolExecutor), python-prefork (Pool) -------
for strategy in python-pool python-prefork; do
	for workload in sleep file http; do
		case $workload in
		sleep) args=(-n 6 -j 3 --delay 300ms) ;;
		file) args=(-n 6 -j 3 --size 64K --dir "$test_tmp/files") ;;
		http)
			[ -n "$http_base" ] || continue
			args=(-n 6 -j 3 --delay 100ms)
			;;
		esac
		name=$strategy-$workload
		run_program "$PY" "$name" "$strategy" "$workload" "${args[@]}"
		doc=$test_tmp/$name.json
		check "$strategy $workload: exit 0, 6 tasks ok, the document names the strategy" \
			test "$status" -eq 0 -a "$(count_of "$doc" status ok)" -eq 6 -a "$(json_get "$doc" strategy)" = "$strategy"
		check "$strategy $workload: the tutorial's start and done lines (12)" \
			test "$(grep -cE $'^Time: .*\t Malloc, Peak: \\([0-9]+, [0-9]+\\)\t\tTask [0-9]+(, PID: [0-9]+, TID: [0-9]+, .*\\.\\.\\.|: Done\\.)$' "$test_tmp/$name.out")" -eq 12
		expect=-eq
		[ "$workload" = file ] && expect=-le
		if [ "$strategy" = python-pool ]; then
			check "$strategy $workload: 3 worker threads of one process ran the tasks ($expect 3)" \
				test "$(json_get "$doc" 'tasks.*.tid' | sort -u | wc -l)" $expect 3 -a "$(json_get "$doc" 'tasks.*.pid' | sort -u | wc -l)" -eq 1
		else
			check "$strategy $workload: 3 worker processes ran the tasks ($expect 3)" \
				test "$(json_get "$doc" 'tasks.*.pid' | sort -u | wc -l)" $expect 3
		fi
	done
done
doc=$test_tmp/python-pool-sleep.json
check "python-pool -j 3: the kernel saw the 3 workers and the main thread" \
	test "$(json_get "$doc" summary.threads_peak)" -eq 4
wall=$(json_get "$doc" summary.wall_s)
check "python-pool -j 3: 6 tasks of 0.3 s in 2 rounds (wall $wall s, 0.6 to 0.95)" \
	awk -v w="$wall" 'BEGIN { exit !(w >= 0.6 && w < 0.95) }'
doc=$test_tmp/python-prefork-sleep.json
check "python-prefork -j 3: 4 processes (the parent and its 3 workers)" \
	test "$(json_get "$doc" summary.processes)" -eq 4
wall=$(json_get "$doc" summary.wall_s)
check "python-prefork -j 3: 6 tasks of 0.3 s in 2 rounds (wall $wall s, 0.6 to 0.95)" \
	awk -v w="$wall" 'BEGIN { exit !(w >= 0.6 && w < 0.95) }'
rss_one=$(json_get "$doc" summary.rss_peak_parent_bytes)
check "python-prefork: each worker's peak RSS counted once, not once per task" \
	test "$(rss_sum "$doc")" -lt $((rss_one * 5))
run_program "$PY" python-pool-default python-pool sleep -n $((2 * cpus + 1)) --delay 20ms -q
check "python-pool: --jobs defaults to the CPUs online ($cpus)" \
	test "$(json_get "$test_tmp/python-pool-default.json" params.jobs)" -eq "$cpus"

for strategy in python-pool python-prefork; do
	doc=$test_tmp/int-$strategy.json
	"$PY" "$strategy" sleep -n 6 -j 2 --delay 10 -q --json "$doc" >/dev/null 2>&1 &
	pid=$!
	# once its 2 workers exist (threads or children), the run has begun
	for _ in $(seq 50); do
		if [ "$strategy" = python-pool ]; then
			[ "$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l)" -ge 3 ] && break
		else
			[ "$(wc -w <"/proc/$pid/task/$pid/children")" -ge 2 ] && break
		fi
		sleep 0.1
	done
	sleep 0.2
	workers=$(cat "/proc/$pid/task/$pid/children")
	kill -INT "$pid"
	wait "$pid"
	check "$strategy after SIGINT: exit 130, 6 tasks cancelled, the 2 started with their end time" \
		test $? -eq 130 -a "$(count_of "$doc" status cancelled)" -eq 6 -a \
		"$(json_get "$doc" 'tasks.*.end_s' | grep -cvx null)" -eq 2
	left=$(for w in $workers; do [ -e "/proc/$w" ] && echo "$w"; done)
	check "$strategy after SIGINT: no worker left behind" test -z "$left"
done

doc=$test_tmp/python-killed.json
"$PY" python-prefork sleep -n 6 -j 2 --delay 400ms --json "$doc" >"$test_tmp/python-killed.out" 2>&1 &
pid=$!
victim=
for _ in $(seq 50); do # the worker that runs task 2, once it has started it
	victim=$(sed -nE 's/.*Task 2, PID: ([0-9]+),.*/\1/p' "$test_tmp/python-killed.out")
	[ -n "$victim" ] && break
	sleep 0.1
done
[ -n "$victim" ] && kill -KILL "$victim"
wait "$pid"
check "python-prefork, a worker killed: exit 1, not a hang" test $? -eq 1
check "python-prefork, a worker killed: its task failed, naming the worker and SIGKILL" \
	test "$(count_of "$doc" error "worker process $victim killed by signal 9 (SIGKILL) during the task")" -eq 1
check "python-prefork, a worker killed: the other 5 ok" test "$(count_of "$doc" status ok)" -eq 5

test_summary
