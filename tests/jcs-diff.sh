#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Differential test of JCS: random I-JSON documents from tests/jcs-diff.js
# (an independent JavaScript reference) must canonicalize to the same
# bytes with tests/jcs-canon-driver (our C code).  Exit 77 (skip) without
# node, 0 when all agree, 1 otherwise.
#
# Environment: JCS_DIFF_COUNT (300), JCS_DIFF_SEED (8785), NODE,
# JCS_CANON_DRIVER (./tests/jcs-canon-driver), srcdir (set by automake).

NODE=${NODE:-node}
count=${JCS_DIFF_COUNT:-300}
seed=${JCS_DIFF_SEED:-8785}
top_srcdir=${srcdir:-$(dirname "$0")/..}
driver=${JCS_CANON_DRIVER:-./tests/jcs-canon-driver}

if ! command -v "$NODE" >/dev/null 2>&1; then
	echo "jcs-diff: node not found, skipping"
	exit 77
fi
if [ ! -x "$driver" ]; then
	echo "jcs-diff: $driver missing (make check builds it)" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jcs-diff.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! "$NODE" "$top_srcdir/tests/jcs-diff.js" "$tmp" "$count" "$seed"; then
	echo "jcs-diff: generator failed" >&2
	exit 99
fi

pass=0
fail=0
for in in "$tmp"/*.in; do
	want=${in%.in}.want
	if "$driver" <"$in" >"$tmp/got" 2>"$tmp/err" &&
	    cmp -s "$tmp/got" "$want"; then
		pass=$((pass + 1))
		continue
	fi
	fail=$((fail + 1))
	if [ "$fail" -le 5 ]; then
		echo "FAIL: document $(basename "$in" .in) (seed $seed)"
		cat "$tmp/err"
		printf 'input: '; head -c 600 "$in"; echo
		printf 'want:  '; head -c 600 "$want"; echo
		printf 'got:   '; head -c 600 "$tmp/got"; echo
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
