#!/bin/bash
# Tests scripts/httpd, the local server of the http workload: start and stop, the URL scheme,
# the delays and the failures it serves. Each check names the behaviour it protects; the last
# line counts them. Runs in a few seconds, sends traffic to 127.0.0.1 only.
set -eu

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HTTPD=$TESTS_DIR/../scripts/httpd
PYTHON=/usr/bin/python3

require_tool() {
	local tool=$1 package=$2
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "test_httpd: $tool not found: install the Debian package '$package'" >&2
		exit 1
	fi
}
require_tool curl curl
require_tool ss iproute2
require_tool pgrep procps
require_tool "$PYTHON" python3

# A private run folder, removed with the server on any exit.
WORK_DIR=$(mktemp -d)
export IOSTRAT_HTTPD_DIR=$WORK_DIR/run
unset IOSTRAT_HTTPD_PORT
cleanup() {
	"$HTTPD" stop >/dev/null 2>&1 || true
	rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
FAILED=0
BASE=""       # base URL printed by start
START_CS=0    # how long the first start took, in hundredths of a second
START_RC=0    # exit status of the first start
MASTER_PID="" # pid of the nginx master, read before stop
WORKER_PIDS=""

check() {
	local what=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok   $what"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $what"
	fi
}

why() {
	echo "     $*" >&2
}

# Monotonic time (since boot) in hundredths of a second: fine for limits of tenths of a second.
now_cs() {
	local uptime
	read -r uptime _ </proc/uptime
	echo $((10#${uptime/./}))
}

process_running() {
	local stat state
	if ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
		return 1
	fi
	state=${stat##*) }
	[ "${state%% *}" != Z ]
}

# fetch PATH FILE: saves the body, prints "<status> <seconds>"; fails when the transfer does.
fetch() {
	curl -sS --max-time 10 -o "$2" -w '%{http_code} %{time_total}' "$BASE$1"
}

is_json() {
	"$PYTHON" -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$1" \
		2>/dev/null
}

# Prints the number of posts if FILE is a reddit-style listing of SUBREDDIT, sorted by score.
listing_posts() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
path, subreddit = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    listing = json.load(f)
assert listing["kind"] == "Listing", "not a Listing"
children = listing["data"]["children"]
for child in children:
    post = child["data"]
    assert child["kind"] == "t3", "child is not a post (t3)"
    assert isinstance(post["score"], int) and isinstance(post["title"], str)
    assert post["url"].startswith("https://"), "url " + post["url"]
    assert post["subreddit"] == subreddit, "subreddit " + post["subreddit"]
    assert post["permalink"].startswith("/r/%s/comments/" % subreddit), post["permalink"]
scores = [child["data"]["score"] for child in children]
assert scores == sorted(scores, reverse=True), "not sorted by score"
print(len(children))
EOF
}

check_start_prints_local_url() {
	if [ "$START_RC" -ne 0 ]; then
		why "start exited with $START_RC"
		return 1
	fi
	if ! [[ $BASE =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
		why "start printed '$BASE'"
		return 1
	fi
}

check_start_is_fast() {
	if [ "$START_CS" -ge 100 ]; then
		why "start took ${START_CS}0 ms"
		return 1
	fi
}

check_status_and_url() {
	local status_output url_output
	status_output=$("$HTTPD" status) || {
		why "status exited with $? while the server runs"
		return 1
	}
	url_output=$("$HTTPD" url) || return 1
	if [[ $status_output != running* ]] || [ "$url_output" != "$BASE" ]; then
		why "status: '$status_output', url: '$url_output'"
		return 1
	fi
}

check_second_start_refuses() {
	local output rc=0 answer
	output=$("$HTTPD" start 2>&1) || rc=$?
	if [ "$rc" -ne 1 ] || [[ $output != *"already running"* ]]; then
		why "second start: exit $rc, '$output'"
		return 1
	fi
	answer=$(fetch /small.json /dev/null) || return 1
	if [ "${answer%% *}" != 200 ] || [ "$("$HTTPD" url)" != "$BASE" ]; then
		why "first server disturbed: $answer"
		return 1
	fi
}

check_listings_have_limit_posts() {
	local subreddit limit answer posts body=$WORK_DIR/listing.json
	for subreddit in python rust c_programming; do
		for limit in 1 5 25; do
			answer=$(fetch "/r/$subreddit/top.json?sort=top&t=day&limit=$limit" "$body") ||
				return 1
			posts=$(listing_posts "$body" "$subreddit") || {
				why "/r/$subreddit limit=$limit: not a valid listing"
				return 1
			}
			if [ "${answer%% *}" != 200 ] || [ "$posts" != "$limit" ]; then
				why "/r/$subreddit limit=$limit: status ${answer%% *}, $posts posts"
				return 1
			fi
		done
	done
}

check_listing_is_json_typed() {
	local content_type
	content_type=$(curl -sS -o /dev/null -w '%{content_type}' "$BASE/r/golang/top.json?limit=2")
	if [ "$content_type" != application/json ]; then
		why "Content-Type: $content_type"
		return 1
	fi
}

check_default_limit_is_5() {
	local body=$WORK_DIR/listing.json posts
	fetch /r/linux/top.json "$body" >/dev/null || return 1
	posts=$(listing_posts "$body" linux) || return 1
	if [ "$posts" != 5 ]; then
		why "$posts posts"
		return 1
	fi
}

check_bad_limit_is_400() {
	local limit answer
	for limit in 0 26 abc; do
		answer=$(fetch "/r/python/top.json?limit=$limit" /dev/null) || return 1
		if [ "${answer%% *}" != 400 ]; then
			why "limit=$limit: status ${answer%% *}"
			return 1
		fi
	done
}

check_titles_need_escaping() {
	local body=$WORK_DIR/listing.json
	fetch "/r/python/top.json?limit=25" "$body" >/dev/null || return 1
	"$PYTHON" - "$body" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    titles = [child["data"]["title"] for child in json.load(f)["data"]["children"]]
assert any('"' in title for title in titles), "no title with a quote"
assert any("\\" in title for title in titles), "no title with a backslash"
assert any(not title.isascii() for title in titles), "no title with UTF-8 text"
EOF
}

check_unknown_subreddit_is_404() {
	local answer
	answer=$(fetch /r/nosuchsubreddit/top.json /dev/null) || return 1
	if [ "${answer%% *}" != 404 ]; then
		why "status ${answer%% *}"
		return 1
	fi
}

# Compares a curl time_total (seconds, as a decimal) with bounds: at_least MIN, below MAX.
seconds_between() {
	"$PYTHON" -c 'import sys; t, low, high = map(float, sys.argv[1:]); sys.exit(not low <= t < high)' \
		"$1" "$2" "$3"
}

check_delay_holds() {
	local answer
	answer=$(fetch "/r/python/top.json?limit=5&delay=0.3" /dev/null) || return 1
	if [ "${answer%% *}" != 200 ] || ! seconds_between "${answer#* }" 0.3 0.8; then
		why "delay=0.3: $answer"
		return 1
	fi
	answer=$(fetch "/r/python/top.json?limit=5" /dev/null) || return 1
	if ! seconds_between "${answer#* }" 0 0.2; then
		why "no delay: $answer"
		return 1
	fi
}

check_concurrent_delays_overlap() {
	local start_cs elapsed_cs results=$WORK_DIR/concurrent.txt ok_count
	start_cs=$(now_cs)
	curl -sS --no-progress-meter --parallel --parallel-immediate --parallel-max 50 \
		--max-time 5 -o "$WORK_DIR/concurrent_#1" -w '%{http_code}\n' \
		"$BASE/r/compsci/top.json?limit=5&delay=1&n=[1-50]" >"$results" || return 1
	elapsed_cs=$(($(now_cs) - start_cs))
	ok_count=$(grep -c '^200$' "$results" || true)
	if [ "$ok_count" -ne 50 ] || [ "$elapsed_cs" -ge 150 ] || [ "$elapsed_cs" -lt 100 ]; then
		why "$ok_count of 50 answered 200, in ${elapsed_cs}0 ms"
		return 1
	fi
}

check_delay_holds_every_kind() {
	local results=$WORK_DIR/kinds.txt line
	curl -sS --no-progress-meter --parallel --parallel-immediate \
		-o /dev/null -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{time_total}\n' \
		"$BASE/status/503?delay=0.2" "$BASE/garbage?delay=0.2" \
		"$BASE/large.json?delay=0.2" "$BASE/nosuchpath?delay=0.2" >"$results" || return 1
	if [ "$(sort "$results" | cut -d' ' -f1 | tr '\n' ' ')" != "200 200 404 503 " ]; then
		why "statuses: $(tr '\n' ' ' <"$results")"
		return 1
	fi
	# nginx's timers keep its cached clock, to the millisecond: a 0.2 s hold can end a
	# fraction of a millisecond before curl's own 0.2 s (0.199917 was seen)
	while read -r line; do
		if ! seconds_between "${line#* }" 0.199 1; then
			why "$line"
			return 1
		fi
	done <"$results"
}

check_bad_delay_is_400() {
	local answer
	answer=$(fetch "/small.json?delay=soon" /dev/null) || return 1
	if [ "${answer%% *}" != 400 ]; then
		why "status ${answer%% *}"
		return 1
	fi
}

check_status_codes() {
	local code answer
	for code in 404 500 503; do
		answer=$(fetch "/status/$code" /dev/null) || return 1
		if [ "${answer%% *}" != "$code" ]; then
			why "/status/$code: status ${answer%% *}"
			return 1
		fi
	done
	answer=$(fetch /no/such/path /dev/null) || return 1
	if [ "${answer%% *}" != 404 ]; then
		why "/no/such/path: status ${answer%% *}"
		return 1
	fi
}

check_broken_bodies_are_not_json() {
	local path answer body=$WORK_DIR/broken
	for path in /garbage /truncated.json; do
		answer=$(fetch "$path" "$body") || return 1
		if [ "${answer%% *}" != 200 ] || [ ! -s "$body" ] || is_json "$body"; then
			why "$path: status ${answer%% *}, $(wc -c <"$body") bytes, parses as JSON or empty"
			return 1
		fi
	done
}

check_cut_transfer_fails() {
	local rc=0
	curl -s -o /dev/null "$BASE/cut.json" || rc=$?
	if [ "$rc" -ne 18 ]; then
		why "curl exit $rc, expected 18 (partial file)"
		return 1
	fi
}

check_large_is_4mib_json() {
	local body=$WORK_DIR/large.json size
	fetch /large.json "$body" >/dev/null || return 1
	size=$(wc -c <"$body")
	if [ "$size" -lt $((4 * 1024 * 1024)) ] || ! is_json "$body"; then
		why "$size bytes, or not valid JSON"
		return 1
	fi
}

check_small_is_tiny_json() {
	local body=$WORK_DIR/small.json size
	fetch /small.json "$body" >/dev/null || return 1
	size=$(wc -c <"$body")
	if [ "$size" -ge 1024 ] || ! is_json "$body"; then
		why "$size bytes, or not valid JSON"
		return 1
	fi
}

check_listens_on_loopback_only() {
	local port=${BASE##*:} sockets
	sockets=$(ss -Hltnp "sport = :$port")
	if [ -z "$sockets" ]; then
		why "nothing listens on port $port"
		return 1
	fi
	if [ -n "$(echo "$sockets" | awk '$4 != "127.0.0.1:'"$port"'"')" ]; then
		why "listening sockets: $sockets"
		return 1
	fi
}

check_content_same_after_restart() {
	local before after
	before=$(curl -sS "$BASE/r/python/top.json?limit=25" "$BASE/large.json" | cksum)
	"$HTTPD" stop >/dev/null || return 1
	BASE=$("$HTTPD" start) || return 1
	after=$(curl -sS "$BASE/r/python/top.json?limit=25" "$BASE/large.json" | cksum)
	if [ "$before" != "$after" ]; then
		why "checksums $before and $after"
		return 1
	fi
}

check_stop_leaves_nothing() {
	local output pid
	MASTER_PID=$(cat "$IOSTRAT_HTTPD_DIR/nginx.pid")
	WORKER_PIDS=$(pgrep -P "$MASTER_PID" || true)
	output=$("$HTTPD" stop) || {
		why "stop exited with $?"
		return 1
	}
	for pid in $MASTER_PID $WORKER_PIDS; do
		if process_running "$pid"; then
			why "process $pid still runs after '$output'"
			return 1
		fi
	done
	if pgrep -f "$IOSTRAT_HTTPD_DIR" >/dev/null || [ -e "$IOSTRAT_HTTPD_DIR/nginx.pid" ]; then
		why "a process or pid file of $IOSTRAT_HTTPD_DIR remains"
		return 1
	fi
}

check_stop_twice_is_fine() {
	local output
	output=$("$HTTPD" stop) || {
		why "stop exited with $?"
		return 1
	}
	if [[ $output != *"not running"* ]]; then
		why "stop said '$output'"
		return 1
	fi
}

check_status_after_stop() {
	local rc=0
	"$HTTPD" status >/dev/null || rc=$?
	if [ "$rc" -ne 3 ]; then
		why "status exited with $rc"
		return 1
	fi
}

START_CS=$(now_cs)
BASE=$("$HTTPD" start) || START_RC=$?
START_CS=$(($(now_cs) - START_CS))

check "start prints a numeric 127.0.0.1 URL, so clients need no name lookup" \
	check_start_prints_local_url
if [ "$START_RC" -ne 0 ]; then
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi
check "start returns within 1 s, so a benchmark can start it freely" check_start_is_fast
check "status says running and url prints the URL that start printed" check_status_and_url
check "a second start refuses (exit 1) and leaves the running server alone" \
	check_second_start_refuses
check "listings are reddit-style JSON with exactly limit posts (1, 5, 25)" \
	check_listings_have_limit_posts
check "listings are served as application/json" check_listing_is_json_typed
check "a listing without limit has 5 posts" check_default_limit_is_5
check "a limit outside 1..25 answers 400 rather than a wrong count" check_bad_limit_is_400
check "titles carry quotes, backslashes and UTF-8, and still parse" check_titles_need_escaping
check "an unknown subreddit answers 404" check_unknown_subreddit_is_404
check "delay=0.3 holds the answer at least 0.3 s; no delay does not hold it" check_delay_holds
check "50 concurrent delay=1 requests all finish within 1.5 s: holds overlap" \
	check_concurrent_delays_overlap
check "delay holds errors, garbage, large documents and 404s too" check_delay_holds_every_kind
check "a malformed delay answers 400" check_bad_delay_is_400
check "/status/404, 500 and 503 answer that status; unknown paths 404" check_status_codes
check "/garbage and /truncated.json answer 200 with bodies that are not JSON" \
	check_broken_bodies_are_not_json
check "/cut.json breaks off before its Content-Length: the transfer fails" \
	check_cut_transfer_fails
check "/large.json is valid JSON of at least 4 MiB" check_large_is_4mib_json
check "/small.json is valid JSON under 1 KiB" check_small_is_tiny_json
check "the server listens on 127.0.0.1 only" check_listens_on_loopback_only
check "documents are the same after a restart: content is deterministic" \
	check_content_same_after_restart
check "stop ends the master and its workers and removes the pid file" check_stop_leaves_nothing
check "stop when not running says so and exits 0" check_stop_twice_is_fine
check "status exits 3 when not running" check_status_after_stop

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
