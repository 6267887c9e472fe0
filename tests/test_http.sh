#!/usr/bin/env bash
# test_http.sh - the http workload end to end against the local nginx (scripts/httpd, started
# here in a private run folder and stopped at the end): listings printed under every strategy,
# keep-alive in blocking, one thread in epoll, the default target found from the server's run
# folder, and every fault: refused, 404/500, not JSON, cut short, never answering, a name that
# does not resolve (in a network namespace of its own), bad URLs and files, hostile --urls
# sources (/dev/zero, a FIFO, a huge file), a stale pid file, more requests in flight than
# descriptors allow, Ctrl-C in threads.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

strategies=(blocking processes threads epoll)

if ! command -v nginx >/dev/null 2>&1; then
	fail "nginx is installed (make deps)"
	test_summary
	exit
fi
export IOSTRAT_HTTPD_DIR=$test_tmp/httpd
unset IOSTRAT_HTTP_URL
if ! base=$(scripts/httpd start 2>"$test_tmp/httpd.err"); then
	fail "the local server starts" "$(cat "$test_tmp/httpd.err")"
	test_summary
	exit
fi
test_cleanups+=("scripts/httpd stop >/dev/null")

# run NAME ARGS...: run_program (tests/lib.sh) with $IOSTRAT
run() {
	run_program "$IOSTRAT" "$@"
}

# not COMMAND...: succeeds when the command fails
not() {
	! "$@"
}

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

# ---- every strategy fetches and prints the listings ----------------------------------------
for strategy in "${strategies[@]}"; do
	run "$strategy" "$strategy" http -n 8
	check "$strategy: 8 listings fetched, exit 0" [ "$status" -eq 0 ]
	check "$strategy: every task ok in the result" \
		[ "$(json_get "$test_tmp/$strategy.json" summary.tasks_ok)" = 8 ]
	check "$strategy: /r/python printed as the tutorial prints it" \
		has_listing "$test_tmp/$strategy.out" python
	check "$strategy: /r/rust printed too (the default target cycles the subreddits)" \
		has_listing "$test_tmp/$strategy.out" rust
	check "$strategy: every task's status is 200" \
		[ "$(json_get "$test_tmp/$strategy.json" 'tasks.*.http_status' | sort -u)" = 200 ]
	check "$strategy: bytes received are counted" \
		[ "$(json_get "$test_tmp/$strategy.json" summary.bytes_total)" -gt 8000 ]
	check "$strategy: requests per second are reported" \
		awk -v r="$(json_get "$test_tmp/$strategy.json" summary.requests_per_s)" 'BEGIN { exit !(r > 0) }'
	check "$strategy: the summary names the connections opened" \
		grep -q 'connections\? opened' "$test_tmp/$strategy.out"
done

check "blocking: one easy handle reused, so 8 requests over 1 kept-alive connection" \
	[ "$(json_get "$test_tmp/blocking.json" summary.connections)" = 1 ]
check "processes: a handle per child, so a connection per task" \
	[ "$(json_get "$test_tmp/processes.json" summary.connections)" = 8 ]
check "epoll: the numeric address keeps the loop to one thread" \
	[ "$(json_get "$test_tmp/epoll.json" summary.threads_peak)" = 1 ]
check "epoll: one process" [ "$(json_get "$test_tmp/epoll.json" summary.processes)" = 1 ]

run epoll-reuse epoll http -n 12 -j 3
check "epoll: connections are kept alive in the multi handle (at most -j of them)" \
	[ "$(json_get "$test_tmp/epoll-reuse.json" summary.connections)" -le 3 ]
check "epoll: -j bounds the requests in flight" \
	[ "$(json_get "$test_tmp/epoll-reuse.json" summary.inflight_peak)" = 3 ]

# libcurl's own bound on its connection cache (4 x the handles in the multi handle) drops while
# finished transfers are removed before new ones are added; it then closed connections that
# the next tasks could have reused (some 200 connections for 2,000 requests over 100 slots).
run keepalive epoll http -n 2000 -j 100 -q
check "epoll -n 2000 -j 100: every task ok" [ "$(json_get "$test_tmp/keepalive.json" summary.tasks_ok)" = 2000 ]
check "epoll -n 2000 -j 100: one kept-alive connection per slot, exactly 100" \
	[ "$(json_get "$test_tmp/keepalive.json" summary.connections)" = 100 ]

# All in flight: transfers are handed to libcurl in rounds, but every one is in flight before
# the first response comes back, each on a connection of its own.
run allin epoll http -n 600 --delay 500ms -q
check "epoll -n 600 --delay 500ms: every task ok" [ "$(json_get "$test_tmp/allin.json" summary.tasks_ok)" = 600 ]
check "epoll -n 600 --delay 500ms: all 600 in flight at once" \
	[ "$(json_get "$test_tmp/allin.json" summary.inflight_peak)" = 600 ]
check "epoll -n 600 --delay 500ms: a connection each (none can be reused)" \
	[ "$(json_get "$test_tmp/allin.json" summary.connections)" = 600 ]

run quiet epoll http -n 4 -q
check "-q prints no listing" not grep -q '^/r/' "$test_tmp/quiet.out"

# ---- the server's delay: latency the strategies overlap -----------------------------------
for strategy in epoll threads; do
	run "delay-$strategy" "$strategy" http -n 20 --delay 300ms -q
	check "$strategy --delay 300ms: all ok" [ "$status" -eq 0 ]
	check "$strategy --delay 300ms: the ideal time is the server's hold" \
		awk -v i="$(json_get "$test_tmp/delay-$strategy.json" summary.ideal_s)" 'BEGIN { exit !(i > 0.2999 && i < 0.3001) }'
	check "$strategy --delay 300ms: each response really was held" \
		awk -v p="$(json_get "$test_tmp/delay-$strategy.json" summary.latency_s.p50)" 'BEGIN { exit !(p >= 0.3) }'
	check "$strategy --delay 300ms: 20 held responses overlap (wall under 20 x 0.3 s / 2)" \
		awk -v w="$(json_get "$test_tmp/delay-$strategy.json" summary.wall_s)" 'BEGIN { exit !(w < 3) }'
done
run delay-url epoll http -n 1 --delay 300ms
check "--delay puts delay=0.300 in the local server's URL" grep -q 'GET .*delay=0\.300' "$test_tmp/delay-url.out"

# ---- --url and --urls ------------------------------------------------------------------
run small epoll http -n 3 --url "$base/small.json"
if [ "$(json_get "$test_tmp/small.json" summary.tasks_ok)" = 3 ] && [ "$status" -eq 0 ]; then
	pass "--url fetches that URL N times, exit 0"
else
	fail "--url fetches that URL N times, exit 0"
fi
check "--url: a listing outside /r/NAME/ is named after its posts' subreddit" \
	[ "$(grep -c '^/r/[a-z_]*:$' "$test_tmp/small.out")" = 3 ]
check "--url: params.url in the result" [ "$(json_get "$test_tmp/small.json" params.url)" = "$base/small.json" ]

run large blocking http -n 1 --url "$base/large.json"
check "a 4 MiB body is received whole and parsed" [ "$status" -eq 0 ]
check "a 4 MiB body: its bytes are counted" [ "$(json_get "$test_tmp/large.json" tasks.0.bytes)" -ge 4194304 ]
# A body whose values outgrow the parse's arena takes the rest from malloc.
run large-epoll epoll http -n 2 --url "$base/large.json" -q
if [ "$status" -eq 0 ] && [ "$(json_get "$test_tmp/large-epoll.json" summary.tasks_ok)" = 2 ]; then
	pass "epoll: two 4 MiB bodies parsed side by side, past the parse's arena"
else
	fail "epoll: two 4 MiB bodies parsed side by side, past the parse's arena"
fi

printf '# task i fetches line i mod 2\n\n%s\n%s\n' "$base/small.json" "$base/status/404" >"$test_tmp/urls.txt"
run urls epoll http -n 4 --urls "$test_tmp/urls.txt"
check "--urls: a failed line gives exit 1" [ "$status" -eq 1 ]
check "--urls: task i fetches line i mod count (0 and 2 ok, 1 and 3 got 404)" \
	[ "$(json_get "$test_tmp/urls.json" 'tasks.*.http_status' | tr '\n' ' ')" = "200 404 200 404 " ]

# ---- faults: each task records why; the run finishes; exit 1 --------------------------------
# fault NAME URL EXPECTED-ERROR-PATTERN [iostrat options]; with fault_runner=in_netns, in
# a network namespace of its own
fault_runner=run
fault() {
	local name=$1 url=$2 pattern=$3 strategy error
	shift 3
	for strategy in "${strategies[@]}"; do
		"$fault_runner" "fault-$name-$strategy" "$strategy" http -n 2 --url "$url" -q "$@"
		error=$(json_get "$test_tmp/fault-$name-$strategy.json" tasks.1.error)
		if [ "$status" -eq 1 ] && [[ $error =~ $pattern ]] &&
			[ "$(json_get "$test_tmp/fault-$name-$strategy.json" summary.tasks_failed)" = 2 ]; then
			pass "$strategy, $name: both tasks fail with '$error', exit 1"
		else
			fail "$strategy, $name: both tasks fail with /$pattern/, exit 1" \
				"exit $status, error: $error" "$(cat "$test_tmp/fault-$name-$strategy.err")"
		fi
	done
}
fault "connection refused" "http://127.0.0.1:1/" "Connection refused|Couldn't connect"
fault "404" "$base/status/404" "^HTTP status 404, not 200$"
fault "500" "$base/status/500" "^HTTP status 500, not 200$"
fault "not JSON" "$base/garbage" "^not JSON: "
fault "truncated JSON" "$base/truncated.json" "^not JSON: "
fault "body cut short" "$base/cut.json" "transfer closed|[Pp]artial"
fault "never answers" "$base/small.json?delay=60" "[Tt]imed out" --timeout 1s
# A name that does not resolve, where no query can leave the machine: a network namespace of
# its own, with no interface up (root only; skipped, and said so, elsewhere).
if unshare --net true 2>/dev/null; then
	in_netns() { # in_netns NAME ARGS...: run_program under unshare --net
		local name=$1
		shift
		run_program unshare "$name" --net "$IOSTRAT" "$@"
	}
	fault_runner=in_netns
	fault "unresolvable host" "http://iostrat-test.invalid/" "resolve host"
	fault_runner=run
else
	echo "skip - the unresolvable host: unshare --net is not permitted here (needs root)"
fi

# JSON may hold "\u0000" (jansson needs JSON_ALLOW_NUL for it)
for strategy in blocking epoll; do
	run "nul-$strategy" "$strategy" http -n 2 --url "$base/nul.json" -q
	if [ "$status" -eq 0 ] && [ "$(json_get "$test_tmp/nul-$strategy.json" summary.tasks_ok)" = 2 ]; then
		pass "$strategy: valid JSON with an escaped NUL is JSON (exit $status)"
	else
		fail "$strategy: valid JSON with an escaped NUL is JSON (exit $status)"
	fi
done

run status-record epoll http -n 1 --url "$base/status/503"
check "a failed task records its HTTP status" [ "$(json_get "$test_tmp/status-record.json" tasks.0.http_status)" = 503 ]

# More requests in flight than descriptors allow: the failures say why, nothing hangs.
for strategy in epoll threads; do
	(
		ulimit -n 64
		run "fd-$strategy" "$strategy" http -n 150 --url "$base/small.json?delay=0.3" -q
		exit "$status"
	)
	status=$?
	errors=$(json_get "$test_tmp/fd-$strategy.json" 'tasks.*.error' | grep -v '^null$' | sort -u)
	check "$strategy, 150 in flight under ulimit -n 64: the run ends, exit 1" [ "$status" -eq 1 ]
	check "$strategy, 150 in flight under ulimit -n 64: failures say 'Too many open files'" \
		[ "$(echo "$errors" | grep -c 'Too many open files')" -ge 1 ]
	check "$strategy, 150 in flight under ulimit -n 64: some still succeed" \
		[ "$(json_get "$test_tmp/fd-$strategy.json" summary.tasks_ok)" -gt 0 ]
done

# Ctrl-C while responses are held: cancelled, the result is written.
timeout 60 "$IOSTRAT" epoll http -n 4 --url "$base/small.json?delay=30" -q \
	--json "$test_tmp/int.json" >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"
status=$?
check "epoll, SIGINT while responses are held: exit 130" [ "$status" -eq 130 ]
check "epoll, SIGINT: every held task is cancelled in the result" \
	[ "$(json_get "$test_tmp/int.json" summary.tasks_cancelled)" = 4 ]

# Ctrl-C in threads x http: the blocking transfer waits on the stop descriptor too, so it
# ends at once (libcurl's progress call, which came once a second, was the only way out).
timeout 60 "$IOSTRAT" threads http -n 4 --url "$base/small.json?delay=30" -q \
	--json "$test_tmp/int-threads.json" >/dev/null 2>&1 &
pid=$!
sleep 0.5
sent=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
status=$?
took_ms=$((($(date +%s%N) - sent) / 1000000))
check "threads, SIGINT while responses are held: exit 130" [ "$status" -eq 130 ]
check "threads, SIGINT while responses are held: stopped at once, not at libcurl's next progress call (took $took_ms ms)" \
	[ "$took_ms" -lt 250 ]
check "threads, SIGINT: every held task is cancelled in the result" \
	[ "$(json_get "$test_tmp/int-threads.json" summary.tasks_cancelled)" = 4 ]

# Ctrl-C while --urls waits on a FIFO with no writer: exit 130, a result, every task cancelled.
mkfifo "$test_tmp/urls.fifo"
timeout 20 "$IOSTRAT" epoll http -n 3 --urls "$test_tmp/urls.fifo" --json "$test_tmp/fifo.json" \
	>/dev/null 2>"$test_tmp/fifo.err" &
pid=$!
for _ in $(seq 50); do # until it waits in open(): its result file is there, then a moment
	[ -n "$(find "$test_tmp" -maxdepth 1 -name 'fifo.json.tmp.*')" ] && break
	sleep 0.1
done
sleep 0.2
kill -INT "$pid"
wait "$pid"
status=$?
check "Ctrl-C while --urls waits on a FIFO: exit 130 (was $status)" [ "$status" -eq 130 ]
check "Ctrl-C while --urls waits on a FIFO: a result, every task cancelled" \
	[ "$(json_get "$test_tmp/fifo.json" summary.tasks_cancelled 2>/dev/null)" = 3 ]

# A URL that holds a delay= of its own: its hold is the ideal; beside --delay it is refused.
run own-delay epoll http -n 2 --url "$base/small.json?delay=0.3" -q
check "a URL's own delay=0.3 is the ideal (0.3 s)" \
	awk -v i="$(json_get "$test_tmp/own-delay.json" summary.ideal_s)" 'BEGIN { exit !(i > 0.2999 && i < 0.3001) }'

# A long --urls file is read in linear time (the list doubles; 100,000 lines took 30 s under
# ASan when it grew by one entry a line).
awk -v u="$base/small.json" 'BEGIN { for (i = 0; i < 100000; i++) print u "?n=" i }' >"$test_tmp/long.txt"
timeout 15 "$IOSTRAT" epoll http -n 2 -q --urls "$test_tmp/long.txt" >/dev/null 2>&1
check "--urls with 100,000 lines: read and run within 15 s (exit $?)" [ "$?" -eq 0 ]

# ---- arguments: exit 2 before anything runs ----------------------------------------------
# bad NAME PATTERN ARGS...: exit 2, PATTERN on stderr, no task line printed
bad() {
	local name=$1 pattern=$2
	shift 2
	timeout 20 "$IOSTRAT" epoll http "$@" >"$test_tmp/bad.out" 2>"$test_tmp/bad.err"
	status=$?
	if [ "$status" -eq 2 ] && grep -q -- "$pattern" "$test_tmp/bad.err" && ! [ -s "$test_tmp/bad.out" ]; then
		pass "$name: exit 2 before anything runs"
	else
		fail "$name: exit 2 with /$pattern/ before anything runs" "exit $status" \
			"$(cat "$test_tmp/bad.err")"
	fi
}
bad "a malformed URL" "is not a URL" --url "not a url"
bad "a URL that is not http(s)" "only http and https" --url "ftp://127.0.0.1/x"
bad "a URL without a host" "is not a URL" --url "http://"
bad "an unreadable --urls file" "No such file" --urls "$test_tmp/missing.txt"
: >"$test_tmp/empty.txt"
bad "an empty --urls file" "no URL in the file" --urls "$test_tmp/empty.txt"
printf '%s\nnot a url\n' "$base/small.json" >"$test_tmp/badline.txt"
bad "a bad line in --urls" "line 2" --urls "$test_tmp/badline.txt"
bad "--url and --urls together" "give one" --url "$base/small.json" --urls "$test_tmp/urls.txt"
bad "a delay finer than the server's millisecond" "to the millisecond" --delay 100us
bad "a delay the server cannot hold" "999.999" --delay 1000
IOSTRAT_HTTPD_DIR=$test_tmp/no-server bad "no server running and no --url" "scripts/httpd start"
# A stale pid file that names a live process of another program: not the server.
mkdir -p "$test_tmp/stale"
echo "http://127.0.0.1:1" >"$test_tmp/stale/url"
sleep 30 &
other=$!
echo "$other" >"$test_tmp/stale/nginx.pid"
IOSTRAT_HTTPD_DIR=$test_tmp/stale bad "a stale nginx.pid naming another live process" "is not running any more"
kill "$other"
wait "$other" 2>/dev/null
bad "--urls /dev/zero: a line past 2048 bytes, read no further" "line 1: a NUL byte" --urls /dev/zero
yes "$base/small.json$(printf '%02100d' 0)" | head -c 100000 >"$test_tmp/longline.txt"
bad "--urls with a line longer than a URL can be" "longer than the longest URL" --urls "$test_tmp/longline.txt"
truncate -s 65M "$test_tmp/huge.txt"
bad "--urls larger than 64 MiB" "larger than 64 MiB" --urls "$test_tmp/huge.txt"
bad "--delay beside a URL that holds a delay= of its own" "delay= of its own" \
	--delay 100ms --url "$base/small.json?delay=1"
bad "a URL with a space" "is not a URL" --url "$base/small.json?a=b c"
cp "$test_tmp/urls.txt" "$test_tmp/same.txt"
bad "--json naming the --urls file" "would overwrite the input" \
	--urls "$test_tmp/same.txt" --json "$test_tmp/same.txt"
check "--json naming the --urls file: the input is left as it was" cmp -s "$test_tmp/urls.txt" "$test_tmp/same.txt"

# ---- the default target -----------------------------------------------------------------
IOSTRAT_HTTPD_DIR=$test_tmp/no-server IOSTRAT_HTTP_URL=$base run env-url epoll http -n 1
check "IOSTRAT_HTTP_URL names the server without a run folder" [ "$status" -eq 0 ]
check "the base URL used is in the result" [ "$(json_get "$test_tmp/env-url.json" params.server_url)" = "$base" ]

test_summary
