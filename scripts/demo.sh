#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# README command 1: the main job end to end, everything under work/demo/.
#
# Installs what is needed and builds, then:
#  A. offline format core: a development software key, a chain of sample
#     receipts for the four use cases (AI inference, SOC 2 access, agent
#     decision, clinical decision), an evidence bundle, verification, and
#     a tampered copy caught at its seq;
#  B. keys in a token: a SoftHSM2 token, a chain whose key never leaves
#     it, the four sample events appended, one witnessed key rotation,
#     a checkpoint guarded by the token's anti-rollback anchor, and
#     offline verification with the exported, pinned key set.
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
pcfg="module=softhsm2;token=pkcs11:token=receiptd-demo;pin-file=$demo/token/user.pin"
adm() {
	"$ctl" "$@" --store "$demo/store" --provider pkcs11 \
		--provider-config "$pcfg" --providers-dir "$demo/providers"
}
echo "== B2. chain 'ops' with a non-extractable Ed25519 key in the token"
adm chain-create --chain ops --origin receiptd.demo.example >/dev/null
echo "== B3. the four sample events"
adm append --chain ops --events "$events" --submitter demo-app >/dev/null
echo "== B4. witnessed key rotation"
adm rotate --chain ops --reason "scheduled rotation" --operator alice \
	--witness bob --witness carol --admin alice >/dev/null
echo "== B5. checkpoint (the token's anchor moves with it)"
adm checkpoint --chain ops >token-checkpoint.txt
adm anchor-check --chain ops
echo "== B6. export and verify offline with the pinned key set"
"$ctl" keys --store "$demo/store" >token-keys.jwks.json
"$ctl" export-chain --store "$demo/store" --chain ops --out token-receipts.jsonl
"$ctl" verify token-receipts.jsonl --checkpoint token-checkpoint.txt \
	--trust token-keys.jwks.json
echo "demo: done; files are in $demo"
