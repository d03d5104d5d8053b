/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The anti-rollback anchor (SPEC 5): the token object holding the size
 * and root of a chain's latest checkpoint, its byte format, and the
 * consistency proof that the store extends it.  See anchor.h for the
 * format and for why the token is written after the store.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "anchor.h"
#include "checkpoint.h"
#include "encode.h"
#include "mem.h"

#define MAGIC     "RCPTANC"
#define MAGIC_LEN 7
#define PREFIX    "receiptd-anchor"
#define HASH_HEX  48 /* hex characters of the hashed name form */

int
rcpt_anchor_name(const char *chain, char out[RCPT_ANCHOR_NAME_MAX + 1])
{
	uint8_t h[RCPT_HASH_LEN];
	size_t len;

	if (chain == NULL || !rcpt_receipt_chain_is_valid(chain))
		return RCPT_E_INVAL;
	len = strlen(chain);
	if (sizeof(PREFIX) + len <= RCPT_ANCHOR_NAME_MAX) {
		(void)snprintf(
		    out, RCPT_ANCHOR_NAME_MAX + 1, "%s.%s", PREFIX, chain);
		return RCPT_OK;
	}
	/* Too long for the provider: a name from the chain's hash. */
	if (EVP_Digest(chain, len, h, NULL, EVP_sha256(), NULL) != 1)
		return RCPT_E_INTERNAL;
	memcpy(out, PREFIX ":", sizeof(PREFIX));
	rcpt_hex_encode(h, HASH_HEX / 2, out + sizeof(PREFIX));
	return RCPT_OK;
}

int
rcpt_anchor_encode(
    const struct rcpt_anchor *a, uint8_t *buf, size_t cap, size_t *len_out)
{
	size_t len, i;

	*len_out = 0;
	if (a == NULL || !rcpt_receipt_chain_is_valid(a->chain) || a->size == 0)
		return RCPT_E_INVAL;
	len = strlen(a->chain);
	if (buf == NULL || cap < 49 + len)
		return RCPT_E_INVAL;
	memcpy(buf, MAGIC, MAGIC_LEN);
	buf[7] = RCPT_ANCHOR_VERSION;
	buf[8] = (uint8_t)len;
	memcpy(buf + 9, a->chain, len);
	for (i = 0; i < 8; i++)
		buf[9 + len + i] = (uint8_t)(a->size >> (56 - 8 * i));
	memcpy(buf + 17 + len, a->root, RCPT_HASH_LEN);
	*len_out = 49 + len;
	return RCPT_OK;
}

int
rcpt_anchor_decode(const uint8_t *buf, size_t len, struct rcpt_anchor *out,
    struct rcpt_diag *diag)
{
	size_t n, i;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || len < 9 || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: not a receiptd anchor record");
	if (buf[7] != RCPT_ANCHOR_VERSION)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: version: only version %d is known",
		    RCPT_ANCHOR_VERSION);
	n = buf[8];
	if (n == 0 || n > RCPT_CHAIN_MAX || len != 49 + n)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: length: must be 49 bytes plus the chain name");
	memcpy(out->chain, buf + 9, n);
	out->chain[n] = '\0';
	if (!rcpt_receipt_chain_is_valid_len((const char *)buf + 9, n)) {
		memset(out, 0, sizeof(*out));
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: chain: must be a chain name");
	}
	for (i = 0; i < 8; i++)
		out->size = out->size << 8 | buf[9 + n + i];
	if (out->size == 0) {
		memset(out, 0, sizeof(*out));
		return rcpt_diag(
		    diag, RCPT_E_CORRUPT, "anchor: size: must be at least 1");
	}
	memcpy(out->root, buf + 17 + n, RCPT_HASH_LEN);
	return RCPT_OK;
}

int
rcpt_anchor_read(struct rcpt_ks_provider *ks, const char *chain,
    struct rcpt_anchor *out, struct rcpt_diag *diag)
{
	uint8_t buf[RCPT_ANCHOR_LEN_MAX];
	char name[RCPT_ANCHOR_NAME_MAX + 1];
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (rcpt_anchor_name(chain, name) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	r = rcpt_ks_data_read(ks, name, buf, sizeof(buf), &len, diag);
	if (r == RCPT_E_TOO_LARGE)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: length: larger than any version 1 record");
	if (r != RCPT_OK)
		return r;
	if ((r = rcpt_anchor_decode(buf, len, out, diag)) != RCPT_OK)
		return r;
	if (strcmp(out->chain, chain) != 0) {
		memset(out, 0, sizeof(*out));
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: chain: the token object names another chain");
	}
	return RCPT_OK;
}

int
rcpt_anchor_write(struct rcpt_ks_provider *ks, const struct rcpt_anchor *a,
    struct rcpt_diag *diag)
{
	uint8_t buf[RCPT_ANCHOR_LEN_MAX];
	char name[RCPT_ANCHOR_NAME_MAX + 1];
	size_t len;

	if (a == NULL || rcpt_anchor_name(a->chain, name) != RCPT_OK ||
	    rcpt_anchor_encode(a, buf, sizeof(buf), &len) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "anchor: needs a chain name and a size of at least 1");
	return rcpt_ks_data_write(ks, name, buf, len, diag);
}

/* Leaves of a snapshot, with a missing one reported as corruption. */
static int
store_root(struct rcpt_store_snap *snap, uint64_t n,
    uint8_t root[RCPT_HASH_LEN], struct rcpt_diag *diag)
{
	int r;

	r = rcpt_merkle_root(rcpt_store_leaf, snap, n, root);
	if (r == RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "leaves: the store lacks leaves below its recorded size");
	return r;
}

/* The consistency proof from the anchor @p a to the store's @p n leaves. */
static int
prove_extends(struct rcpt_store_snap *snap, const struct rcpt_anchor *a,
    uint64_t n, const uint8_t root[RCPT_HASH_LEN], struct rcpt_diag *diag)
{
	uint8_t path[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN];
	size_t np = 0;
	int r;

	r = rcpt_merkle_consistency_path(
	    rcpt_store_leaf, snap, a->size, n, path, &np);
	if (r == RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "leaves: the store lacks leaves below its recorded size");
	if (r != RCPT_OK)
		return r;
	r = rcpt_merkle_verify_consistency(a->size, n, a->root, root,
	    (const uint8_t(*)[RCPT_HASH_LEN])path, np);
	if (r == RCPT_E_PROOF)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store of size %" PRIu64
		    " does not extend the anchor of size %" PRIu64
		    ": the store was replaced or edited",
		    a->chain, n, a->size);
	return r;
}

int
rcpt_anchor_check(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const char *chain, struct rcpt_anchor_state *st, struct rcpt_diag *diag)
{
	struct rcpt_anchor a;
	struct rcpt_store_chain rec;
	struct rcpt_store_snap *snap = NULL;
	struct rcpt_anchor_state mine;
	struct rcpt_diag tmp;
	int r = RCPT_E_INTERNAL, fresh;

	memset(&mine, 0, sizeof(mine));
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (s == NULL || ks == NULL || chain == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	rcpt_diag_clear(&tmp);
	r = rcpt_anchor_read(ks, chain, &a, &tmp);
	if (r != RCPT_OK && r != RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
	fresh = r == RCPT_E_NOT_FOUND;
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_chain(s, chain, &rec, &tmp);
	if (r == RCPT_E_NOT_FOUND && !fresh)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has 0 receipts but the token's anchor "
		    "records %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, a.size);
	if (r != RCPT_OK)
		return rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
	if (!fresh && rec.size < a.size)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has %" PRIu64
		    " receipts but the token's anchor records %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, rec.size, a.size);
	/*
	 * Receipts and leaves are append-only, so the snapshot, taken after
	 * the record was read, holds at least rec.size leaves.
	 */
	if ((r = rcpt_store_snap_begin(s, chain, &snap, diag)) != RCPT_OK)
		goto out;
	if ((r = store_root(snap, rec.size, mine.store_root, diag)) != RCPT_OK)
		goto out;
	if (!fresh && (r = prove_extends(snap, &a, rec.size, mine.store_root,
	                   diag)) != RCPT_OK)
		goto out;
	mine.fresh = fresh;
	mine.anchor_size = fresh ? 0 : a.size;
	mine.store_size = rec.size;
	memcpy(mine.origin, rec.origin, sizeof(mine.origin));
	memcpy(mine.active_kid, rec.active_kid, sizeof(mine.active_kid));
	if (st != NULL)
		*st = mine;
	r = RCPT_OK;
out:
	rcpt_store_snap_end(snap);
	return r;
}

int
rcpt_anchor_checkpoint(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, char **note_out,
    struct rcpt_diag *diag)
{
	struct rcpt_anchor_state st;
	struct rcpt_anchor a;
	struct rcpt_store_txn *t = NULL;
	char *note = NULL;
	int r = RCPT_E_INTERNAL;

	if (note_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	*note_out = NULL;
	if (signer == NULL || signer->sign_msg == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "signer: missing");
	if ((r = rcpt_anchor_check(s, ks, chain, &st, diag)) != RCPT_OK)
		return r;
	if (strcmp(signer->kid, st.active_kid) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "signer: a checkpoint is signed by the chain's active key");
	r = rcpt_checkpoint_sign(
	    st.origin, chain, st.store_size, st.store_root, signer, &note);
	if (r != RCPT_OK) {
		(void)rcpt_diag(diag, r, "checkpoint: signing failed");
		goto out;
	}
	/* Store first: the anchor must never describe what is not durable. */
	if ((r = rcpt_store_txn_begin(s, &t, diag)) != RCPT_OK)
		goto out;
	r = rcpt_store_put_checkpoint(t, chain, st.store_size, note, diag);
	if (r != RCPT_OK)
		goto out;
	r = rcpt_store_txn_commit(t, diag);
	t = NULL; /* gone either way */
	if (r != RCPT_OK)
		goto out;
	memset(&a, 0, sizeof(a));
	memcpy(a.chain, chain, strlen(chain) + 1);
	a.size = st.store_size;
	memcpy(a.root, st.store_root, RCPT_HASH_LEN);
	if ((r = rcpt_anchor_write(ks, &a, diag)) != RCPT_OK)
		goto out;
	*note_out = note;
	note = NULL;
	r = RCPT_OK;
out:
	rcpt_store_txn_abort(t);
	free(note);
	return r;
}
