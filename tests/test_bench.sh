#!/usr/bin/env bash
# test_bench.sh - make bench end to end, in its tiny size: the sweep, the charts and the three
# outputs of scripts/report. Protects: every result document parses and every step records the
# command it ran; every chart is a 1280x720 PNG and SVG with text of at least 3.5% of the height;
# index.html is self-contained (a copy in another folder still shows every chart, and gnuplot's
# script in the inlined SVG still hides a series when its legend entry is clicked); every slide's
# title, chart and takeaway lie inside its 1280x720 screen; every command the report prints runs as
# printed (task count cut to 1); the report's figures are computed from the documents (a fixture
# of known figures); a step that fails is recorded with its reason and the run still ends in a
# report that names it; a report that cannot be written fails the bench; a missing tool is named
# with its package; an interrupted run stops everything it started.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh

IOSTRAT_BARE=${IOSTRAT_BARE:-build/iostrat-bare}
JSON_GET=${JSON_GET:-build/tests/json-get}
export IOSTRAT IOSTRAT_BARE JSON_GET

for prog in "$IOSTRAT" "$IOSTRAT_BARE" "$JSON_GET"; do
	if [ ! -x "$prog" ]; then
		echo "test_bench: $prog is missing: run 'make all test-tools' first" >&2
		exit 1
	fi
done
if ! command -v chromium >/dev/null 2>&1; then
	echo "test_bench: chromium is missing: install it with 'apt-get install chromium' (or 'make deps')" >&2
	exit 1
fi

# png_size FILE: "WIDTH HEIGHT" from the PNG header, or nothing when it is not a PNG.
png_size() {
	local magic
	magic=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
	[ "$magic" = 89504e470d0a1a0a ] || return 0
	od -An -tu1 -j16 -N8 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4,
		$5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'
}

# browse URL ARGS...: headless chromium, with a profile of its own.
browse() {
	local page=$1 profile
	shift
	profile=$(mktemp -d "$test_tmp/chromium.XXXXXX")
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" "$page" 2>>"$test_tmp/chromium.log"
	rm -rf "$profile"
}

# ---- a missing tool stops the bench at once, naming the package -------------------------------
mkdir -p "$test_tmp/bin"
ln -s "$(command -v dirname)" "$test_tmp/bin/dirname"
rc=0
PATH=$test_tmp/bin IOSTRAT_REPORTS=$test_tmp/none "$BASH" scripts/bench >"$test_tmp/nohf.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q "hyperfine is missing: install it with 'apt-get install hyperfine'" "$test_tmp/nohf.out"; then
	pass "without hyperfine, bench fails and names the package"
else
	fail "without hyperfine, bench fails and names the package" "exit $rc" "$(cat "$test_tmp/nohf.out")"
fi
ln -s "$(command -v hyperfine)" "$test_tmp/bin/hyperfine"
rc=0
PATH=$test_tmp/bin IOSTRAT_REPORTS=$test_tmp/none "$BASH" scripts/bench >"$test_tmp/nogp.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q "gnuplot is missing: install it with 'apt-get install gnuplot-nox'" "$test_tmp/nogp.out"; then
	pass "without gnuplot, bench fails and names the package"
else
	fail "without gnuplot, bench fails and names the package" "exit $rc" "$(cat "$test_tmp/nogp.out")"
fi
check "a failed start leaves no run folder behind" test ! -e "$test_tmp/none"

# ---- the tiny bench, through the whole pipeline -----------------------------------------------
reports=$test_tmp/reports
start=$(date +%s)
rc=0
BENCH=tiny IOSTRAT_REPORTS=$reports scripts/bench >"$test_tmp/bench.out" 2>&1 || rc=$?
took=$(($(date +%s) - start))
if [ "$rc" -eq 0 ]; then
	pass "BENCH=tiny runs the whole pipeline (${took} s, load $(cut -d' ' -f1 /proc/loadavg))"
else
	fail "BENCH=tiny runs the whole pipeline" "exit $rc" "$(tail -n 20 "$test_tmp/bench.out")"
	test_summary
	exit 1
fi
check "reports/latest points at the new run" test -f "$reports/latest/index.html"
run=$(cd "$reports/latest" && pwd -P)
check "progress shows one numbered line per step" grep -q '^\[1/[0-9]*\] ' "$test_tmp/bench.out"
check "meta.tsv says the run completed" grep -q "^status	complete$" "$run/meta.tsv"
check "the three outputs and the appendix are written" \
	test -s "$run/report.md" -a -s "$run/appendix.md" -a -s "$run/index.html" -a -s "$run/slides.html"
words=$(wc -w <"$run/report.md")
check "report.md stays within about 3000 words ($words)" test "$words" -le 3200

# every result document parses, and every step that ran says what it ran
bad=()
ndocs=0
for doc in "$run"/results/*.json "$run"/results/rounds/*.json; do
	ndocs=$((ndocs + 1))
	"$JSON_GET" "$doc" summary.wall_s >/dev/null 2>&1 || bad+=("$doc")
done
for doc in "$run"/hyperfine/*.json; do
	ndocs=$((ndocs + 1))
	"$JSON_GET" "$doc" results.0.mean >/dev/null 2>&1 || bad+=("$doc")
done
if [ "$ndocs" -ge 20 ] && [ ${#bad[@]} -eq 0 ]; then
	pass "all $ndocs result documents and exports parse"
else
	fail "every result document parses" "documents: $ndocs" "${bad[@]+"${bad[@]}"}"
fi
nocmd=$(awk -F'\t' '$5 == "ok" && $1 != "bare" && ($8 == "" || $8 == "-")' "$run/steps.tsv" | wc -l)
nrounds=$(awk -F'\t' '$1 == "round" && $5 == "ok"' "$run/steps.tsv" | wc -l)
check "every step that ran records its command in steps.tsv" test "$nocmd" -eq 0
check "each timed round keeps a result document per strategy ($nrounds)" test "$nrounds" -ge 10
check "strategies.tsv lists what the sweep could run" grep -q '^strategy	epoll	' "$run/strategies.tsv"

# every chart: a PNG of 1280x720 and an SVG of the same size, its text at least 3.5% of 720 px
nchart=0
for png in "$run"/charts/*.png; do
	chart=$(basename "$png" .png)
	nchart=$((nchart + 1))
	size=$(png_size "$png" 2>/dev/null || true)
	[ "$size" = "1280 720" ] || fail "chart $chart.png is a PNG of 1280x720" "got: ${size:-not a PNG}"
	svg=$run/charts/$chart.svg
	grep -q 'viewBox="0 0 1280 720"' "$svg" 2>/dev/null ||
		fail "chart $chart.svg is an SVG of 1280x720"
	# gnuplot's own mouse-coordinate and hypertext boxes (12 px, hidden until used) aside
	small=$(grep -o 'font-size="[0-9.]*"' "$svg" | sed 's/[^0-9.]//g' |
		awk '$1 != 12 && $1 < 25.2' | head -n 1)
	[ -z "$small" ] || fail "chart $chart.svg sets no text under 25.2 px" "found: $small px"
done
if [ "$nchart" -ge 8 ]; then
	pass "$nchart charts, each a 1280x720 PNG and SVG with text of at least 25.2 px"
else
	fail "the tiny report draws its charts" "charts: $nchart"
fi
check "the PNG and the SVG come from the same plot commands" \
	bash -c "grep -q \"eval begin('blocking')\" '$run/data/blocking.gp'"

# ---- index.html: self-contained, opened from a copy in another folder ------------------------
if grep -q -E '(href|src)="[^"#]*\.(svg|png|css|js)"' "$run/index.html"; then
	fail "index.html loads no chart, style or script from a file"
else
	pass "index.html loads no chart, style or script from a file"
fi
mkdir -p "$test_tmp/elsewhere"
cp "$run/index.html" "$test_tmp/elsewhere/"
status_line=$(browse "file://$test_tmp/elsewhere/index.html#selftest" --virtual-time-budget=5000 --dump-dom |
	grep -o '<p id="charts-status"[^>]*>' || true)
attr() { sed -n "s/.*data-$1=\"\([0-9a-z]*\)\".*/\1/p" <<<"$status_line"; }
total=$(attr total) drawn=$(attr drawn) interactive=$(attr interactive) toggled=$(attr toggled)
if [ -n "$total" ] && [ "$total" -ge 8 ] && [ "$drawn" = "$total" ]; then
	pass "index.html copied elsewhere still shows all $total charts"
else
	fail "index.html copied elsewhere still shows every chart" "status: ${status_line:-none}"
fi
check "gnuplot's script runs in every inlined chart ($interactive of $total)" test "${interactive:-0}" = "$total"
check "clicking a legend entry hides its series, in every chart with a legend ($toggled)" \
	test "${toggled:-0}" -ge $((total - 2))

# the same check fails on a broken chart
sed 's/<svg /<svg style="display:none" /' "$run/index.html" >"$test_tmp/elsewhere/broken.html"
status_line=$(browse "file://$test_tmp/elsewhere/broken.html#selftest" --virtual-time-budget=5000 --dump-dom |
	grep -o '<p id="charts-status"[^>]*>' || true)
check "the browser check sees charts that are not drawn" test "$(attr drawn)" = 0

# ---- slides.html: every slide within its 1280x720 screen --------------------------------------
browse "file://$run/slides.html#measure" --window-size=1280,720 --virtual-time-budget=5000 --dump-dom |
	sed -n '/<pre id="measure">/,/<\/pre>/p' | sed 's/<[^>]*>//g' >"$test_tmp/measure.txt"
ncharts=$(awk '$2 == "chart" && $9 == "loaded"' "$test_tmp/measure.txt" | wc -l)
nmissing=$(awk '$2 == "chart" && $9 != "loaded"' "$test_tmp/measure.txt" | wc -l)
outside=$(awk '$2 != "slide" && ($3 < 0 || $4 < 0 || $5 > 1280 || $6 > 720)' "$test_tmp/measure.txt")
offscreen=$(awk '$2 == "slide" && ($3 < 0 || $4 < 0 || $5 > $7 + 1 || $6 > $8 + 1)' "$test_tmp/measure.txt")
if [ "$ncharts" -ge 8 ] && [ "$nmissing" -eq 0 ] && [ -z "$outside" ] && [ -z "$offscreen" ]; then
	pass "every slide's chart is drawn, and its title, chart and takeaway lie within 1280x720 ($ncharts charts)"
else
	fail "every slide's chart is drawn within 1280x720" "charts: $ncharts, not loaded: $nmissing" \
		"$outside" "$offscreen"
fi
cp -r "$run" "$test_tmp/nochart"
rm "$test_tmp/nochart/charts/blocking.png"
browse "file://$test_tmp/nochart/slides.html#measure" --window-size=1280,720 --virtual-time-budget=5000 \
	--dump-dom | sed -n '/<pre id="measure">/,/<\/pre>/p' >"$test_tmp/measure-nochart.txt"
check "the slide check sees a chart that is not drawn" \
	test "$(awk '$2 == "chart" && $9 == "missing"' "$test_tmp/measure-nochart.txt" | wc -l)" -eq 1
browse "file://$run/slides.html#3" --window-size=1280,720 --screenshot="$test_tmp/slide.png" >/dev/null
check "a slide's screenshot is a 1280x720 PNG" test "$(png_size "$test_tmp/slide.png")" = "1280 720"
check "the slides move with the arrow keys" grep -q "ArrowRight" "$run/slides.html"

# ---- every command the report prints runs as printed, its task count cut to 1 -----------------
cp -r "$run" "$test_tmp/commands"
# shellcheck disable=SC2016 # the fences of the report's code blocks
sed -n '/^```sh$/,/^```$/p' "$run/report.md" | grep -v '^```' | sort -u >"$test_tmp/commands.txt"
ncmd=0
failed_cmds=()
while IFS= read -r cmd; do
	ncmd=$((ncmd + 1))
	one=$(sed -E 's/ -n [0-9]+ / -n 1 /' <<<"$cmd")
	# shellcheck disable=SC2086 # the command's words, as printed
	(cd "$test_tmp/commands" && timeout 30 $one >/dev/null 2>"$test_tmp/cmd.err") ||
		failed_cmds+=("$one: $(head -n 1 "$test_tmp/cmd.err")")
done <"$test_tmp/commands.txt"
if [ "$ncmd" -ge 5 ] && [ ${#failed_cmds[@]} -eq 0 ]; then
	pass "all $ncmd commands of report.md run as printed (with -n 1)"
else
	fail "every command of report.md runs as printed" "commands: $ncmd" "${failed_cmds[@]+"${failed_cmds[@]}"}"
fi
check "no command shows a thousands separator" bash -c "! grep -E -- '-n [0-9]+,[0-9]' '$test_tmp/commands.txt'"
check "the sleep commands carry their fixed delay" bash -c "! grep ' sleep -n [0-9]* -q' '$test_tmp/commands.txt' | grep -v -- '--delay'"

# ---- the figures are computed from the documents: a fixture of known figures ------------------
# tests/fixtures/bench/run: 1 and 10 tasks of 100 ms, three runs each (the sweep's and two
# rounds with the overhead x1.25 and x0.8, the RSS x1.01 and x0.99). threads at 10 tasks:
# 0.36 ms over the ideal -> 36 us a task (28.8-45.0); its RSS 2.02 -> 2.2 MB: 20000 B = 19.5 KiB a
# task, +-4.58; python-threads 1440 us a task: 40x threads'; blocking's RSS grows 200 B a task,
# within the +-1% of its runs: withheld.
cp -r tests/fixtures/bench/run "$test_tmp/fixture"
/usr/bin/python3 scripts/report "$test_tmp/fixture" >/dev/null 2>"$test_tmp/fixture.err" ||
	fail "the report of the fixture is written" "$(cat "$test_tmp/fixture.err")"
fx=$test_tmp/fixture/report.md
check "the cost of one task: threads' time and memory per task, with their spread" \
	grep -qF '| threads | 10 | 36.0 (28.8–45.0, 3 runs) | 19.5 ± 4.58 | 1 → 10 | rss_peak_total_bytes |' "$fx"
check "the cost of one task: a memory slope within the noise is withheld, with the reason" \
	grep -qF '| blocking | 10 | 1.00 (0.800–1.25, 3 runs) | withheld: the ranges at 1 task and at 10 tasks overlap |' "$fx"
check "the cost of one task says what its memory figure counts" \
	grep -qF "rss_peak_total_bytes: every process's peak RSS added: shared pages counted once per process" "$fx"
check "Python against C: the same overhead at the largest count both ran, and the ratio" \
	grep -qF '| sleep | python-threads | threads | 10 | 1.44 ms (1.15–1.80, 3 runs) | 36.0 µs (28.8–45.0, 3 runs) | 40× (26–63) |' "$fx"
check "the takeaway of blocking is computed from the documents" \
	grep -qF "**At 10 tasks of 100 ms each, blocking took 1.00 s (1.00–1.00, 3 runs), 10× (10–10) as long as threads: 100 ms (100–100, 3 runs).**" "$fx"
check "a skipped step is listed with its reason in the appendix" \
	grep -qF 'epoll × sleep × 10 tasks | epoll: not built in this fixture' "$test_tmp/fixture/appendix.md"
check "the appendix names whole-command and in-program times apart" \
	grep -q 'whole-command times (hyperfine: start-up, the run and exit)' "$test_tmp/fixture/appendix.md"

# ---- a step that fails: recorded with its reason, and the run goes on to a report -------------
# failing-iostrat fails "threads sleep -n 8"; and no Python here (IOSTRAT_PYTHON names nothing)
rc=0
real_iostrat=$(realpath "$IOSTRAT")
REAL_IOSTRAT=$real_iostrat IOSTRAT=tests/fixtures/bench/failing-iostrat IOSTRAT_PYTHON=/nonexistent \
	BENCH=tiny IOSTRAT_REPORTS=$test_tmp/failing scripts/bench >"$test_tmp/failing.out" 2>&1 || rc=$?
frun=$test_tmp/failing/latest
check "a failing step does not stop the bench (exit $rc)" test "$rc" -eq 0
check "steps.tsv records the failed step with its reason" \
	grep -qF "sweep	sleep	threads	8	failed	-	exit 1: iostrat: threads: pthread_create: Resource temporarily unavailable" "$frun/steps.tsv"
check "the report says which step failed and why" \
	grep -qF -- "- threads × sleep × 8 tasks: exit 1: iostrat: threads: pthread_create: Resource temporarily unavailable" "$frun/report.md"
check "bench says clearly which steps failed" grep -q '^bench: 1 steps failed' "$test_tmp/failing.out"
check "the other strategies were still measured at that count" test -f "$frun/results/sleep-epoll-n8.json"
check "without Python, its rows are skipped with the wrapper's reason" \
	grep -qF "the tutorial's Python cannot run here: iostrat-py: /nonexistent not found" "$frun/appendix.md"

# ---- no report: the bench fails and says so --------------------------------------------------
cat >"$test_tmp/bin/python3-broken" <<'PY'
#!/bin/sh
# answers the bench's check for jinja2, then fails as a broken generator would
[ "$1" = -c ] && exit 0
echo "report: cannot write" >&2
exit 1
PY
chmod +x "$test_tmp/bin/python3-broken"
rc=0
PYTHON3=$test_tmp/bin/python3-broken BENCH=tiny IOSTRAT_REPORTS=$test_tmp/noreport \
	scripts/bench >"$test_tmp/noreport.out" 2>&1 || rc=$?
check "a report that cannot be written fails the bench" test "$rc" -ne 0
check "and the bench says no report could be written" grep -q 'no report could be written' "$test_tmp/noreport.out"
check "that run does not become reports/latest" test ! -e "$test_tmp/noreport/latest"

# ---- an interrupted run stops what it started and keeps what it measured ----------------------
BENCH=tiny IOSTRAT_REPORTS=$test_tmp/interrupted scripts/bench >"$test_tmp/int.out" 2>&1 &
bench_pid=$!
for _ in $(seq 1 100); do
	grep -q '^\[5/' "$test_tmp/int.out" 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$bench_pid"
rc=0
wait "$bench_pid" || rc=$?
int_run=$(find "$test_tmp/interrupted" -mindepth 1 -maxdepth 1 -type d | head -n 1)
check "SIGTERM ends the bench with a failure status" test "$rc" -ne 0
check "the interrupted run says so in meta.tsv" grep -q '^status	interrupted by SIGTERM$' "$int_run/meta.tsv"
check "the interrupted run keeps its result documents" test -f "$int_run/results/demo-blocking.json"
check "the interrupted run does not become reports/latest" test ! -e "$test_tmp/interrupted/latest"
if pgrep -f "$test_tmp/interrupted" >/dev/null; then
	fail "no process of the interrupted run is left" "$(pgrep -af "$test_tmp/interrupted")"
else
	pass "no process of the interrupted run is left"
fi

test_summary
