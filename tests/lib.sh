# lib.sh - what the end-to-end tests share: a counter of checks, a private temp folder removed
# on exit, and IOSTRAT (the binary under test, build/iostrat unless the caller names another).
# shellcheck shell=bash

IOSTRAT=${IOSTRAT:-build/iostrat}
tests_passed=0
tests_failed=0
test_tmp=$(mktemp -d "${TMPDIR:-/tmp}/iostrat-test.XXXXXX")
test_cleanups=()

test_finish() {
	local cleanup
	for cleanup in "${test_cleanups[@]+"${test_cleanups[@]}"}"; do
		eval "$cleanup" || true
	done
	rm -rf "$test_tmp"
}
trap test_finish EXIT
trap 'exit 130' INT TERM

# pass/fail "what the check protects"
pass() {
	tests_passed=$((tests_passed + 1))
	echo "ok   - $1"
}
fail() {
	tests_failed=$((tests_failed + 1))
	echo "FAIL - $1"
	if [ $# -gt 1 ]; then
		printf '       %s\n' "${@:2}"
	fi
}

# check "what it protects" command...: passes when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# run_program PROGRAM NAME ARGS...: PROGRAM ARGS with --json $test_tmp/NAME.json; stdout in
# $test_tmp/NAME.out, stderr in NAME.err, the exit status in $status. A run that hangs is
# stopped after 60 s.
run_program() {
	local program=$1 name=$2
	shift 2
	timeout 60 "$program" "$@" --json "$test_tmp/$name.json" >"$test_tmp/$name.out" \
		2>"$test_tmp/$name.err"
	# shellcheck disable=SC2034 # read by the caller
	status=$?
}

# The closing line every runner prints, and the exit status.
test_summary() {
	echo "$tests_passed passed, $tests_failed failed"
	[ "$tests_failed" -eq 0 ]
}

# A value from a JSON document: json_get FILE summary.wall_s | tasks.# | tasks.*.pid
json_get() {
	"${JSON_GET:-build/tests/json-get}" "$1" "$2"
}
