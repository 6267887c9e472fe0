#!/usr/bin/env bash
# test_calibrate.sh - what calibration relies on: --check off really skips the content check
# (a damaged file passes with it off and fails with it on) and --body discard really skips the
# parse (a body that is not JSON passes discarded and fails parsed), both recorded in the
# result (params.check, params.body) and said in the summary; summary.check_s and parse_s are
# there and above zero when the work is done, null when it is not; iostrat-bare's primitives
# (both images) report what they did: n as asked, a cost above zero, the bare HTTP client's
# requests counted, a failing status failing, the fork-cost table's columns.
# sanitize: yes
set -u
cd "$(dirname "$0")/.." || exit 1
source tests/lib.sh

bin_dir=$(dirname "$IOSTRAT")
IOSTRAT_BARE=${IOSTRAT_BARE:-$bin_dir/iostrat-bare}
IOSTRAT_BARE_LEAN=${IOSTRAT_BARE_LEAN:-$bin_dir/iostrat-bare-lean}
strategies=(blocking processes threads epoll)
if "$IOSTRAT" --list --format tsv 2>/dev/null | grep -q '^strategy	uring	[^	]*	yes'; then
	strategies+=(uring)
fi

run() {
	run_program "$IOSTRAT" "$@"
}

# --- file: --check ---------------------------------------------------------------------------
set_dir=$test_tmp/files
run make-set blocking file -q -n 3 --size 256K --dir "$set_dir"
check "file: the set is made ($status)" test "$status" = 0
run whole blocking file -q -n 3 --size 256K --dir "$set_dir"
check "file: an intact set passes with the check on" test "$status" = 0
check "file: params.check is on by default" test "$(json_get "$test_tmp/whole.json" params.check)" = on
check "file: summary.check_s is above zero with the check on" \
	awk -v s="$(json_get "$test_tmp/whole.json" summary.check_s)" 'BEGIN { exit !(s > 0) }'
check "file: the summary gives the check's time" grep -q 'content check: [0-9.]* s' "$test_tmp/whole.out"
printf 'XXXXXXXX' | dd of="$set_dir/f0000001" bs=1 seek=4099 conv=notrunc status=none
for strategy in "${strategies[@]}"; do
	run "on-$strategy" "$strategy" file -q -n 3 --size 256K --dir "$set_dir" --cache warm
	check "file, $strategy: a damaged file fails with the check on (exit $status)" \
		grep -q 'f0000001: wrong content at offset 409[6-9]' "$test_tmp/on-$strategy.out" "$test_tmp/on-$strategy.json"
	run "off-$strategy" "$strategy" file -q -n 3 --size 256K --dir "$set_dir" --cache warm --check off
	check "file, $strategy: the damaged file passes with --check off (exit $status)" test "$status" = 0
	check "file, $strategy: params.check is off" test "$(json_get "$test_tmp/off-$strategy.json" params.check)" = off
	check "file, $strategy: summary.check_s is null with --check off" \
		test "$(json_get "$test_tmp/off-$strategy.json" summary.check_s)" = null
done
check "file: the summary says the check is off" grep -q 'content check: off' "$test_tmp/off-blocking.out"
truncate -s 200K "$set_dir/f0000002"
run short blocking file -q -n 3 --size 256K --dir "$set_dir" --cache warm --check off
check "file: a short file still fails with --check off (its length is checked)" \
	grep -q 'f0000002: .*truncated' "$test_tmp/short.json"
run bad-check blocking file -q -n 1 --size 256K --dir "$set_dir" --check maybe
check "file: --check maybe is refused (exit 2)" test "$status" = 2
check "file: the refusal names --check" grep -q -- '--check' "$test_tmp/bad-check.err"

# --- http: --body ----------------------------------------------------------------------------
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
garbage_bytes=$(curl -s "$base/garbage" | wc -c)
for strategy in "${strategies[@]}"; do
	run "parse-$strategy" "$strategy" http -q -n 3 --url "$base/garbage"
	check "http, $strategy: a body that is not JSON fails when parsed (exit $status)" \
		grep -q 'not JSON' "$test_tmp/parse-$strategy.json"
	run "discard-$strategy" "$strategy" http -q -n 3 --url "$base/garbage" --body discard
	check "http, $strategy: it passes with --body discard (exit $status)" test "$status" = 0
	check "http, $strategy: params.body is discard" \
		test "$(json_get "$test_tmp/discard-$strategy.json" params.body)" = discard
	check "http, $strategy: summary.parse_s is null when discarded" \
		test "$(json_get "$test_tmp/discard-$strategy.json" summary.parse_s)" = null
	check "http, $strategy: discarded bodies are counted ($garbage_bytes bytes each)" \
		test "$(json_get "$test_tmp/discard-$strategy.json" summary.bytes_total)" = $((3 * garbage_bytes))
	run "status-$strategy" "$strategy" http -q -n 2 --url "$base/status/500" --body discard
	check "http, $strategy: the status is still checked with --body discard (exit $status)" \
		grep -q 'HTTP status 500' "$test_tmp/status-$strategy.json"
done
check "http: the summary says the bodies were discarded" grep -q 'bodies: discarded' "$test_tmp/discard-epoll.out"
run listing epoll http -q -n 4 --url "$base/r/python/top.json?limit=25"
check "http: a listing parses (exit $status)" test "$status" = 0
check "http: params.body is parse by default" test "$(json_get "$test_tmp/listing.json" params.body)" = parse
check "http: summary.parse_s is above zero when bodies are parsed" \
	awk -v s="$(json_get "$test_tmp/listing.json" summary.parse_s)" 'BEGIN { exit !(s > 0) }'
run bad-body epoll http -q -n 1 --url "$base/small.json" --body keep
check "http: --body keep is refused (exit 2)" test "$status" = 2
run check-http epoll http -q -n 1 --url "$base/small.json" --check off
check "http: --check does not apply to http (exit 2)" test "$status" = 2

# --- iostrat-bare ------------------------------------------------------------------------------
# bare_ok NAME: the document of a bare run says n = N, per_op_s > 0, image IMAGE
bare_ok() {
	local doc=$test_tmp/$1.json
	[ "$(json_get "$doc" n)" = "$2" ] && [ "$(json_get "$doc" image)" = "$3" ] &&
		awk -v s="$(json_get "$doc" per_op_s)" 'BEGIN { exit !(s > 0) }'
}
for image in iostrat lean; do
	bare=$IOSTRAT_BARE
	[ "$image" = iostrat ] || bare=$IOSTRAT_BARE_LEAN
	for primitive in fork fork-serial vfork posix_spawn thread thread-serial timer timer-serial; do
		run_program "$bare" "bare-$primitive-$image" "$primitive" -n 20 --delay 10ms --rounds 3
		check "bare $primitive ($image): exit 0, n 20, per_op_s > 0 ($status)" \
			bare_ok "bare-$primitive-$image" 20 "$image"
	done
	run_program "$bare" "bare-http-$image" http -n 30 -j 10 --url "$base/small.json"
	check "bare http ($image): 30 requests ok over 30 connections ($status)" \
		test "$status:$(json_get "$test_tmp/bare-http-$image.json" connections):$(json_get "$test_tmp/bare-http-$image.json" failed)" = 0:30:0
	check "bare http ($image): n 30, per_op_s > 0" bare_ok "bare-http-$image" 30 "$image"
	check "bare http ($image): every body counted" \
		test "$(json_get "$test_tmp/bare-http-$image.json" bytes_total)" = $((30 * $(curl -s "$base/small.json" | wc -c)))
done
doc=$test_tmp/bare-fork-iostrat.json
check "bare fork: waits --delay, so the round lasts at least 10 ms" \
	awk -v w="$(json_get "$doc" wall_s)" 'BEGIN { exit !(w >= 0.010) }'
check "bare: iostrat's image maps more objects than the lean one" \
	test "$(json_get "$doc" mapped_objects)" -gt "$(json_get "$test_tmp/bare-fork-lean.json" mapped_objects)"
run_program "$IOSTRAT_BARE" bare-404 http -n 5 --url "$base/status/404"
check "bare http: a status other than 200 fails (exit $status)" \
	test "$status:$(json_get "$test_tmp/bare-404.json" failed)" = 1:5
run_program "$IOSTRAT_BARE" bare-name http -n 1 --url "http://localhost/"
check "bare http: a host name is refused, never resolved (exit $status)" test "$status" = 2
IOSTRAT_BARE_LEAN=$IOSTRAT_BARE_LEAN timeout 60 "$IOSTRAT_BARE" fork-cost --touch 0 -n 5 --rounds 1 \
	--tsv "$test_tmp/fork-cost.tsv" 2>"$test_tmp/fork-cost.err"
check "fork-cost: the header is image, touched_bytes, primitive, per_op_us, spread_us" \
	test "$(head -n 1 "$test_tmp/fork-cost.tsv")" = "$(printf 'image\ttouched_bytes\tprimitive\tper_op_us\tspread_us')"
# shellcheck disable=SC2016 # awk's own $4
check "fork-cost: 4 primitives for each image, every cost above zero" \
	awk -F'\t' 'NR > 1 { rows[$1]++; if (!($4 > 0)) bad = 1 } END { exit !(rows["lean"] == 4 && rows["iostrat"] == 4 && !bad) }' \
	"$test_tmp/fork-cost.tsv"

test_summary
