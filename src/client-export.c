/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libreceiptclient's export (SPEC 7, 9): the daemon signs the manifest
 * and sends every file of the bundle but receipts.jsonl; the client
 * fetches the receipts with `range`, checks them against the hash the
 * manifest signs, and writes the ustar through bundle.c, which also
 * checks that the manifest describes every other file.  Nothing is
 * written unless all of it agrees.
 *
 * It does not check the manifest's signature or the receipts'
 * (rcpt_bundle_verify() does, with keys the caller trusts): a daemon
 * that lies produces a bundle that fails verification, never a
 * different one that passes.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "client.h"
#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"

/* The export answer, borrowed from its parsed result. */
struct answer {
	char *manifest; /* JCS of the manifest object; owned */
	size_t manifest_len;
	const char *sig_hex; /* 128 hex digits */
	const char *created;
	uint8_t receipts_sha256[RCPT_HASH_LEN];
	const char *keys;
	size_t keys_len;
	const char *checkpoint;
	size_t checkpoint_len;
	const char *proofs; /* NULL when the bundle needs none */
	size_t proofs_len;
};

/* Member @p name of @p o as a string, or NULL. */
static const char *
get_string(const json_object *o, const char *name, size_t *len_out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	if (len_out != NULL)
		*len_out = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Reads the members of the export result @p res into @p a. */
static int
read_answer(const json_object *res, struct answer *a, struct rcpt_diag *diag)
{
	json_object *m, *files, *proofs;
	const char *h;
	size_t len = 0;
	int r;

	if (!json_object_is_type(res, json_type_object) ||
	    !json_object_object_get_ex(res, "manifest", &m) ||
	    !json_object_is_type(m, json_type_object))
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "export: result.manifest: missing or not an object");
	if ((a->sig_hex = get_string(res, "manifest_sig", &len)) == NULL ||
	    len != RCPT_BUNDLE_SIG_TEXT_LEN - 1)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "export: result.manifest_sig: must be 128 hex digits");
	if ((a->keys = get_string(res, "keys", &a->keys_len)) == NULL ||
	    (a->checkpoint =
	            get_string(res, "checkpoint", &a->checkpoint_len)) == NULL)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "export: result.keys and result.checkpoint: must be "
		    "strings");
	if (!json_object_object_get_ex(res, "proofs", &proofs) ||
	    (proofs != NULL && !json_object_is_type(proofs, json_type_string)))
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "export: result.proofs: must be a string or null");
	if (proofs != NULL) {
		a->proofs = json_object_get_string(proofs);
		a->proofs_len = (size_t)json_object_get_string_len(proofs);
	}
	if ((a->created = get_string(m, "created", NULL)) == NULL ||
	    !json_object_object_get_ex(m, "files", &files) ||
	    (h = get_string(files, "receipts.jsonl", &len)) == NULL ||
	    rcpt_hex_decode(h, len, a->receipts_sha256,
	        sizeof(a->receipts_sha256)) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "export: manifest: needs created and "
		    "files[\"receipts.jsonl\"] (SPEC 7)");
	/* The answer is JCS, so this is manifest.json byte for byte. */
	if ((r = rcpt_jcs_serialize(m, &a->manifest, &a->manifest_len, diag)) !=
	    RCPT_OK)
		return r == RCPT_E_NOMEM ? r : RCPT_E_PARSE;
	return RCPT_OK;
}

/* Appends receipts @p from to @p to to @p out, a page at a time. */
static int
fetch_receipts(struct rcpt_client *c, const char *chain, uint64_t from,
    uint64_t to, struct rcpt_buf *out, struct rcpt_diag *diag)
{
	char *lines = NULL;
	size_t len = 0;
	uint64_t seq = from, want, n = 0;
	int r = RCPT_OK;

	while (r == RCPT_OK && seq <= to) {
		want = to - seq + 1;
		if (want > RCPT_CLIENT_RANGE_MAX)
			want = RCPT_CLIENT_RANGE_MAX;
		if ((r = rcpt_client_range(c, chain, seq, want, &lines, &len,
		         &n, diag)) != RCPT_OK)
			break;
		if (n == 0)
			r = rcpt_diag(diag, RCPT_E_CORRUPT,
			    "export: range ended before last_seq although "
			    "the manifest covers it");
		else
			r = rcpt_buf_append(out, lines, len);
		rcpt_freezero(lines, len);
		lines = NULL;
		seq += n;
	}
	return r;
}

static int
sha256(const void *p, size_t n, uint8_t out[RCPT_HASH_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1)
		return RCPT_E_INTERNAL;
	return RCPT_OK;
}

/* {"chain","from","to"}; caller puts it. */
static int
export_params(const char *chain, uint64_t from, uint64_t to, char **out,
    struct rcpt_diag *diag)
{
	json_object *p;
	size_t len;
	int r;

	*out = NULL;
	if ((p = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_json_add(p, "chain", json_object_new_string(chain))) ==
	        RCPT_OK &&
	    (r = rcpt_json_add(
	         p, "from", json_object_new_int64((int64_t)from))) == RCPT_OK &&
	    (r = rcpt_json_add(p, "to", json_object_new_int64((int64_t)to))) ==
	        RCPT_OK)
		r = rcpt_jcs_serialize(p, out, &len, diag);
	json_object_put(p);
	return r;
}

int
rcpt_client_export(struct rcpt_client *c, const char *chain, uint64_t from,
    uint64_t to, const char *path, struct rcpt_diag *diag)
{
	struct rcpt_bundle_parts parts = {0};
	struct answer a = {0};
	struct rcpt_buf receipts = {0};
	uint8_t h[RCPT_HASH_LEN];
	json_object *res = NULL;
	char *params = NULL, *text = NULL;
	size_t len = 0;
	struct stat sb;
	int r = RCPT_E_INTERNAL;

	if (c == NULL || chain == NULL || path == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "export: missing argument");
	if (from > to || to >= RCPT_BUNDLE_SEQ_MAX)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "export: to must be at least from and below 2^53");
	/* Refused before the daemon signs anything; bundle.c links safely. */
	if (lstat(path, &sb) == 0)
		return rcpt_diag(diag, RCPT_E_EXISTS, "%s: exists", path);
	if (errno != ENOENT)
		return rcpt_diag(
		    diag, RCPT_E_IO, "%s: %s", path, strerror(errno));
	if ((r = export_params(chain, from, to, &params, diag)) != RCPT_OK ||
	    (r = rcpt_client_call(c, "export", params, &text, &len, diag)) !=
	        RCPT_OK)
		goto out;
	if ((r = rcpt_json_parse_ex(text, len, RCPT_JSON_DEPTH_MAX, "result",
	         RCPT_JSON_BIG_INTS, &res, diag)) != RCPT_OK ||
	    (r = read_answer(res, &a, diag)) != RCPT_OK)
		goto out;
	if ((r = fetch_receipts(c, chain, from, to, &receipts, diag)) !=
	        RCPT_OK ||
	    (r = sha256(receipts.p, receipts.len, h)) != RCPT_OK)
		goto out;
	if (memcmp(h, a.receipts_sha256, sizeof(h)) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "export: the receipts range returned do not hash to the "
		    "manifest's receipts.jsonl");
		goto out;
	}
	parts.chain = chain;
	parts.first_seq = from;
	parts.last_seq = to;
	parts.created = a.created;
	parts.receipts = receipts.p;
	parts.receipts_len = receipts.len;
	parts.keys = a.keys;
	parts.keys_len = a.keys_len;
	parts.checkpoint = a.checkpoint;
	parts.checkpoint_len = a.checkpoint_len;
	parts.proofs = a.proofs;
	parts.proofs_len = a.proofs_len;
	r = rcpt_bundle_write_signed(
	    path, &parts, a.manifest, a.manifest_len, a.sig_hex, diag);
out:
	free(a.manifest);
	json_object_put(res);
	rcpt_freezero(receipts.p, receipts.cap);
	rcpt_freezero(text, len + 1);
	free(params);
	return r;
}
