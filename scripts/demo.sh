#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# README command 1: the main job end to end, offline part.
#
# Installs what is needed, builds, makes a development software key under
# work/demo/, writes a chain of sample receipts for the four use cases
# (AI inference, SOC 2 access, agent decision, clinical decision), writes
# an evidence bundle, and verifies the chain and the bundle.  Rerunning it
# starts a fresh demo directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/deps.sh"
"$top/scripts/build.sh"
ctl="${BUILD_DIR:-$top/build}/src/receiptctl"

demo="$top/work/demo"
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"

echo "== development key (software; a token holds the key in production)"
"$ctl" keygen --software dev.key
echo "== chain 'demo' from $top/conf/sample-events.jsonl"
"$ctl" dev-chain --software dev.key --chain demo \
	--origin receiptd.demo.example --submitter demo-app \
	"$top/conf/sample-events.jsonl" chain
echo "   $(wc -l <chain/receipts.jsonl) receipts in $demo/chain/receipts.jsonl"
echo "== evidence bundle of receipts 2 to 4"
"$ctl" dev-bundle --software dev.key --dir chain --from 2 --to 4 bundle.tar
echo "== verify the chain against its checkpoint, keys pinned"
"$ctl" verify chain/receipts.jsonl --checkpoint chain/checkpoint.txt \
	--trust chain/keys.jwks.json
echo "== verify the bundle offline, keys pinned"
"$ctl" verify-bundle bundle.tar --trust chain/keys.jwks.json
echo "== a tampered copy is caught at the exact seq"
sed 's/"decline"/"approve"/' chain/receipts.jsonl >tampered.jsonl
if "$ctl" verify tampered.jsonl; then
	echo "demo: tampering went unnoticed" >&2
	exit 1
fi
echo "demo: done; files are in $demo"
