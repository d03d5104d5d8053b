#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# README command 2: install what is needed, build, run the whole test suite.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/deps.sh" "$@"
"$top/scripts/build.sh"
cd "${BUILD_DIR:-$top/build}"
if ! make -j"$(nproc)" check >check.out 2>&1; then
	cat check.out
	for f in tests/*.log; do
		grep -q '^# *FAIL\|^FAIL' "$f" 2>/dev/null && { echo "== $f"; tail -n 40 "$f"; }
	done
	grep -h '^\(PASS\|FAIL\|SKIP\|ERROR\|XFAIL\|XPASS\):' tests/*.trs 2>/dev/null | sort | uniq -c
	exit 1
fi
grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):|^# ' check.out
# The CUnit summaries of every program, for the record.
cat tests/test-*.log | grep -E '^ +(suites|tests|asserts) ' | awk '
	$1 == "tests" { run += $3; passed += $4; failed += $5 }
	END { printf "CUnit: %d passed, %d failed\n", passed, failed }'
