#!/usr/bin/env bash
# test_core.sh - end-to-end tests of the core: the sleep workload under blocking, processes,
# threads and epoll; the tutorial's lines; the result document; bad arguments and the option
# table (--list --format tsv); closed or full standard output, --json on a device, a FIFO, a
# folder, a long name, a folder renamed mid-run; a fork or thread limit reached part-way and the
# thread peak against /proc; Ctrl-C, SIGTERM and SIGHUP in the middle of a run; a parent killed.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

run_ok() { # run_ok NAME ARGS...: runs iostrat, keeps stdout/stderr/status in $test_tmp/NAME.*
	local name=$1
	shift
	"$IOSTRAT" "$@" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err"
	echo $? >"$test_tmp/$name.status"
}
status_of() { cat "$test_tmp/$1.status"; }
between() { # between VALUE LOW HIGH (floats)
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}
distinct() { sort | uniq | wc -l; }
extra=0 # a sanitizer's runtime may keep a thread of its own
if [ -n "${IOSTRAT_SANITIZED:-}" ]; then extra=1; fi

# --- timing shape: what the lecture's first chart shows ------------------------------------
for strategy in blocking processes threads epoll; do
	run_ok "$strategy" "$strategy" sleep -n 4 --delay 300ms --json "$test_tmp/$strategy.json"
	check "$strategy: exits 0 when every task is ok" test "$(status_of "$strategy")" -eq 0
	check "$strategy: the result document has all 4 tasks" \
		test "$(json_get "$test_tmp/$strategy.json" tasks.#)" -eq 4
	check "$strategy: every task ok in the result" \
		test "$(json_get "$test_tmp/$strategy.json" 'tasks.*.status' | grep -c '^ok$')" -eq 4
	check "$strategy: 4 start lines and 4 done lines in the tutorial's shape" test \
		"$(grep -cE $'^Time: [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}\t Malloc, Peak: \\([0-9]+, [0-9]+\\)\t\tTask [0-3], PID: [0-9]+, TID: [0-9]+, Delay: 0\\.3 seconds\\.\\.\\.$' \
			"$test_tmp/$strategy.out")-$(grep -cE $'\t\tTask [0-3]: Done\\.$' "$test_tmp/$strategy.out")" = 4-4
	check "$strategy: the first line is the parent's PID" grep -qE '^Parent PID: [0-9]+$' \
		<(head -n 1 "$test_tmp/$strategy.out")
	check "$strategy: no threads left when the strategy returned" \
		test "$(json_get "$test_tmp/$strategy.json" summary.threads_end)" -le $((1 + extra))
done
wall() { json_get "$test_tmp/$1.json" summary.wall_s; }
check "blocking takes the sum of the delays (1.2 s)" between "$(wall blocking)" 1.2 1.6
for strategy in processes threads epoll; do
	check "$strategy takes the longest delay (0.3 s), not the sum" between "$(wall "$strategy")" 0.3 0.6
	check "$strategy: the ideal is the longest delay" \
		between "$(json_get "$test_tmp/$strategy.json" summary.ideal_s)" 0.3 0.3
done
check "blocking: the ideal is the sum" between "$(json_get "$test_tmp/blocking.json" summary.ideal_s)" 1.2 1.2
for strategy in processes threads epoll; do
	run_ok "$strategy-j2" "$strategy" sleep -n 4 -j 2 --delay 300ms -q --json "$test_tmp/$strategy-j2.json"
	check "$strategy --jobs 2: two rounds (0.6 s)" between "$(wall "$strategy-j2")" 0.6 0.9
	check "$strategy --jobs 2: never more than 2 in flight" \
		test "$(json_get "$test_tmp/$strategy-j2.json" summary.inflight_peak)" -eq 2
	check "$strategy -q: no per-task lines" test "$(grep -c '^Time:' "$test_tmp/$strategy-j2.out")" -eq 0
done

# --- who ran each task: what the kernel saw ----------------------------------------------
parent=$(sed -n 's/^Parent PID: //p' "$test_tmp/processes.out")
pids() { json_get "$test_tmp/$1.json" 'tasks.*.pid'; }
tids() { json_get "$test_tmp/$1.json" 'tasks.*.tid'; }
check "processes: every task in its own process" test "$(pids processes | distinct)" -eq 4
check "processes: no task in the parent" bash -c "! grep -qx '$parent' <<<'$(pids processes)'"
check "processes: 5 processes counted (4 reaped children and the parent)" \
	test "$(json_get "$test_tmp/processes.json" summary.processes)" -eq 5
check "processes: the summed RSS adds every child's (shared pages once per process)" test \
	"$(json_get "$test_tmp/processes.json" summary.rss_sum_peak_bytes)" -gt \
	"$(($(json_get "$test_tmp/processes.json" summary.rss_peak_parent_bytes) * 2))"
check "threads: one pid" test "$(pids threads | distinct)" -eq 1
check "threads: one tid per task" test "$(tids threads | distinct)" -eq 4
peak=$(json_get "$test_tmp/threads.json" summary.threads_peak)
check "threads: the kernel saw 5 threads (4 and main; was $peak)" test "$peak" -ge 5 -a "$peak" -le $((5 + extra))
check "threads: stacks reserved are reported" \
	test "$(json_get "$test_tmp/threads.json" summary.stack_reserved_bytes)" -gt 0
check "epoll: one pid" test "$(pids epoll | distinct)" -eq 1
check "epoll: one tid for everything, the parent's" test "$(tids epoll | sort -u)" = "$(pids epoll | sort -u)"
check "epoll: one thread seen by the kernel" test "$(json_get "$test_tmp/epoll.json" summary.threads_peak)" -le $((1 + extra))

# --- heap figures in the lines ------------------------------------------------------------
if [ -z "${IOSTRAT_SANITIZED:-}" ]; then
	# shellcheck disable=SC2016 # an awk program, not a shell expansion
	check "the logged heap pair is (current, peak) with peak >= current > 0" awk -F'[(,)]' \
		'/Malloc, Peak/ { if ($3 + 0 <= 0 || $4 + 0 < $3 + 0) bad = 1; n++ } END { exit bad || n != 8 }' \
		"$test_tmp/threads.out"
	check "the result's heap peak is a real figure" \
		test "$(json_get "$test_tmp/threads.json" summary.heap_peak_bytes)" -gt 0
fi

# --- the tutorial's demo: random whole seconds, reproducible from the seed ----------------
run_ok seed1 epoll sleep -n 8 --max-delay 2 --seed 42 -q --json "$test_tmp/seed1.json"
run_ok seed2 threads sleep -n 8 --max-delay 2 --seed 42 -q --json "$test_tmp/seed2.json"
check "a seed gives the same delays under every strategy" \
	test "$(json_get "$test_tmp/seed1.json" 'tasks.*.delay_s')" = "$(json_get "$test_tmp/seed2.json" 'tasks.*.delay_s')"
check "the seed is recorded" test "$(json_get "$test_tmp/seed1.json" params.seed)" -eq 42
check "delays with --max-delay 2 are 0 or 1" \
	bash -c "! '${JSON_GET:-build/tests/json-get}' '$test_tmp/seed1.json' 'tasks.*.delay_s' | grep -vxE '0(\\.0)?|1(\\.0)?'"

# --- bad arguments: exit 2, naming what is wrong ------------------------------------------
bad() { # bad "what" PATTERN ARGS...
	local what=$1 pattern=$2
	shift 2
	"$IOSTRAT" "$@" >"$test_tmp/bad.out" 2>"$test_tmp/bad.err"
	local status=$?
	if [ "$status" -eq 2 ] && grep -q -- "$pattern" "$test_tmp/bad.err" && ! grep -q '^Time:' "$test_tmp/bad.out"; then
		pass "$what"
	else
		fail "$what" "status $status" "$(cat "$test_tmp/bad.err")"
	fi
}
bad "unknown strategy: exit 2 and the valid names" "strategies: blocking processes threads pool prefork epoll" nonesuch sleep
bad "unknown workload: exit 2 and the valid names" "workloads: sleep" threads nonesuch
bad "-n abc names --tasks" "--tasks: 'abc'" threads sleep -n abc
bad "-n 0 names --tasks" "--tasks: '0'" threads sleep -n 0
bad "-n -5 names --tasks" "--tasks: '-5'" threads sleep -n -5
bad "an absurd -n names --tasks" "--tasks: '99999999999'" threads sleep -n 99999999999
bad "--delay xyz names --delay" "--delay: 'xyz'" threads sleep --delay xyz
bad "--delay -1 names --delay" "--delay: '-1'" threads sleep --delay -1
bad "--jobs 0 names --jobs" "--jobs: '0'" threads sleep --jobs 0
bad "a missing strategy and workload" "a strategy and a workload are needed" threads
bad "an option of another workload" "--size does not apply to the sleep workload" threads sleep --size 4K
bad "an unknown option" "unknown option" threads sleep --frobnicate
bad "--json naming a folder: exit 2 before any task" "a folder, not a file" \
	threads sleep --delay 10ms --json "$test_tmp"
bad "--delay in hex is refused (decimal only)" "--delay: '0x10'" threads sleep --delay 0x10
bad "--delay as a hex float is refused" "--delay: '0x1p3'" threads sleep --delay 0x1p3
bad "--size in hex is refused" "--size: '0x10'" threads file --size 0x10
bad "--seed in hex is refused" "--seed: '0x10'" threads sleep --seed 0x10
bad "--json into a folder that does not exist: exit 2 before any task" "cannot write there" \
	threads sleep --delay 10ms --json "$test_tmp/no/such/dir/r.json"
bad "--pool under a strategy with no file pool" "--pool does not apply to the threads strategy" \
	threads file --pool 2
bad "--inline under a strategy with no file pool" "--inline does not apply to the uring strategy" \
	uring file --inline
bad "--inline and --pool together" "--pool and --inline cannot be used together" epoll file --pool 2 --inline
bad "--format without --list" "--format applies to --list only" --format tsv
bad "--list --format of an unknown kind" "--format: 'xml'" --list --format xml
# --list --format tsv: the header, then one line of six fields per strategy and workload,
# the same names as the human listing.
tsv=$("$IOSTRAT" --list --format tsv)
check "--list --format tsv: the header line" test "$(head -n 1 <<<"$tsv")" = \
	"$(printf 'kind\tname\tworkloads\tavailable\treason\tsummary')"
check "--list --format tsv: six fields on every line" \
	test "$(awk -F'\t' 'NF != 6' <<<"$tsv" | wc -l)" -eq 0
check "--list --format tsv: every strategy and workload of the listing" test \
	"$(awk -F'\t' 'NR > 1 { print $2 }' <<<"$tsv" | sort | tr '\n' ' ')" = \
	"$("$IOSTRAT" --list | awk '/^  [a-z]/ { print $1 }' | sort | tr '\n' ' ')"
check "--list --format tsv: epoll runs sleep,file,http and is available" \
	grep -qxP 'strategy\tepoll\tsleep,file,http\tyes\t\tone thread.*' <<<"$tsv"
check "--list --format tsv: workloads have '-' for workloads" \
	grep -qxP 'workload\tfile\t-\t(yes\t|no\t.+)\t.+' <<<"$tsv"
check "--list --format tsv: available is yes or no, a reason exactly when no" \
	test "$(awk -F'\t' 'NR > 1 && !(($4 == "yes" && $5 == "") || ($4 == "no" && $5 != ""))' <<<"$tsv" | wc -l)" -eq 0
# Every option --help lists is one the parser knows (an unknown one would say so), and there
# are as many as the workloads need.
help_options=$("$IOSTRAT" --help | grep -oE '^ +(-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u)
unknown=$(for opt in $help_options; do
	"$IOSTRAT" "$opt" 2>&1 | grep -q 'unknown option' && echo "$opt"
done)
help_count=$(wc -w <<<"$help_options")
check "help tells the truth: the parser knows every option it lists ($help_count options)" \
	test -z "$unknown" -a "$help_count" -ge 15
check "an option --help does not list is refused as unknown" \
	bash -c "'$IOSTRAT' --no-such-option 2>&1 | grep -q 'unknown option'"
check "--list names every strategy and workload" bash -c "
	out=\$('$IOSTRAT' --list); for n in blocking processes threads epoll sleep; do grep -q \"  \$n \" <<<\"\$out\" || exit 1; done"
check "--version prints the version" grep -qE '^iostrat [0-9]+\.[0-9]+\.[0-9]+' <("$IOSTRAT" --version)

# --- hostile surroundings: closed descriptors, a full stdout, odd --json targets ----------
"$IOSTRAT" threads sleep -n 2 --delay 10ms --json "$test_tmp/closed.json" >&- 2>/dev/null
status=$?
check "stdout closed: exit 0 (was $status)" test "$status" -eq 0
check "stdout closed: the result is JSON with both tasks, no task line in it" \
	test "$(json_get "$test_tmp/closed.json" tasks.#)" -eq 2 -a "$(grep -c '^Time:' "$test_tmp/closed.json")" -eq 0
"$IOSTRAT" threads sleep -n 2 --delay 10ms --json "$test_tmp/closed0.json" <&- 2>&- >/dev/null
check "stdin and stderr closed: the result is written" test "$(json_get "$test_tmp/closed0.json" tasks.#)" -eq 2
"$IOSTRAT" threads sleep -n 2 --delay 10ms --json "$test_tmp/full.json" >/dev/full 2>"$test_tmp/full.err"
status=$?
check "stdout on a full device: exit 1 (was $status), and stderr says so" \
	test "$status" -eq 1 -a "$(grep -c 'writing standard output: No space left' "$test_tmp/full.err")" -eq 1
check "stdout on a full device: the result is still written" test "$(json_get "$test_tmp/full.json" tasks.#)" -eq 2
if [ "$(id -u)" -eq 0 ]; then
	mknod "$test_tmp/fulldev" c 1 7
	"$IOSTRAT" threads sleep -n 1 --delay 1ms -q --json "$test_tmp/fulldev" >/dev/null 2>"$test_tmp/fulldev.err"
	status=$?
	check "--json on a device: written in place, exit 1 with the device's error (was $status)" \
		test "$status" -eq 1 -a "$(grep -c 'No space left' "$test_tmp/fulldev.err")" -eq 1
	check "--json on a device: the device is still a device" test -c "$test_tmp/fulldev"
else
	echo "skip - --json on a device node: mknod needs root"
fi
mkfifo "$test_tmp/result.fifo"
timeout 10 cat "$test_tmp/result.fifo" >"$test_tmp/fifo-read.json" &
reader=$!
# iostrat refuses a FIFO nobody reads: wait until the reader has it open
for _ in $(seq 200); do
	find /proc/[0-9]*/fd -lname "$test_tmp/result.fifo" 2>/dev/null | grep -q . && break
	sleep 0.01
done
"$IOSTRAT" threads sleep -n 2 --delay 1ms -q --json "$test_tmp/result.fifo" >/dev/null 2>&1
status=$?
[ "$status" -eq 0 ] || kill "$reader" 2>/dev/null
wait "$reader"
check "--json on a FIFO: exit 0, the FIFO stays a FIFO" test "$status" -eq 0 -a -p "$test_tmp/result.fifo"
check "--json on a FIFO: the reader got the document" test "$(json_get "$test_tmp/fifo-read.json" tasks.#)" -eq 2
long=$(printf 'r%.0s' $(seq 250)).json
run_ok longname threads sleep -n 1 --delay 1ms -q --json "$test_tmp/$long"
check "--json with a 255-byte name: exit 0 and written (the temporary name fits NAME_MAX)" \
	test "$(status_of longname)" -eq 0 -a "$(json_get "$test_tmp/$long" tasks.#)" -eq 1
check "--json with a 255-byte name: no temporary file left" \
	test "$(find "$test_tmp" -name '*.tmp.*' | wc -l)" -eq 0
# The folder of --json renamed while the run goes on: the result follows it, the message says
# so, no temporary file is left.
mkdir "$test_tmp/before"
"$IOSTRAT" threads sleep -n 2 --delay 600ms -q --json "$test_tmp/before/r.json" >/dev/null 2>"$test_tmp/moved.err" &
pid=$!
for _ in $(seq 50); do # until the run has its temporary file in the folder
	[ -n "$(find "$test_tmp/before" -name 'r.json.tmp.*')" ] && break
	sleep 0.1
done
mv "$test_tmp/before" "$test_tmp/after"
wait "$pid"
status=$?
check "--json's folder renamed mid-run: exit 1 and the message says it was renamed (was $status)" \
	test "$status" -eq 1 -a "$(grep -c 'was renamed during the run: the result is in' "$test_tmp/moved.err")" -eq 1
check "--json's folder renamed mid-run: the result is in the renamed folder, and nothing else" \
	test "$(ls "$test_tmp/after")" = r.json -a "$(json_get "$test_tmp/after/r.json" tasks.#)" -eq 2
# Sleeping tasks hold no descriptor each: more of them than ulimit -n allows all sleep.
(
	ulimit -n 1024
	"$IOSTRAT" threads sleep -n 1100 --delay 300ms -q --json "$test_tmp/nofile.json" >/dev/null 2>&1
)
check "threads sleep -n 1100 under ulimit -n 1024: every task ok (no descriptor per sleep)" \
	test "$(json_get "$test_tmp/nofile.json" summary.tasks_ok)" -eq 1100
run_ok seedmax epoll sleep -n 1 --delay 1ms --seed 18446744073709551615 --json "$test_tmp/seedmax.json"
check "--seed 2^64-1: printed as given" grep -qx 'Seed: 18446744073709551615' "$test_tmp/seedmax.out"
check "--seed 2^64-1: in the result as a string of its digits, not a negative number" \
	test "$(json_get "$test_tmp/seedmax.json" params.seed)" = '"18446744073709551615"' -o \
	"$(json_get "$test_tmp/seedmax.json" params.seed)" = 18446744073709551615
run_ok seedtop epoll sleep -n 1 --delay 1ms --seed 9223372036854775807 --json "$test_tmp/seedtop.json"
check "--seed 2^63-1: in the result as an integer" \
	test "$(json_get "$test_tmp/seedtop.json" params.seed)" = 9223372036854775807

# --- a process or thread limit reached part-way (as an ordinary user, ulimit -u) ----------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 777 "$test_tmp"
	limited() { # limited STRATEGY: 40 tasks with room for about 10 processes or threads
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all bash -c \
			"ulimit -u 12 && exec '$IOSTRAT' $1 sleep -n 40 --delay 200ms -q --json '$test_tmp/limit-$1.json'" \
			>"$test_tmp/limit-$1.out" 2>"$test_tmp/limit-$1.err"
		echo $?
	}
	for strategy in processes threads; do
		status=$(limited "$strategy")
		doc="$test_tmp/limit-$strategy.json"
		check "$strategy at the process limit: exit 1" test "$status" -eq 1
		check "$strategy at the process limit: every task is in the result" test "$(json_get "$doc" tasks.#)" -eq 40
		ok=$(json_get "$doc" 'tasks.*.status' | grep -c '^ok$')
		check "$strategy at the process limit: the tasks that started finished ok" test "$ok" -gt 0
		check "$strategy at the process limit: the rest failed, naming the call and EAGAIN" \
			test "$(json_get "$doc" 'tasks.*.error' | grep -cE '(fork|pthread_create): Resource temporarily unavailable')" -eq $((40 - ok))
		check "$strategy at the process limit: stderr says what failed" grep -qE 'failed after [0-9]+' "$test_tmp/limit-$strategy.err"
	done
	# threads_peak against the kernel's count seen from outside (/proc/PID/status), while
	# thread creation fails part-way: the peak is counted after each start, so it cannot be
	# missed (a rate-limited sample saw 2 of the threads alive).
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all bash -c \
		"ulimit -u 12 && exec '$IOSTRAT' threads sleep -n 40 --delay 1 -q --json '$test_tmp/peak.json'" \
		>/dev/null 2>&1 &
	pid=$!
	outside=0
	for _ in $(seq 16); do
		seen=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ "${seen:-0}" -gt "$outside" ] && outside=$seen
		sleep 0.05
	done
	wait "$pid"
	peak=$(json_get "$test_tmp/peak.json" summary.threads_peak)
	check "threads at the process limit: threads_peak $peak is what /proc showed from outside ($outside)" \
		test "$outside" -gt 2 -a "$peak" -ge "$outside" -a "$peak" -le $((outside + extra))
else
	echo "skip - the process-limit checks need root (to run as nobody with ulimit -u)"
fi

# --- Ctrl-C and SIGTERM part-way -----------------------------------------------------------
interrupt() { # interrupt STRATEGY SIGNAL: a 5-s run stopped after 0.5 s
	local strategy=$1 signal=$2 doc="$test_tmp/int-$1-$2.json"
	"$IOSTRAT" "$strategy" sleep -n 6 -j 3 --delay 5 --json "$doc" >"$test_tmp/int.out" 2>"$test_tmp/int.err" &
	local pid=$!
	sleep 0.5
	local sent
	sent=$(date +%s%N)
	kill "-$signal" "$pid"
	wait "$pid"
	local status=$? took_ms=$((($(date +%s%N) - sent) / 1000000))
	local expect=130
	[ "$signal" = TERM ] && expect=143
	[ "$signal" = HUP ] && expect=129
	check "$strategy, SIG$signal: exit $expect" test "$status" -eq "$expect"
	check "$strategy, SIG$signal: stopped within a second (took $took_ms ms)" test "$took_ms" -lt 1000
	check "$strategy, SIG$signal: every task in the result, cancelled" \
		test "$(json_get "$doc" 'tasks.*.status' | grep -c '^cancelled$')" -eq 6
	check "$strategy, SIG$signal: the result says it was interrupted" test "$(json_get "$doc" interrupted)" = "SIG$signal"
	check "$strategy, SIG$signal: no process of the run is left" bash -c "! pgrep -f -- '[-]-json $doc' >/dev/null"
	check "$strategy, SIG$signal: no temporary file is left" test "$(find "$test_tmp" -name '*.tmp.*' | wc -l)" -eq 0
}
for strategy in blocking processes threads epoll; do
	interrupt "$strategy" INT
done
interrupt processes TERM
interrupt epoll TERM
interrupt processes HUP
interrupt threads HUP

# The parent killed outright: its children die with it (PR_SET_PDEATHSIG), none is orphaned.
"$IOSTRAT" processes sleep -n 3 --delay 30 -q >/dev/null 2>&1 &
pid=$!
sleep 0.5
children=$(pgrep -P "$pid" | tr '\n' ' ')
kill -KILL "$pid"
wait "$pid" 2>/dev/null
sleep 0.3
# alive: there and not a zombie (an init that does not reap keeps zombies)
left=$(for child in $children; do
	grep -qv '^[0-9]* (.*) Z ' "/proc/$child/stat" 2>/dev/null && echo "$child"
done)
check "parent killed with SIGKILL: its 3 children die with it (${children:-none seen})" \
	test "$(wc -w <<<"$children")" -eq 3 -a -z "$left"

test_summary
