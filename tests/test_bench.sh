#!/usr/bin/env bash
# test_bench.sh - make bench end to end, in its tiny size (a few seconds): the sweep, the charts
# and the report. Protects: every result document parses; every chart is a real image of the
# size asked; the report links only to files that exist; a real browser shows every chart (and
# the check fails on a broken image); the report's findings are computed from the figures; a
# missing tool is named with its package; an interrupted run stops everything it started and
# keeps what it measured; the tutorial's Python runs beside the C strategies, is compared with them
# by computed ratios, and is skipped with the reason when its interpreter is missing.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh

IOSTRAT_BARE=${IOSTRAT_BARE:-build/iostrat-bare}
IOSTRAT_REPORT=${IOSTRAT_REPORT:-build/iostrat-report}
export IOSTRAT IOSTRAT_BARE IOSTRAT_REPORT

for prog in "$IOSTRAT" "$IOSTRAT_BARE" "$IOSTRAT_REPORT"; do
	if [ ! -x "$prog" ]; then
		echo "test_bench: $prog is missing: run 'make' first" >&2
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

# browse FILE ARGS...: headless chromium on a file of a report, with a profile of its own.
browse() {
	local page=$1 profile
	shift
	profile=$(mktemp -d "$test_tmp/chromium.XXXXXX")
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" "file://$page" 2>>"$test_tmp/chromium.log"
}

# charts_loaded PAGE: "LOADED TOTAL" as the page's own script counted them in the browser.
charts_loaded() {
	browse "$1" --virtual-time-budget=5000 --dump-dom |
		sed -n 's/.*id="charts-status" data-loaded="\([-0-9]*\)" data-total="\([-0-9]*\)".*/\1 \2/p'
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
	pass "BENCH=tiny runs the whole pipeline (${took} s)"
else
	fail "BENCH=tiny runs the whole pipeline" "exit $rc" "$(tail -n 20 "$test_tmp/bench.out")"
	test_summary
	exit 1
fi
check "BENCH=tiny takes at most 20 s" test "$took" -le 20
check "reports/latest points at the new run" test -f "$reports/latest/index.html"
run=$(cd "$reports/latest" && pwd -P)
check "progress shows one numbered line per step" grep -q '^\[1/[0-9]*\] ' "$test_tmp/bench.out"
check "meta.tsv says the run completed" grep -q "^status	complete$" "$run/meta.tsv"

# every result document parses (jansson), and says what was run
bad=()
ndocs=0
for doc in "$run"/results/*.json; do
	ndocs=$((ndocs + 1))
	"$IOSTRAT_REPORT" get "$doc" summary.wall_s >/dev/null 2>&1 || bad+=("$doc")
done
for doc in "$run"/hyperfine/*.json; do
	ndocs=$((ndocs + 1))
	"$IOSTRAT_REPORT" get "$doc" results.0.mean >/dev/null 2>&1 || bad+=("$doc")
done
for doc in "$run"/bare/*.json; do
	ndocs=$((ndocs + 1))
	"$IOSTRAT_REPORT" get "$doc" per_op_s >/dev/null 2>&1 || bad+=("$doc")
done
if [ "$ndocs" -ge 10 ] && [ ${#bad[@]} -eq 0 ]; then
	pass "all $ndocs result documents and exports parse"
else
	fail "every result document parses" "documents: $ndocs" "${bad[@]+"${bad[@]}"}"
fi

# every chart is there, a real PNG of at least 1280x720 and an SVG of 1280 wide
for chart in timeline-demo wall-sleep memory-sleep overhead throughput-sleep hyperfine-sleep; do
	size=$(png_size "$run/charts/$chart.png" 2>/dev/null || true)
	read -r width height <<<"${size:-0 0}"
	if [ "$width" -eq 1280 ] && [ "$height" -ge 720 ]; then
		pass "chart $chart.png is a PNG of ${width}x$height"
	else
		fail "chart $chart.png is a PNG of at least 1280x720" "got: ${size:-not a PNG}"
	fi
	if grep -q '<svg' "$run/charts/$chart.svg" 2>/dev/null &&
		grep -q 'width="1280"' "$run/charts/$chart.svg"; then
		pass "chart $chart.svg is an SVG 1280 wide"
	else
		fail "chart $chart.svg is an SVG 1280 wide"
	fi
done

# the report links only to files that exist
missing=()
nlinks=0
while IFS= read -r link; do
	nlinks=$((nlinks + 1))
	[ -f "$run/$link" ] || missing+=("index.html: $link")
done < <(grep -o -E '(href|src)="[^"]*"' "$run/index.html" | sed -E 's/^(href|src)="(.*)"$/\2/')
while IFS= read -r link; do
	nlinks=$((nlinks + 1))
	[ -f "$run/$link" ] || missing+=("report.md: $link")
done < <(grep -o -E '\]\([^)]*\)' "$run/report.md" | sed -E 's/^\]\((.*)\)$/\1/')
if [ "$nlinks" -ge 20 ] && [ ${#missing[@]} -eq 0 ]; then
	pass "all $nlinks links of the report lead to files of the run"
else
	fail "the report links only to files that exist" "links: $nlinks" "${missing[@]+"${missing[@]}"}"
fi
if grep -q -E '(href|src)="(https?:)?//' "$run/index.html"; then
	fail "index.html is self-contained (nothing fetched from elsewhere)"
else
	pass "index.html is self-contained (nothing fetched from elsewhere)"
fi

# ---- the tutorial's Python, beside the C strategies --------------------------------------------
# --list's trailer (where the Python programs are) is not a strategy
check "the trailer of iostrat --list is not taken for a strategy" \
	bash -c "grep '^strategies	' '$run/meta.tsv' | grep -qv -e \"The\" -e \"tutorial\""
pydoc=$run/results/sleep-python-asyncio-n8.json
check "the tiny bench ran the tutorial's Python and its result document parses" \
	test "$("$IOSTRAT_REPORT" get "$pydoc" strategy 2>/dev/null)" = python-asyncio
check "the Python document says its heap is tracemalloc's" \
	test "$("$IOSTRAT_REPORT" get "$pydoc" summary.heap_source 2>/dev/null)" = tracemalloc
check "hyperfine timed the Python row in the same rounds as C" \
	grep -q '"command": "sleep/python-asyncio/8"' "$run/hyperfine/sleep-n8-r1.json"
check "the wall chart's data table has the Python row" grep -q '^8 ' "$run/data/wall-sleep-python-asyncio.dat"
check "the memory chart's data table has the Python row" grep -q '^8 ' "$run/data/memory-sleep-python-asyncio.dat"
check "the charts are told to draw it" grep -q '^timed_sleep = ".*python-asyncio' "$run/data/vars.gp"
check "the report has the section 'C and the tutorial's Python'" \
	grep -q "^## 7. C and the tutorial's Python" "$run/report.md"
# the overhead ratio in that section is python-asyncio's (wall - ideal) / tasks over epoll's
c_doc=$run/results/sleep-epoll-n8.json
py_over=$("$IOSTRAT_REPORT" get "$pydoc" summary.overhead_s)
c_over=$("$IOSTRAT_REPORT" get "$c_doc" summary.overhead_s)
expected=$(awk -v p="$py_over" -v c="$c_over" 'BEGIN {
	if (p <= 0 || c <= 0) { print "–"; exit }
	r = p / c
	if (r >= 10) printf "%.0f×\n", r; else if (r >= 1) printf "%.1f×\n", r; else printf "%.2g×\n", r }')
got=$(grep '^| python-asyncio | epoll | 8 | overhead per task |' "$run/report.md" | awk -F' [|] ' '{ sub(/ [|]$/, "", $7); print $7 }')
if [ -n "$got" ] && [ "${got#"$expected"}" != "$got" ]; then
	pass "the Python/C overhead ratio is computed from the two documents ($got)"
else
	fail "the Python/C overhead ratio is computed from the two documents" "expected $expected" "got: ${got:-no row}"
fi

# ---- a real browser shows every chart; the same check fails on a broken image -----------------
counted=$(charts_loaded "$run/index.html")
read -r loaded total <<<"${counted:--1 -2}"
if [ "$loaded" -ge 6 ] && [ "$loaded" = "$total" ]; then
	pass "chromium shows all $loaded charts of index.html"
else
	fail "chromium shows every chart of index.html" "loaded/total: ${counted:-no marker}"
fi
browse "$run/index.html" --window-size=1280,2000 --screenshot="$test_tmp/shot.png" >/dev/null
size=$(png_size "$test_tmp/shot.png" 2>/dev/null || true)
check "the screenshot is a PNG of 1280x2000" test "$size" = "1280 2000"

cp -r "$run" "$test_tmp/broken"
sed -i '0,/src="charts\/wall-sleep.svg"/s//src="charts\/no-such-chart.svg"/' "$test_tmp/broken/index.html"
counted=$(charts_loaded "$test_tmp/broken/index.html")
read -r loaded total <<<"${counted:--1 -1}"
if [ "$loaded" -ge 0 ] && [ "$loaded" -lt "$total" ]; then
	pass "the browser check sees a broken image ($loaded of $total loaded)"
else
	fail "the browser check sees a broken image" "loaded/total: ${counted:-no marker}"
fi

# ---- the findings are computed from the figures -----------------------------------------------
# The fixture's hyperfine exports put blocking at 1.01 s and threads at 102 ms (medians) for 10
# tasks of 100 ms: 9.9x. Per task beyond the ideal: blocking (10 ms - 2 ms) / 9 = 889 us,
# threads (2 ms - 1.5 ms) / 9 = 55.6 us; the fake's threads cost 20,000 bytes of RSS each.
cp -r tests/fixtures/bench/run "$test_tmp/fixture"
mkdir -p "$test_tmp/fixture/data" "$test_tmp/fixture/charts"
"$IOSTRAT_REPORT" data "$test_tmp/fixture"
for term in pngcairo svg; do
	gnuplot -e "dir='$test_tmp/fixture'; term='$term'" scripts/charts.gp 2>>"$test_tmp/gnuplot.log"
done
"$IOSTRAT_REPORT" report "$test_tmp/fixture"
findings=$(sed -n '/^## What this shows/,/^## The machine/p' "$test_tmp/fixture/report.md")
check "speedup is blocking's median over threads' median" \
	grep -q 'blocking took 1.01 s (median); threads 102 ms, 9.9× faster' <<<"$findings"
check "time per task is the slope of (median - ideal)" \
	grep -q 'blocking 889 µs; threads 55.6 µs (the bare thread alone: 30 µs)' <<<"$findings"
check "memory per task is the slope of the total RSS" \
	grep -q 'threads 19.5 KiB resident' <<<"$findings"
check "a skipped step is listed with its reason" \
	grep -q 'epoll: not built in this fixture' "$test_tmp/fixture/report.md"
# The fixture's python-threads: (wall - ideal) 14.4 ms over 10 tasks against threads' 0.36 ms;
# heap 20,000 -> 38,000 bytes (tracemalloc) against 27,775 -> 30,475; RSS 30.0 -> 30.9 MB
# against 2.02 -> 2.2 MB, from 1 to 10 tasks.
section=$(sed -n "/^## 7. C and the tutorial's Python/,/^## Skipped/p" "$test_tmp/fixture/report.md")
check "Python/C: overhead per task at the largest count both reached, and its ratio" \
	grep -qF '| python-threads | threads | 10 | overhead per task | 1.44 ms | 36 µs | 40× |' <<<"$section"
check "Python/C: heap per task, labelled as tracemalloc's against every malloc" \
	grep -qF '| python-threads | threads | 10 | heap per task (Python: tracemalloc; C: every malloc) | 2.0 KiB | 300 bytes | 6.7× |' <<<"$section"
check "Python/C: resident memory per task, the slope from 1 to 10 tasks" \
	grep -qF '| python-threads | threads | 10 | resident memory (RSS) per task | 97.7 KiB | 19.5 KiB | 5.0× |' <<<"$section"
check "Python/C: the section says the two heaps count different things" \
	grep -q 'The two heaps do not count the same thing' <<<"$section"
check "Python/C: a Python strategy left out is named there with its reason" \
	grep -qF "python-asyncio: skipped – the tutorial's Python cannot run here: not in this fixture" <<<"$section"
check "What this shows: one computed sentence on Python against C" \
	grep -qF "python-threads (10 tasks) 40× threads' overhead per task and 5.0× its resident memory per task" <<<"$findings"
check "the memory table labels tracemalloc's heap" \
	grep -qF '| python-threads | 10 | 37.1 KiB (tracemalloc) |' "$test_tmp/fixture/report.md"

# ---- what this machine cannot run is left out, with its reason in the report -----------------
# No Python: iostrat-py runs the interpreter IOSTRAT_PYTHON names (default /usr/bin/python3) and
# exits 2 naming the package when it is not there; and uring refused, where it is listed.
rc=0
IOSTRAT_PYTHON=/nonexistent IOSTRAT_URING_DISABLE=EPERM BENCH=tiny IOSTRAT_REPORTS=$test_tmp/unavailable \
	scripts/bench >"$test_tmp/unavailable.out" 2>&1 || rc=$?
unavail=$test_tmp/unavailable/latest
check "what cannot run here does not stop the bench" test "$rc" -eq 0
check "without Python, its rows are skipped with the wrapper's reason in the Python section" \
	grep -qF "python-asyncio: skipped – the tutorial's Python cannot run here: iostrat-py: /nonexistent not found: install the Debian package 'python3' (make deps)" \
	"$unavail/report.md"
check "without Python, the Python section says no pair was measured" \
	grep -q 'No pair of the tutorial.s Python and C was measured in this run' "$unavail/report.md"
check "without Python, there is no Python result document" \
	bash -c "! ls '$unavail/results/' | grep -q python"
check "without Python, the C strategies are still measured" test -f "$unavail/results/sleep-epoll-n8.json"
if "$IOSTRAT" --list | grep -q '^  uring '; then
	check "an unavailable strategy is skipped with its reason in the report" \
		grep -q 'uring is unavailable here: io\\_uring\\_setup is refused' "$unavail/report.md"
	check "an unavailable strategy has no result document" \
		bash -c "! ls '$unavail/results/' | grep -q uring"
fi

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
