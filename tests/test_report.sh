#!/usr/bin/env bash
# test_report.sh - the unit tests of the report's figure code (tests/report/test_figures.py,
# Python unittest): slopes and ratios withheld when their uncertainty exceeds them, the one
# definition of overhead, units by workload, what each memory figure counts.
set -eu
cd "$(dirname "$0")/.."
PYTHON3=${PYTHON3:-/usr/bin/python3}
if [ ! -x "$PYTHON3" ]; then
	echo "test_report: $PYTHON3 is missing: install it with 'apt-get install python3'" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$PYTHON3" tests/report/test_figures.py
