/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inclusion and consistency proof documents (SPEC 5): strict parsing,
 * JCS output, building from a leaf callback, and verification against
 * signed checkpoints.
 *
 * Parsing refuses rather than repairs: exact member sets, lowercase
 * hex, integers no larger than 2^53.  Verification reports the first
 * failure in a fixed order (shape, checkpoint text, proof/checkpoint
 * agreement, signature, path), so one document always gets one answer.
 * Which keys to trust is the caller's business; revoked keys and keys
 * of other chains are skipped here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "proof.h"
#include "receipt.h"

#define HEX_LEN (2 * RCPT_HASH_LEN)

static const char *const inclusion_members[] = {
    "chain", "seq", "tree_size", "entry_hash", "path", "checkpoint", NULL};
static const char *const consistency_members[] = {"chain", "old_size",
    "new_size", "path", "old_checkpoint", "new_checkpoint", NULL};

static int
chain_check(const char *chain, struct rcpt_diag *diag)
{
	if (chain == NULL || !rcpt_receipt_chain_is_valid_len(
	                         chain, strnlen(chain, RCPT_CHAIN_MAX + 1)))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	return RCPT_OK;
}

/* The rules a proof struct must meet before it is written or checked. */
static int
inclusion_shape(const struct rcpt_inclusion_proof *p, struct rcpt_diag *diag)
{
	int r;

	if ((r = chain_check(p->chain, diag)) != RCPT_OK)
		return r;
	if (p->seq >= p->tree_size)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "seq: must be below tree_size");
	if (p->path_len > RCPT_MERKLE_MAX_PATH)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "path: more than %d hashes", RCPT_MERKLE_MAX_PATH);
	return RCPT_OK;
}

static int
consistency_shape(
    const struct rcpt_consistency_proof *p, struct rcpt_diag *diag)
{
	int r;

	if ((r = chain_check(p->chain, diag)) != RCPT_OK)
		return r;
	if (p->old_size == 0 || p->old_size > p->new_size)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "old_size: must be from 1 to new_size");
	if (p->path_len > RCPT_MERKLE_MAX_PATH)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "path: more than %d hashes", RCPT_MERKLE_MAX_PATH);
	return RCPT_OK;
}

/* Parsing helpers */

static int
check_members(
    const json_object *o, const char *const *names, struct rcpt_diag *diag)
{
	json_object *v;
	size_t i;
	int known;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return rcpt_diag(diag, RCPT_E_INVAL, "$: not a JSON object");
	json_object_object_foreach((json_object *)o, key, val)
	{
		(void)val;
		known = 0;
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(key, names[i]) == 0)
				known = 1;
		/* The name is not echoed: it is the rejected value. */
		if (!known)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "$: member not allowed in this proof");
	}
	for (i = 0; names[i] != NULL; i++)
		if (!json_object_object_get_ex(o, names[i], &v))
			return rcpt_diag(
			    diag, RCPT_E_INVAL, "%s: missing", names[i]);
	return RCPT_OK;
}

static json_object *
member(const json_object *o, const char *name)
{
	json_object *v = NULL;

	(void)json_object_object_get_ex(o, name, &v);
	return v;
}

static int
get_u64(const json_object *o, const char *name, uint64_t *out,
    struct rcpt_diag *diag)
{
	if (rcpt_json_get_u64(member(o, name), out) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: must be an integer from 0 to 2^53", name);
	return RCPT_OK;
}

static int
get_str(const json_object *o, const char *name, const char **s_out,
    size_t *len_out, struct rcpt_diag *diag)
{
	json_object *v = member(o, name);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "%s: must be a string", name);
	*s_out = json_object_get_string(v);
	*len_out = (size_t)json_object_get_string_len(v);
	return RCPT_OK;
}

static int
get_chain(const json_object *o, char chain[RCPT_CHAIN_MAX + 1],
    struct rcpt_diag *diag)
{
	const char *s;
	size_t len;
	int r;

	if ((r = get_str(o, "chain", &s, &len, diag)) != RCPT_OK)
		return r;
	if (!rcpt_receipt_chain_is_valid_len(s, len))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	memcpy(chain, s, len);
	chain[len] = '\0';
	return RCPT_OK;
}

static int
get_hash(const json_object *o, const char *name, uint8_t out[RCPT_HASH_LEN],
    struct rcpt_diag *diag)
{
	const char *s;
	size_t len;
	int r;

	if ((r = get_str(o, name, &s, &len, diag)) != RCPT_OK)
		return r;
	if (rcpt_hex_decode(s, len, out, RCPT_HASH_LEN) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: must be 64 lowercase hex digits", name);
	return RCPT_OK;
}

static int
get_path(const json_object *o, uint8_t path[][RCPT_HASH_LEN], size_t *n_out,
    struct rcpt_diag *diag)
{
	json_object *a = member(o, "path"), *v;
	size_t i, n;

	*n_out = 0;
	if (a == NULL || !json_object_is_type(a, json_type_array))
		return rcpt_diag(diag, RCPT_E_INVAL, "path: must be an array");
	n = json_object_array_length(a);
	if (n > RCPT_MERKLE_MAX_PATH)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "path: more than %d hashes", RCPT_MERKLE_MAX_PATH);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    rcpt_hex_decode(json_object_get_string(v),
		        (size_t)json_object_get_string_len(v), path[i],
		        RCPT_HASH_LEN) != RCPT_OK)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "path[%zu]: must be 64 lowercase hex digits", i);
	}
	*n_out = n;
	return RCPT_OK;
}

static int
get_note(
    const json_object *o, const char *name, char **out, struct rcpt_diag *diag)
{
	const char *s;
	size_t len;
	int r;

	*out = NULL;
	if ((r = get_str(o, name, &s, &len, diag)) != RCPT_OK)
		return r;
	/* A NUL would cut the note short for the checkpoint parser. */
	if (len == 0 || memchr(s, '\0', len) != NULL)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: must be a non-empty note without NUL", name);
	if (len > RCPT_CHECKPOINT_MAX_BYTES)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "%s: longer than %d bytes", name,
		    RCPT_CHECKPOINT_MAX_BYTES);
	if ((*out = rcpt_strndup(s, len)) == NULL)
		return RCPT_E_NOMEM;
	return RCPT_OK;
}

static int
parse_doc(
    const char *text, size_t len, json_object **doc_out, struct rcpt_diag *diag)
{
	*doc_out = NULL;
	if (text == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "$: no text");
	if (len > RCPT_PROOF_MAX_BYTES)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "$: proof longer than %d bytes", RCPT_PROOF_MAX_BYTES);
	return rcpt_json_parse(
	    text, len, RCPT_JSON_DEPTH_DEFAULT, NULL, doc_out, diag);
}

static int
inclusion_from_json(const json_object *o, struct rcpt_inclusion_proof *out,
    struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof p = {0};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_members(o, inclusion_members, diag)) != RCPT_OK ||
	    (r = get_chain(o, p.chain, diag)) != RCPT_OK ||
	    (r = get_u64(o, "seq", &p.seq, diag)) != RCPT_OK ||
	    (r = get_u64(o, "tree_size", &p.tree_size, diag)) != RCPT_OK ||
	    (r = get_hash(o, "entry_hash", p.entry_hash, diag)) != RCPT_OK ||
	    (r = get_path(o, p.path, &p.path_len, diag)) != RCPT_OK ||
	    (r = inclusion_shape(&p, diag)) != RCPT_OK ||
	    (r = get_note(o, "checkpoint", &p.checkpoint, diag)) != RCPT_OK)
		goto out;
	*out = p;
	p.checkpoint = NULL;
	r = RCPT_OK;
out:
	free(p.checkpoint);
	return r;
}

static int
consistency_from_json(const json_object *o, struct rcpt_consistency_proof *out,
    struct rcpt_diag *diag)
{
	struct rcpt_consistency_proof p = {0};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_members(o, consistency_members, diag)) != RCPT_OK ||
	    (r = get_chain(o, p.chain, diag)) != RCPT_OK ||
	    (r = get_u64(o, "old_size", &p.old_size, diag)) != RCPT_OK ||
	    (r = get_u64(o, "new_size", &p.new_size, diag)) != RCPT_OK ||
	    (r = get_path(o, p.path, &p.path_len, diag)) != RCPT_OK ||
	    (r = consistency_shape(&p, diag)) != RCPT_OK ||
	    (r = get_note(o, "old_checkpoint", &p.old_checkpoint, diag)) !=
	        RCPT_OK ||
	    (r = get_note(o, "new_checkpoint", &p.new_checkpoint, diag)) !=
	        RCPT_OK)
		goto out;
	*out = p;
	p.old_checkpoint = NULL;
	p.new_checkpoint = NULL;
	r = RCPT_OK;
out:
	free(p.new_checkpoint);
	free(p.old_checkpoint);
	return r;
}

void
rcpt_proof_inclusion_clear(struct rcpt_inclusion_proof *p)
{
	if (p == NULL)
		return;
	free(p->checkpoint);
	memset(p, 0, sizeof(*p));
}

void
rcpt_proof_consistency_clear(struct rcpt_consistency_proof *p)
{
	if (p == NULL)
		return;
	free(p->old_checkpoint);
	free(p->new_checkpoint);
	memset(p, 0, sizeof(*p));
}

enum rcpt_proof_kind
rcpt_proof_detect(const json_object *doc)
{
	json_object *v;
	int inc, con;

	if (doc == NULL || !json_object_is_type(doc, json_type_object))
		return RCPT_PROOF_NONE;
	inc = json_object_object_get_ex(doc, "checkpoint", &v);
	con = json_object_object_get_ex(doc, "old_checkpoint", &v) ||
	      json_object_object_get_ex(doc, "new_checkpoint", &v);
	if (inc && !con)
		return RCPT_PROOF_INCLUSION;
	if (con && !inc)
		return RCPT_PROOF_CONSISTENCY;
	return RCPT_PROOF_NONE;
}

int
rcpt_proof_inclusion_parse(const char *text, size_t len,
    struct rcpt_inclusion_proof *out, struct rcpt_diag *diag)
{
	json_object *doc = NULL;
	int r;

	if (out == NULL)
		return RCPT_E_INVAL;
	memset(out, 0, sizeof(*out));
	if ((r = parse_doc(text, len, &doc, diag)) == RCPT_OK)
		r = inclusion_from_json(doc, out, diag);
	json_object_put(doc);
	return r;
}

int
rcpt_proof_consistency_parse(const char *text, size_t len,
    struct rcpt_consistency_proof *out, struct rcpt_diag *diag)
{
	json_object *doc = NULL;
	int r;

	if (out == NULL)
		return RCPT_E_INVAL;
	memset(out, 0, sizeof(*out));
	if ((r = parse_doc(text, len, &doc, diag)) == RCPT_OK)
		r = consistency_from_json(doc, out, diag);
	json_object_put(doc);
	return r;
}

/* Writing */

static int
add_u64(json_object *o, const char *name, uint64_t v, struct rcpt_diag *diag)
{
	if ((double)v > RCPT_JSON_MAX_SAFE)
		return rcpt_diag(diag, RCPT_E_INVAL, "%s: beyond 2^53", name);
	return rcpt_json_add(o, name, json_object_new_int64((int64_t)v));
}

static int
add_hash(json_object *o, const char *name, const uint8_t h[RCPT_HASH_LEN])
{
	char hex[HEX_LEN + 1];

	rcpt_hex_encode(h, RCPT_HASH_LEN, hex);
	return rcpt_json_add(o, name, json_object_new_string_len(hex, HEX_LEN));
}

static int
add_path(json_object *o, const uint8_t (*path)[RCPT_HASH_LEN], size_t n)
{
	json_object *a, *v;
	char hex[HEX_LEN + 1];
	size_t i;

	if ((a = json_object_new_array()) == NULL)
		return RCPT_E_NOMEM;
	for (i = 0; i < n; i++) {
		rcpt_hex_encode(path[i], RCPT_HASH_LEN, hex);
		if ((v = json_object_new_string_len(hex, HEX_LEN)) == NULL) {
			json_object_put(a);
			return RCPT_E_NOMEM;
		}
		/* json_object_array_add steals v only when it succeeds. */
		if (json_object_array_add(a, v) != 0) {
			json_object_put(v);
			json_object_put(a);
			return RCPT_E_NOMEM;
		}
	}
	return rcpt_json_add(o, "path", a);
}

static int
add_note(
    json_object *o, const char *name, const char *note, struct rcpt_diag *diag)
{
	if (note == NULL || *note == '\0')
		return rcpt_diag(diag, RCPT_E_INVAL, "%s: missing", name);
	return rcpt_json_add(o, name, json_object_new_string(note));
}

/* Clears the outputs of a serialize call and checks its arguments. */
static int
start(const void *p, char **out, size_t *len_out)
{
	if (out != NULL)
		*out = NULL;
	if (len_out != NULL)
		*len_out = 0;
	if (p == NULL || out == NULL || len_out == NULL)
		return RCPT_E_INVAL;
	return RCPT_OK;
}

static int
finish(
    json_object *o, int r, char **out, size_t *len_out, struct rcpt_diag *diag)
{
	if (r == RCPT_OK)
		r = rcpt_jcs_serialize(o, out, len_out, diag);
	json_object_put(o);
	return r;
}

int
rcpt_proof_inclusion_serialize(const struct rcpt_inclusion_proof *p, char **out,
    size_t *len_out, struct rcpt_diag *diag)
{
	json_object *o;
	int r;

	if ((r = start(p, out, len_out)) != RCPT_OK)
		return r;
	if ((r = inclusion_shape(p, diag)) != RCPT_OK)
		return r;
	if ((o = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_json_add(o, "chain", json_object_new_string(p->chain))) ==
	        RCPT_OK &&
	    (r = add_u64(o, "seq", p->seq, diag)) == RCPT_OK &&
	    (r = add_u64(o, "tree_size", p->tree_size, diag)) == RCPT_OK &&
	    (r = add_hash(o, "entry_hash", p->entry_hash)) == RCPT_OK &&
	    (r = add_path(o, (const uint8_t(*)[RCPT_HASH_LEN])p->path,
	         p->path_len)) == RCPT_OK)
		r = add_note(o, "checkpoint", p->checkpoint, diag);
	return finish(o, r, out, len_out, diag);
}

int
rcpt_proof_consistency_serialize(const struct rcpt_consistency_proof *p,
    char **out, size_t *len_out, struct rcpt_diag *diag)
{
	json_object *o;
	int r;

	if ((r = start(p, out, len_out)) != RCPT_OK)
		return r;
	if ((r = consistency_shape(p, diag)) != RCPT_OK)
		return r;
	if ((o = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_json_add(o, "chain", json_object_new_string(p->chain))) ==
	        RCPT_OK &&
	    (r = add_u64(o, "old_size", p->old_size, diag)) == RCPT_OK &&
	    (r = add_u64(o, "new_size", p->new_size, diag)) == RCPT_OK &&
	    (r = add_path(o, (const uint8_t(*)[RCPT_HASH_LEN])p->path,
	         p->path_len)) == RCPT_OK &&
	    (r = add_note(o, "old_checkpoint", p->old_checkpoint, diag)) ==
	        RCPT_OK)
		r = add_note(o, "new_checkpoint", p->new_checkpoint, diag);
	return finish(o, r, out, len_out, diag);
}

/* Checkpoints */

static void
free_note(struct rcpt_checkpoint *cp)
{
	if (cp == NULL)
		return;
	rcpt_checkpoint_clear(cp);
	free(cp);
}

/*
 * Parses the note in member @p name into a new checkpoint and checks
 * that it belongs to @p chain and, unless @p size is NULL, has that
 * size.  The checkpoint parser's own message is kept, prefixed with the
 * member it came from.
 */
static int
load_note(const char *note, const char *name, const char *chain,
    const uint64_t *size, struct rcpt_checkpoint **cp_out,
    struct rcpt_diag *diag)
{
	struct rcpt_checkpoint *cp = NULL;
	struct rcpt_diag inner;
	int r = RCPT_E_INTERNAL;

	*cp_out = NULL;
	rcpt_diag_clear(&inner);
	if (note == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "%s: missing", name);
	if ((cp = rcpt_calloc(1, sizeof(*cp))) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_checkpoint_parse(note, strlen(note), cp, &inner)) !=
	    RCPT_OK) {
		r = rcpt_diag(
		    diag, r, "%s: %s", name, rcpt_diag_msg(&inner, r));
		goto out;
	}
	if (strcmp(cp->chain, chain) != 0) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: names another chain than the proof", name);
		goto out;
	}
	if (size != NULL && cp->size != *size) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: tree size differs from the proof's", name);
		goto out;
	}
	*cp_out = cp;
	cp = NULL;
	r = RCPT_OK;
out:
	free_note(cp);
	return r;
}

/* SPEC 5: one valid signature by a key of this chain, not revoked. */
static int
note_trusted(const struct rcpt_checkpoint *cp, const char *name,
    const struct rcpt_jwks *keys, struct rcpt_diag *diag)
{
	const struct rcpt_jwks_key *k;
	size_t i;

	for (i = 0; keys != NULL && i < keys->n; i++) {
		k = &keys->keys[i];
		if (k->status == RCPT_KEY_REVOKED ||
		    strcmp(k->chain, cp->chain) != 0)
			continue;
		if (rcpt_checkpoint_verify(cp, k->pub) == RCPT_OK)
			return RCPT_OK;
	}
	return rcpt_diag(diag, RCPT_E_BAD_SIGNATURE,
	    "%s: no valid signature by a trusted, unrevoked key of the chain",
	    name);
}

/* Verifying */

int
rcpt_proof_verify_inclusion(const struct rcpt_inclusion_proof *p,
    const struct rcpt_jwks *keys, struct rcpt_diag *diag)
{
	struct rcpt_checkpoint *cp = NULL;
	uint8_t leaf[RCPT_HASH_LEN];
	int r;

	if (p == NULL || keys == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "proof: no proof or keys");
	if ((r = inclusion_shape(p, diag)) != RCPT_OK)
		return r;
	if ((r = load_note(p->checkpoint, "checkpoint", p->chain, &p->tree_size,
	         &cp, diag)) != RCPT_OK)
		return r;
	if ((r = note_trusted(cp, "checkpoint", keys, diag)) != RCPT_OK)
		goto out;
	rcpt_merkle_leaf_hash(p->entry_hash, leaf);
	r = rcpt_merkle_verify_inclusion(leaf, p->seq, p->tree_size,
	    (const uint8_t(*)[RCPT_HASH_LEN])p->path, p->path_len, cp->root);
	if (r == RCPT_E_PROOF)
		rcpt_diag(diag, r,
		    "path: does not lead from entry_hash to the checkpoint "
		    "root");
out:
	free_note(cp);
	return r;
}

int
rcpt_proof_verify_consistency(const struct rcpt_consistency_proof *p,
    const struct rcpt_jwks *keys, struct rcpt_diag *diag)
{
	struct rcpt_checkpoint *old_cp = NULL, *new_cp = NULL;
	int r;

	if (p == NULL || keys == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "proof: no proof or keys");
	if ((r = consistency_shape(p, diag)) != RCPT_OK)
		return r;
	if ((r = load_note(p->old_checkpoint, "old_checkpoint", p->chain,
	         &p->old_size, &old_cp, diag)) != RCPT_OK ||
	    (r = load_note(p->new_checkpoint, "new_checkpoint", p->chain,
	         &p->new_size, &new_cp, diag)) != RCPT_OK)
		goto out;
	/* A chain's origin is fixed at genesis (SPEC 4). */
	if (strcmp(old_cp->origin, new_cp->origin) != 0) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "new_checkpoint: origin differs from old_checkpoint's");
		goto out;
	}
	if ((r = note_trusted(old_cp, "old_checkpoint", keys, diag)) !=
	        RCPT_OK ||
	    (r = note_trusted(new_cp, "new_checkpoint", keys, diag)) != RCPT_OK)
		goto out;
	r = rcpt_merkle_verify_consistency(p->old_size, p->new_size,
	    old_cp->root, new_cp->root,
	    (const uint8_t(*)[RCPT_HASH_LEN])p->path, p->path_len);
	if (r == RCPT_E_PROOF)
		rcpt_diag(
		    diag, r, "path: does not join the two checkpoint roots");
out:
	free_note(new_cp);
	free_note(old_cp);
	return r;
}

int
rcpt_proof_verify_text(const char *text, size_t len,
    const struct rcpt_jwks *keys, int *kind_out, struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof *inc = NULL;
	struct rcpt_consistency_proof *con = NULL;
	json_object *doc = NULL;
	enum rcpt_proof_kind kind;
	int r = RCPT_E_INTERNAL;

	if (kind_out != NULL)
		*kind_out = RCPT_PROOF_NONE;
	if ((r = parse_doc(text, len, &doc, diag)) != RCPT_OK)
		goto out;
	kind = rcpt_proof_detect(doc);
	if (kind_out != NULL)
		*kind_out = (int)kind;
	if (kind == RCPT_PROOF_INCLUSION) {
		if ((inc = rcpt_calloc(1, sizeof(*inc))) == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		if ((r = inclusion_from_json(doc, inc, diag)) == RCPT_OK)
			r = rcpt_proof_verify_inclusion(inc, keys, diag);
	} else if (kind == RCPT_PROOF_CONSISTENCY) {
		if ((con = rcpt_calloc(1, sizeof(*con))) == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		if ((r = consistency_from_json(doc, con, diag)) == RCPT_OK)
			r = rcpt_proof_verify_consistency(con, keys, diag);
	} else {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "$: neither an inclusion nor a consistency proof");
	}
out:
	rcpt_proof_consistency_clear(con);
	free(con);
	rcpt_proof_inclusion_clear(inc);
	free(inc);
	json_object_put(doc);
	return r;
}

/* Building */

int
rcpt_proof_inclusion_build(rcpt_merkle_leaf_fn fn, void *ctx, const char *chain,
    uint64_t seq, const uint8_t entry_hash[RCPT_HASH_LEN], const char *note,
    struct rcpt_inclusion_proof *out, struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof p = {0};
	struct rcpt_checkpoint *cp = NULL;
	uint8_t leaf[RCPT_HASH_LEN];
	int r = RCPT_E_INTERNAL;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (fn == NULL || entry_hash == NULL || note == NULL || out == NULL)
		return RCPT_E_INVAL;
	if ((r = chain_check(chain, diag)) != RCPT_OK)
		return r;
	if ((r = load_note(note, "checkpoint", chain, NULL, &cp, diag)) !=
	    RCPT_OK)
		goto out;
	memcpy(p.chain, chain, strlen(chain) + 1);
	p.seq = seq;
	p.tree_size = cp->size;
	if ((r = inclusion_shape(&p, diag)) != RCPT_OK)
		goto out;
	memcpy(p.entry_hash, entry_hash, RCPT_HASH_LEN);
	if ((r = rcpt_merkle_inclusion_path(
	         fn, ctx, seq, p.tree_size, p.path, &p.path_len)) != RCPT_OK)
		goto out;
	/* Never hand out a proof that would not verify. */
	rcpt_merkle_leaf_hash(entry_hash, leaf);
	if ((r = rcpt_merkle_verify_inclusion(leaf, seq, p.tree_size,
	         (const uint8_t(*)[RCPT_HASH_LEN])p.path, p.path_len,
	         cp->root)) != RCPT_OK) {
		r = rcpt_diag(diag, r,
		    "path: leaves, entry_hash and checkpoint disagree");
		goto out;
	}
	if ((p.checkpoint = rcpt_strdup(note)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	*out = p;
	p.checkpoint = NULL;
	r = RCPT_OK;
out:
	free_note(cp);
	rcpt_proof_inclusion_clear(&p);
	return r;
}

int
rcpt_proof_consistency_build(rcpt_merkle_leaf_fn fn, void *ctx,
    const char *chain, const char *old_note, const char *new_note,
    struct rcpt_consistency_proof *out, struct rcpt_diag *diag)
{
	struct rcpt_consistency_proof p = {0};
	struct rcpt_checkpoint *old_cp = NULL, *new_cp = NULL;
	int r = RCPT_E_INTERNAL;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (fn == NULL || old_note == NULL || new_note == NULL || out == NULL)
		return RCPT_E_INVAL;
	if ((r = chain_check(chain, diag)) != RCPT_OK)
		return r;
	if ((r = load_note(old_note, "old_checkpoint", chain, NULL, &old_cp,
	         diag)) != RCPT_OK ||
	    (r = load_note(new_note, "new_checkpoint", chain, NULL, &new_cp,
	         diag)) != RCPT_OK)
		goto out;
	memcpy(p.chain, chain, strlen(chain) + 1);
	p.old_size = old_cp->size;
	p.new_size = new_cp->size;
	if ((r = consistency_shape(&p, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_merkle_consistency_path(fn, ctx, p.old_size, p.new_size,
	         p.path, &p.path_len)) != RCPT_OK)
		goto out;
	if ((r = rcpt_merkle_verify_consistency(p.old_size, p.new_size,
	         old_cp->root, new_cp->root,
	         (const uint8_t(*)[RCPT_HASH_LEN])p.path, p.path_len)) !=
	    RCPT_OK) {
		r = rcpt_diag(diag, r, "path: leaves and checkpoints disagree");
		goto out;
	}
	if ((p.old_checkpoint = rcpt_strdup(old_note)) == NULL ||
	    (p.new_checkpoint = rcpt_strdup(new_note)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	*out = p;
	p.old_checkpoint = NULL;
	p.new_checkpoint = NULL;
	r = RCPT_OK;
out:
	free_note(new_cp);
	free_note(old_cp);
	rcpt_proof_consistency_clear(&p);
	return r;
}
