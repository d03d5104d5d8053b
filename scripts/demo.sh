#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# README command 1: the main job end to end, everything under work/demo/.
#
# Installs what is needed and builds, then:
#  A. offline format core: a development software key, a chain of sample
#     receipts for the four use cases (AI inference, SOC 2 access, agent
#     decision, clinical decision), an evidence bundle, verification, and
#     a tampered copy caught at its seq;
#  B. the appliance: a SoftHSM2 token; receiptd started on a socket under
#     work/demo with its store there, creating chain 'evidence' with a
#     non-extractable Ed25519 key generated in the token; the four use
#     cases appended over the socket by receiptctl (the daemon names the
#     caller as submitter); one witnessed key rotation; an evidence
#     bundle exported and verified offline with the pinned key set; the
#     chain streamed into the offline verifier; the daemon stopped.
# Rerunning it starts a fresh demo directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/deps.sh"
"$top/scripts/build.sh"
build="${BUILD_DIR:-$top/build}"
ctl="$build/src/receiptctl"
events="$top/conf/sample-events.jsonl"

demo="$top/work/demo"
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"

echo "== A1. development key (software; production keys live in a token)"
"$ctl" keygen --software dev.key
echo "== A2. chain 'demo' from $events"
"$ctl" dev-chain --software dev.key --chain demo \
	--origin receiptd.demo.example --submitter demo-app "$events" chain
echo "   $(wc -l <chain/receipts.jsonl) receipts in $demo/chain/receipts.jsonl"
echo "== A3. evidence bundle of receipts 2 to 4"
"$ctl" dev-bundle --software dev.key --dir chain --from 2 --to 4 bundle.tar
echo "== A4. verify the chain against its checkpoint, keys pinned"
"$ctl" verify chain/receipts.jsonl --checkpoint chain/checkpoint.txt \
	--trust chain/keys.jwks.json
echo "== A5. verify the bundle offline, keys pinned"
"$ctl" verify-bundle bundle.tar --trust chain/keys.jwks.json
echo "== A6. a tampered copy is caught at the exact seq"
sed 's/"decline"/"approve"/' chain/receipts.jsonl >tampered.jsonl
if "$ctl" verify tampered.jsonl; then
	echo "demo: tampering went unnoticed" >&2
	exit 1
fi

echo "== B1. SoftHSM2 token under $demo/token (PINs in 0600 files)"
"$ctl" token-init --softhsm "$demo/token" --label receiptd-demo
SOFTHSM2_CONF="$demo/token/softhsm2.conf"
export SOFTHSM2_CONF
# The provider loader refuses plugins in directories others may write.
mkdir -m 0755 providers
cp "$build/keystore/.libs/provider-pkcs11.so" providers/
sock="$demo/receiptd.sock"
RECEIPTD_SOCKET="$sock"
export RECEIPTD_SOCKET
me=$(id -u)
cat >receiptd.conf <<EOF
# Written by scripts/demo.sh; conf/receiptd.conf is a production example.
[daemon]
socket = $sock
socket_mode = 0600
store = $demo/store
origin = receiptd.demo.example

[provider]
name = pkcs11
config = module=softhsm2;token=pkcs11:token=receiptd-demo;pin-file=$demo/token/user.pin
providers_dir = $demo/providers

[principals]
demo-app = uid:$me

[chain evidence]
append = demo-app
read = demo-app
admin = demo-app
checkpoint_every = 100
EOF
chmod 0600 receiptd.conf
"$build/src/receiptd" -c receiptd.conf --check-config >/dev/null

echo "== B2. start receiptd (it creates chain 'evidence' and its token key)"
"$build/src/receiptd" -c receiptd.conf 2>receiptd.log &
pid=$!
stop() {
	kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
}
trap stop EXIT
i=0
until "$ctl" status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: receiptd did not start; its log:" >&2
		cat receiptd.log >&2
		exit 1
	fi
	sleep 0.1
done
"$ctl" status

echo "== B3. the four use cases, appended over the socket"
"$ctl" append --chain evidence --type ai.inference --tag credit-scoring \
	--tag model:risk-v7 '{"model":"risk-v7","model_version":"7.2.1","input_sha256":"9f2c4e1a7b3d5f60812e4a9c0b7d3e5f1a2c4b6d8e0f1a3c5b7d9e1f3a5c7b9d","decision":"decline","score":0.183}'
"$ctl" append --chain evidence --type soc2.access --tag soc2 --tag CC6.1 \
	'{"actor":"alice@example.com","action":"read","resource":"s3://prod-customer-exports/2026-11.csv","result":"allowed","mfa":true}'
"$ctl" append --chain evidence --type agent.decision --tag agent:procure-bot \
	'{"agent":"procure-bot","run_id":"run-5c1f","step":4,"decision":"create a purchase order","policy":"auto-approve-under-2000"}'
"$ctl" append --chain evidence --type agent.tool_call --tag agent:procure-bot \
	'{"agent":"procure-bot","run_id":"run-5c1f","step":5,"tool":"purchase_order.create","arguments":{"vendor":"ACME GmbH","amount_eur":1250.5}}'
"$ctl" append --chain evidence --type clinical.decision --tag triage \
	'{"system":"triage-assist","patient_data_sha256":"4b1d3c7e9a2f60815e3d7c9b1a0f2e4d6c8b0a1f3e5d7c9b2a4f6e8d0c1b3a5f","recommendation":"ESI-2","clinician_override":false}'

echo "== B4. witnessed key rotation (the new key is generated in the token)"
"$ctl" rotate --chain evidence --reason "scheduled rotation" \
	--operator alice --witness bob --witness carol
"$ctl" append --chain evidence --type soc2.access --tag soc2 \
	'{"actor":"bob@example.com","action":"login","result":"allowed","mfa":true}'

echo "== B5. export an evidence bundle and verify it offline, keys pinned"
"$ctl" keys >keys.jwks.json
"$ctl" export --chain evidence --out evidence.tar
"$ctl" verify-bundle evidence.tar --trust keys.jwks.json
echo "== B6. stream the chain over RPC into the offline verifier"
"$ctl" verify --chain evidence --trust keys.jwks.json

echo "== B7. stop receiptd"
stop
trap - EXIT
echo "demo: done; files are in $demo"
