#!/usr/bin/env bash
# test_file.sh - the file workload end to end: every strategy reads a small set warm and cold
# and checks it; the set is made once and reused; epoll's pool and inline modes; bad options;
# damaged files (deleted, truncated, altered, swapped); a full disk while the set is made; the
# descriptor limit; a set larger than the free space; Ctrl-C while the set is made and while the
# pool reads.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=tests/lib.sh
source tests/lib.sh

set_dir=$test_tmp/set
n=6
size=64K
size_bytes=65536
common=(-n "$n" --size "$size" --block 4K --dir "$set_dir")

# run NAME iostrat-args...: runs iostrat, keeping stdout, stderr, the exit status and a result
run() {
	local name=$1
	shift
	"$IOSTRAT" "$@" --json "$test_tmp/$name.json" >"$test_tmp/$name.out" 2>"$test_tmp/$name.err"
	echo $? >"$test_tmp/$name.status"
}
status_of() { cat "$test_tmp/$1.status"; }
get() { json_get "$test_tmp/$1.json" "$2"; }

# --- the set is made on first use, then reused ---
run make blocking file "${common[@]}" --cache warm
check "the first run makes the set and says so on stderr" grep -q "making the file set: $n files" "$test_tmp/make.err"
check "a complete set has its manifest, written last" grep -qx "count $n" "$set_dir/MANIFEST"
check "the first run reads every file it made" [ "$(status_of make)" = 0 ]
run reuse blocking file "${common[@]}" --cache warm
check "a second run reuses the set without making it again" \
	bash -c "! grep -q 'making' '$test_tmp/reuse.err' && [ \"\$(cat '$test_tmp/reuse.status')\" = 0 ]"
check "the result says no file was made the second time" [ "$(get reuse summary.files_created)" = 0 ]
run more blocking file -n 8 --size "$size" --dir "$set_dir" -q
check "asking for more files adds only the missing ones" grep -q "making the file set: 2 files" "$test_tmp/more.err"
run resize blocking file -n 3 --size 32K --dir "$set_dir" -q
check "another --size in the same folder makes the set again, and it reads back right" \
	bash -c "grep -q 'making the file set: 3 files of 32K' '$test_tmp/resize.err' && [ \"\$(cat '$test_tmp/resize.status')\" = 0 ]"
run back blocking file "${common[@]}" -q
check "going back to the first size makes it again (the manifest decides, not the names)" \
	[ "$(status_of back)" = 0 ]

# --- every strategy, warm and cold: all read, all checked, what was cached is reported ---
for strategy in blocking processes threads epoll; do
	for cache in warm cold; do
		name=$strategy-$cache
		run "$name" "$strategy" file "${common[@]}" --cache "$cache"
		check "$strategy --cache $cache: every task reads and checks its whole file" \
			[ "$(status_of "$name")" = 0 -a "$(get "$name" summary.tasks_ok)" = "$n" -a \
			"$(get "$name" summary.bytes_total)" = $((n * size_bytes)) ]
		check "$strategy --cache $cache: each task records the bytes it read" \
			[ "$(get "$name" 'tasks.*.bytes' | sort -u)" = "$size_bytes" ]
		resident=$(get "$name" summary.resident_at_start)
		if [ "$cache" = warm ]; then
			check "$strategy --cache warm: the whole set is resident when timing begins" \
				awk -v r="$resident" 'BEGIN {exit !(r == 1)}'
		else
			# on a file system that cannot drop pages (tmpfs) the run must say it was not cold
			check "$strategy --cache cold: the set was evicted, or stderr says it was not" \
				bash -c "awk -v r='$resident' 'BEGIN {exit !(r < 0.05)}' || grep -q 'not a cold one' '$test_tmp/$name.err'"
		fi
		check "$strategy --cache $cache: the throughput is bytes over wall time" \
			awk -v b="$(get "$name" summary.bytes_total)" -v w="$(get "$name" summary.wall_s)" \
			-v t="$(get "$name" summary.throughput_bytes_per_s)" \
			'BEGIN {exit !(w > 0 && t > 0 && (t - b / w) ^ 2 < (0.01 * t) ^ 2)}'
	done
done
check "the start line names the file and its size" \
	grep -q "Task 2, PID: [0-9]*, TID: [0-9]*, File: $set_dir/f0000002, $size_bytes bytes..." "$test_tmp/threads-warm.out"
check "the done line gives the bytes read" grep -q "Task 2: Done. $size_bytes bytes read." "$test_tmp/threads-warm.out"
check "the printed summary gives the bytes, the throughput and the cache state" \
	grep -q "read 0.4 MiB ($n files of 64K, 4K per read()) at .* MiB/s; .*% of the set in the page cache at start (--cache cold)" "$test_tmp/blocking-cold.out"
check "the result document carries the file parameters" \
	[ "$(get threads-warm params.size_bytes)" = "$size_bytes" -a "$(get threads-warm params.block_bytes)" = 4096 -a \
	"$(get threads-warm params.cache)" = warm -a "$(get threads-warm params.dir)" = "$set_dir" ]
check "the result has no pool where the strategy reads files without one (params.pool null)" \
	[ "$(get threads-warm params.pool)" = null -a "$(get threads-warm params.inline)" = null ]
check "processes: each task ran in its own process" [ "$(get processes-cold 'tasks.*.pid' | sort -u | wc -l)" = "$n" ]

# --- epoll: regular files refuse epoll, so a pool of threads or the loop itself reads ---
run inline epoll file "${common[@]}" --inline
extra=0 # a sanitizer's runtime may add a thread of its own
[ -n "${IOSTRAT_SANITIZED:-}" ] && extra=1
check "epoll --inline: the mode is inline, one thread, every file read" \
	[ "$(get inline mode)" = inline -a "$(get inline summary.threads_peak)" -le $((1 + extra)) -a \
	"$(get inline summary.tasks_ok)" = "$n" ]
check "epoll --inline: the loop thread read every file" \
	[ "$(get inline 'tasks.*.tid' | sort -u)" = "$(get inline 'tasks.0.pid')" ]

run pool epoll file "${common[@]}" --pool 3
check "epoll shows that epoll_ctl refuses a regular file with EPERM" \
	grep -q "epoll_ctl(EPOLL_CTL_ADD, f0000000): Operation not permitted" "$test_tmp/pool.out"
threads=$(get pool summary.threads_peak)
check "epoll --pool 3: params.pool is 3 in the result" [ "$(get pool params.pool)" = 3 ]
check "epoll --pool 3: the mode is pool, and 3 worker threads are seen beside the loop" \
	[ "$(get pool mode)" = pool -a "$threads" -ge 4 -a "$threads" -le $((4 + extra)) -a "$(status_of pool)" = 0 ]
check "epoll pool: the files were read by worker threads, not by the loop" \
	[ "$(get pool 'tasks.*.tid' | grep -vc "^$(get pool 'tasks.0.pid')\$")" = "$n" ]
run pool-small epoll file "${common[@]}" --pool 8 -j 2
threads=$(get pool-small summary.threads_peak)
check "epoll: no more workers than tasks in flight" [ "$threads" -ge 3 -a "$threads" -le $((3 + extra)) ]

# --- bad options: exit 2, and the message names the option and the path ---
touch "$test_tmp/plain-file"
"$IOSTRAT" blocking file --dir "$test_tmp/plain-file" >/dev/null 2>"$test_tmp/bad.err"
check "--dir that is a file: exit 2, naming the option and the path" \
	[ $? = 2 -a "$(grep -c -- "--dir $test_tmp/plain-file: not a folder" "$test_tmp/bad.err")" = 1 ]
"$IOSTRAT" blocking file --dir "$test_tmp/plain-file/sub" >/dev/null 2>"$test_tmp/bad.err"
check "--dir that cannot be created: exit 2, naming the path and why" \
	[ $? = 2 -a "$(grep -c -- "--dir $test_tmp/plain-file/sub: cannot create it: Not a directory" "$test_tmp/bad.err")" = 1 ]
locked=$test_tmp/locked
mkdir "$locked"
if [ "$(id -u)" != 0 ]; then
	chmod 555 "$locked"
	lock_how="chmod 555"
elif chattr +i "$locked" 2>/dev/null; then
	test_cleanups+=("chattr -i '$locked'")
	lock_how="chattr +i"
else
	lock_how=
fi
if [ -n "$lock_how" ]; then
	"$IOSTRAT" blocking file -n 2 --size 4K --dir "$locked" >/dev/null 2>"$test_tmp/bad.err"
	check "--dir that is not writable ($lock_how): exit 2, naming the option and the path" \
		[ $? = 2 -a "$(grep -c -- "--dir $locked: not writable" "$test_tmp/bad.err")" = 1 ]
	check "a folder that is not writable is left as it was" [ -z "$(ls -A "$locked")" ]
else
	echo "skip - --dir not writable: neither chmod (as root) nor chattr +i can lock a folder here"
fi
for bad in "--size 0" "--size abc" "--block 0"; do
	# shellcheck disable=SC2086 # option and value on purpose
	"$IOSTRAT" blocking file $bad --dir "$test_tmp/never" >/dev/null 2>"$test_tmp/bad.err"
	check "$bad: exit 2 with a message naming the option" \
		[ $? = 2 -a "$(grep -c -- "${bad% *}" "$test_tmp/bad.err")" -ge 1 -a ! -e "$test_tmp/never" ]
done

# --- damaged files: that task fails with the file and the reason, the others finish, exit 1 ---
damaged_dir=$test_tmp/damaged
damage() { # what-it-protects strategy expected-error setup-commands...
	local what=$1 strategy=$2 expected=$3
	shift 3
	rm -rf "$damaged_dir"
	"$IOSTRAT" blocking file -q -n "$n" --size "$size" --dir "$damaged_dir" >/dev/null 2>&1
	(cd "$damaged_dir" && eval "$*")
	run damage "$strategy" file -q -n "$n" --size "$size" --block 4K --dir "$damaged_dir"
	if [ "$(status_of damage)" = 1 ] && [ "$(get damage summary.tasks_ok)" = $((n - 1)) ] &&
		[ "$(get damage tasks.3.status)" = error ] &&
		get damage tasks.3.error | grep -q -- "$expected"; then
		pass "$what"
	else
		fail "$what" "status $(status_of damage), ok $(get damage summary.tasks_ok)," \
			"error: $(get damage tasks.3.error)"
	fi
}
for strategy in blocking processes threads epoll; do
	damage "$strategy: a deleted file fails its task, naming it and why" "$strategy" \
		"f0000003: open: No such file or directory" rm f0000003
done
damage "a truncated file fails its task with the size found" threads \
	"f0000003: 1000 bytes, expected $size_bytes (truncated)" truncate -s 1000 f0000003
damage "a file altered in place fails at the offset altered" processes \
	"f0000003: wrong content at offset 8192 (altered)" \
	"printf 'XXXXXXXX' | dd of=f0000003 bs=1 seek=8192 conv=notrunc status=none"
damage "a single altered byte is found too" epoll \
	"f0000003: wrong content at offset 40000 (altered)" \
	"printf 'Z' | dd of=f0000003 bs=1 seek=40003 conv=notrunc status=none"
damage "a file swapped with another says whose content it holds" blocking \
	"f0000003: wrong content at offset 0 (it holds f0000000's)" \
	"cp f0000000 f0000003"
damage "a longer file fails its task" blocking "f0000003: longer than $size_bytes bytes" \
	"printf 'more' >>f0000003"
check "a damaged file is reported before timing too" grep -q "f0000003: .*its task will fail" "$test_tmp/damage.err"

# --- the disk fills up while the set is made: a clear error, nothing left half-made ---
full=$test_tmp/full
mkdir "$full"
# Room for the bytes (statvfs says so) but for 2 files only (nr_inodes): the disk fills while
# the set is made.
if mount -t tmpfs -o size=8M,nr_inodes=4 tmpfs "$full" 2>/dev/null; then
	test_cleanups+=("umount '$full'")
	"$IOSTRAT" blocking file -n 4 --size 1M --dir "$full/set" >/dev/null 2>"$test_tmp/full.err"
	check "a full disk while making the set: exit 2 and the reason" \
		[ $? = 2 -a "$(grep -c "No space left on device" "$test_tmp/full.err")" = 1 ]
	check "a full disk: the message says what was removed" grep -q "removed the [0-9]* files this run wrote" "$test_tmp/full.err"
	check "a full disk: no file and no manifest are left to be mistaken for a set" \
		[ -z "$(ls -A "$full/set")" ]
	umount "$full" && test_cleanups=("${test_cleanups[@]/"umount '$full'"/}")
else
	echo "skip - full disk: cannot mount a small tmpfs here (needs root)"
fi

# --- a set larger than the free space: refused before a byte is written (statvfs) ---
small=$test_tmp/small
mkdir "$small"
if mount -t tmpfs -o size=2M tmpfs "$small" 2>/dev/null; then
	test_cleanups+=("umount '$small'")
	"$IOSTRAT" blocking file -n 4 --size 1M --dir "$small/set" >/dev/null 2>"$test_tmp/small.err"
	check "a set larger than the free space: exit 2, naming the space needed and free" \
		[ $? = 2 -a "$(grep -c "the file system has .* GiB free" "$test_tmp/small.err")" = 1 ]
	check "a set larger than the free space: nothing written" [ -z "$(ls -A "$small/set")" ]
	umount "$small" && test_cleanups=("${test_cleanups[@]/"umount '$small'"/}")
else
	echo "skip - free space: cannot mount a small tmpfs here (needs root)"
fi
"$IOSTRAT" blocking file -n 2 --size 1T --dir "$test_tmp/huge" >/dev/null 2>"$test_tmp/huge.err"
check "--size 1T: refused at once, exit 2, nothing written" \
	[ $? = 2 -a "$(grep -c "GiB free" "$test_tmp/huge.err")" = 1 -a -z "$(ls -A "$test_tmp/huge")" ]

# --- Ctrl-C while one large file of the set is written: seen within a chunk; exit 130, a
# result with every task cancelled, nothing half-made left ---
"$IOSTRAT" blocking file -n 1 --size 2G --dir "$test_tmp/making" --json "$test_tmp/making.json" \
	>/dev/null 2>"$test_tmp/making.err" &
pid=$!
test_cleanups+=("kill -KILL $pid 2>/dev/null")
for _ in $(seq 50); do # until the file is being written
	[ -e "$test_tmp/making/f0000000" ] && break
	sleep 0.1
done
sleep 0.1
started=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
status=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
check "Ctrl-C while the set is made: exit 130 within a second (was $status, took $took_ms ms)" \
	[ "$status" = 130 -a "$took_ms" -lt 1000 ]
check "Ctrl-C while the set is made: a result, every task cancelled" \
	[ "$(get making interrupted)" = SIGINT -a "$(get making summary.tasks_cancelled)" = 1 ]
check "Ctrl-C while the set is made: no half-made file left" [ -z "$(ls -A "$test_tmp/making")" ]

# --- more files open at once than the descriptor limit allows ---
(
	ulimit -n 64
	run emfile-threads threads file -n 100 --size 4K --dir "$test_tmp/many" -q
	run emfile-epoll epoll file -n 100 --size 4K --dir "$test_tmp/many" -q
	run emfile-processes processes file -n 100 --size 4K --dir "$test_tmp/many" -q
)
check "threads under ulimit -n 64: --jobs is bounded with a message, and every task reads" \
	[ "$(status_of emfile-threads)" = 0 -a "$(get emfile-threads summary.tasks_ok)" = 100 -a \
	"$(grep -c "descriptor limit (ulimit -n 64)" "$test_tmp/emfile-threads.err")" = 1 -a \
	"$(get emfile-threads params.jobs)" -le 32 ]
check "epoll under ulimit -n 64: every task reads" \
	[ "$(status_of emfile-epoll)" = 0 -a "$(get emfile-epoll summary.tasks_ok)" = 100 ]
check "processes under ulimit -n 64: each child opens one file, every task reads" \
	[ "$(status_of emfile-processes)" = 0 -a "$(get emfile-processes summary.tasks_ok)" = 100 ]

# --- Ctrl-C while the pool reads: the workers stop promptly, the result is still written ---
"$IOSTRAT" blocking file -q -n 4 --size 16M --dir "$test_tmp/slow" >/dev/null 2>&1
"$IOSTRAT" epoll file -q -n 4 --size 16M --block 16 --pool 2 --dir "$test_tmp/slow" --cache warm \
	--json "$test_tmp/sigint.json" >/dev/null 2>&1 &
pid=$!
test_cleanups+=("kill -KILL $pid 2>/dev/null")
sleep 0.7
started=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
status=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
check "Ctrl-C during pool reads: exit 130 within 2 s (took ${took_ms} ms)" [ "$status" = 130 -a "$took_ms" -lt 2000 ]
check "Ctrl-C during pool reads: the result says so and no task is left running" \
	[ "$(get sigint interrupted)" = SIGINT -a "$(get sigint summary.tasks_cancelled)" -ge 1 -a \
	"$(get sigint summary.tasks_ok)" -lt 4 ]

test_summary
