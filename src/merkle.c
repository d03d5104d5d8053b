/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9162 section 2.1 Merkle trees: hashing, roots, and the generation
 * and verification of inclusion and consistency paths.
 *
 * Leaves arrive through a callback, so no whole tree is ever held.  The
 * price is that generating a path hashes every leaf it covers: a proof
 * for a tree of n leaves makes about n callback calls (each sibling
 * subtree is rebuilt with the streaming accumulator in O(log n)
 * memory).  That is fine for the sizes we serve today; a store that
 * caches subtree roots can replace subtree_root() later without
 * changing the API.  The module keeps no state between calls and is
 * thread-safe.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "merkle.h"

/*
 * A reusable digest context.  One EVP_MD_CTX fetched once per operation
 * is about three times faster than a one-shot digest per node, which
 * matters when a root covers millions of leaves.  A NULL hasher means
 * "one-shot", for the context-free public helpers.
 */
struct hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

static int
hasher_open(struct hasher *h)
{
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (h->md == NULL || h->ctx == NULL) {
		EVP_MD_CTX_free(h->ctx);
		EVP_MD_free(h->md);
		h->md = NULL;
		h->ctx = NULL;
		return RCPT_E_NOMEM;
	}
	return RCPT_OK;
}

static void
hasher_close(struct hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->md = NULL;
	h->ctx = NULL;
}

/* SHA-256(prefix || a || b), b optional. */
static int
hash_parts(struct hasher *h, uint8_t prefix, const uint8_t *a, const uint8_t *b,
    uint8_t out[RCPT_HASH_LEN])
{
	uint8_t buf[1 + 2 * RCPT_HASH_LEN];
	size_t len = 1 + RCPT_HASH_LEN;

	buf[0] = prefix;
	memcpy(buf + 1, a, RCPT_HASH_LEN);
	if (b != NULL) {
		memcpy(buf + 1 + RCPT_HASH_LEN, b, RCPT_HASH_LEN);
		len += RCPT_HASH_LEN;
	}
	if (h == NULL) {
		if (EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) != 1)
			goto fail;
		return RCPT_OK;
	}
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, buf, len) != 1 ||
	    EVP_DigestFinal_ex(h->ctx, out, NULL) != 1)
		goto fail;
	return RCPT_OK;
fail:
	/* A zero hash matches no real root, so a failure cannot verify. */
	memset(out, 0, RCPT_HASH_LEN);
	return RCPT_E_INTERNAL;
}

static int
hash_node(struct hasher *h, const uint8_t l[RCPT_HASH_LEN],
    const uint8_t r[RCPT_HASH_LEN], uint8_t out[RCPT_HASH_LEN])
{
	return hash_parts(h, 0x01, l, r, out);
}

void
rcpt_merkle_leaf_hash(
    const uint8_t entry_hash[RCPT_HASH_LEN], uint8_t out[RCPT_HASH_LEN])
{
	/* On an OpenSSL failure out is all zero: see hash_parts(). */
	(void)hash_parts(NULL, 0x00, entry_hash, NULL, out);
}

void
rcpt_merkle_node_hash(const uint8_t left[RCPT_HASH_LEN],
    const uint8_t right[RCPT_HASH_LEN], uint8_t out[RCPT_HASH_LEN])
{
	(void)hash_node(NULL, left, right, out);
}

void
rcpt_merkle_empty_root(uint8_t out[RCPT_HASH_LEN])
{
	/* SHA-256 of the empty string, a constant of the hash function. */
	static const uint8_t empty[RCPT_HASH_LEN] = {0xe3, 0xb0, 0xc4, 0x42,
	    0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
	    0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95,
	    0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

	memcpy(out, empty, RCPT_HASH_LEN);
}

/*
 * stack[i] holds the root of a perfect subtree of 2^i leaves exactly
 * when bit i of size is set, like the carries of a binary counter.
 */
static int
acc_push(struct hasher *h, struct rcpt_merkle_acc *a,
    const uint8_t leaf_hash[RCPT_HASH_LEN])
{
	uint8_t cur[RCPT_HASH_LEN];
	unsigned int level = 0;
	int r;

	if (a->size == UINT64_MAX)
		return RCPT_E_TOO_LARGE;
	memcpy(cur, leaf_hash, RCPT_HASH_LEN);
	while ((a->size >> level & 1) != 0) {
		if ((r = hash_node(h, a->stack[level], cur, cur)) != RCPT_OK)
			return r;
		level++;
	}
	memcpy(a->stack[level], cur, RCPT_HASH_LEN);
	a->size++;
	return RCPT_OK;
}

/*
 * Folding the perfect subtrees from the smallest (rightmost) upwards
 * gives the RFC's split at the largest power of two below the size.
 */
static int
acc_root(struct hasher *h, const struct rcpt_merkle_acc *a,
    uint8_t out[RCPT_HASH_LEN])
{
	uint8_t cur[RCPT_HASH_LEN];
	unsigned int level;
	int have = 0, r;

	if (a->size == 0) {
		rcpt_merkle_empty_root(out);
		return RCPT_OK;
	}
	for (level = 0; level < 64; level++) {
		if ((a->size >> level & 1) == 0)
			continue;
		if (!have) {
			memcpy(cur, a->stack[level], RCPT_HASH_LEN);
			have = 1;
		} else if ((r = hash_node(h, a->stack[level], cur, cur)) !=
		           RCPT_OK) {
			memset(out, 0, RCPT_HASH_LEN);
			return r;
		}
	}
	memcpy(out, cur, RCPT_HASH_LEN);
	return RCPT_OK;
}

void
rcpt_merkle_acc_push(
    struct rcpt_merkle_acc *a, const uint8_t leaf_hash[RCPT_HASH_LEN])
{
	(void)acc_push(NULL, a, leaf_hash);
}

void
rcpt_merkle_acc_root(
    const struct rcpt_merkle_acc *a, uint8_t out[RCPT_HASH_LEN])
{
	(void)acc_root(NULL, a, out);
}

/* Root of leaves [lo, hi), fetched through fn. */
static int
subtree_root(struct hasher *h, rcpt_merkle_leaf_fn fn, void *ctx, uint64_t lo,
    uint64_t hi, uint8_t out[RCPT_HASH_LEN])
{
	struct rcpt_merkle_acc a = {0};
	uint8_t leaf[RCPT_HASH_LEN];
	uint64_t i;
	int r;

	for (i = lo; i < hi; i++) {
		if ((r = fn(ctx, i, leaf)) != RCPT_OK)
			return r;
		if ((r = acc_push(h, &a, leaf)) != RCPT_OK)
			return r;
	}
	return acc_root(h, &a, out);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

int
rcpt_merkle_root(
    rcpt_merkle_leaf_fn fn, void *ctx, uint64_t n, uint8_t out[RCPT_HASH_LEN])
{
	struct hasher h;
	int r;

	if (fn == NULL || out == NULL)
		return RCPT_E_INVAL;
	if ((r = hasher_open(&h)) != RCPT_OK)
		return r;
	r = subtree_root(&h, fn, ctx, 0, n, out);
	hasher_close(&h);
	return r;
}

/*
 * Both generators walk from the root down, collecting each sibling
 * subtree's root; the path lists them from the leaf up, so they are
 * written out in reverse.
 */
int
rcpt_merkle_inclusion_path(rcpt_merkle_leaf_fn fn, void *ctx, uint64_t index,
    uint64_t size, uint8_t path_out[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN],
    size_t *n_out)
{
	uint8_t down[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN];
	struct hasher h;
	uint64_t lo = 0, hi = size, k;
	size_t n = 0, i;
	int r;

	if (n_out != NULL)
		*n_out = 0;
	if (fn == NULL || path_out == NULL || n_out == NULL || index >= size)
		return RCPT_E_INVAL;
	if ((r = hasher_open(&h)) != RCPT_OK)
		return r;
	while (hi - lo > 1) {
		k = split_point(hi - lo);
		if (n == RCPT_MERKLE_MAX_PATH) {
			r = RCPT_E_INTERNAL;
			goto out;
		}
		if (index < lo + k) {
			r = subtree_root(&h, fn, ctx, lo + k, hi, down[n]);
			hi = lo + k;
		} else {
			r = subtree_root(&h, fn, ctx, lo, lo + k, down[n]);
			lo += k;
		}
		if (r != RCPT_OK)
			goto out;
		n++;
	}
	for (i = 0; i < n; i++)
		memcpy(path_out[i], down[n - 1 - i], RCPT_HASH_LEN);
	*n_out = n;
	r = RCPT_OK;
out:
	hasher_close(&h);
	return r;
}

int
rcpt_merkle_consistency_path(rcpt_merkle_leaf_fn fn, void *ctx,
    uint64_t old_size, uint64_t new_size,
    uint8_t path_out[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN], size_t *n_out)
{
	uint8_t down[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN];
	struct hasher h;
	uint64_t lo = 0, hi = new_size, m = old_size, k;
	size_t n = 0, i, o = 0;
	int whole = 1; /* SUBPROOF's b: still on the old tree's right edge */
	int r;

	if (n_out != NULL)
		*n_out = 0;
	if (fn == NULL || path_out == NULL || n_out == NULL || old_size == 0 ||
	    old_size > new_size)
		return RCPT_E_INVAL;
	if (old_size == new_size)
		return RCPT_OK;
	if ((r = hasher_open(&h)) != RCPT_OK)
		return r;
	/* SUBPROOF(m, D[lo:hi], whole) of RFC 9162 2.1.4.1. */
	while (m != hi - lo) {
		k = split_point(hi - lo);
		if (n == RCPT_MERKLE_MAX_PATH) {
			r = RCPT_E_INVAL;
			goto out;
		}
		if (m <= k) {
			r = subtree_root(&h, fn, ctx, lo + k, hi, down[n]);
			hi = lo + k;
		} else {
			r = subtree_root(&h, fn, ctx, lo, lo + k, down[n]);
			lo += k;
			m -= k;
			whole = 0;
		}
		if (r != RCPT_OK)
			goto out;
		n++;
	}
	/* The old tree's own subtree is in the path unless it is its root. */
	if (!whole) {
		if (n == RCPT_MERKLE_MAX_PATH) {
			r = RCPT_E_INVAL;
			goto out;
		}
		if ((r = subtree_root(&h, fn, ctx, lo, hi, path_out[o])) !=
		    RCPT_OK)
			goto out;
		o++;
	}
	for (i = 0; i < n; i++)
		memcpy(path_out[o++], down[n - 1 - i], RCPT_HASH_LEN);
	*n_out = o;
	r = RCPT_OK;
out:
	hasher_close(&h);
	return r;
}

int
rcpt_merkle_verify_inclusion(const uint8_t leaf_hash[RCPT_HASH_LEN],
    uint64_t index, uint64_t size, const uint8_t (*path)[RCPT_HASH_LEN],
    size_t n, const uint8_t root[RCPT_HASH_LEN])
{
	uint8_t cur[RCPT_HASH_LEN];
	uint64_t fn = index, sn;
	size_t i;
	int r;

	if (leaf_hash == NULL || root == NULL || (path == NULL && n > 0))
		return RCPT_E_INVAL;
	if (index >= size || n > RCPT_MERKLE_MAX_PATH)
		return RCPT_E_PROOF;
	sn = size - 1;
	memcpy(cur, leaf_hash, RCPT_HASH_LEN);
	for (i = 0; i < n; i++) {
		/* More path than levels above the leaf. */
		if (sn == 0)
			return RCPT_E_PROOF;
		if ((fn & 1) != 0 || fn == sn) {
			r = hash_node(NULL, path[i], cur, cur);
			/* Skip levels where the node has no right sibling. */
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			r = hash_node(NULL, cur, path[i], cur);
		}
		if (r != RCPT_OK)
			return r;
		fn >>= 1;
		sn >>= 1;
	}
	/* Too short a path leaves sn above zero. */
	if (sn != 0 || memcmp(cur, root, RCPT_HASH_LEN) != 0)
		return RCPT_E_PROOF;
	return RCPT_OK;
}

int
rcpt_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[RCPT_HASH_LEN],
    const uint8_t new_root[RCPT_HASH_LEN], const uint8_t (*path)[RCPT_HASH_LEN],
    size_t n)
{
	uint8_t fr[RCPT_HASH_LEN], sr[RCPT_HASH_LEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t i;
	int r;

	if (old_root == NULL || new_root == NULL || (path == NULL && n > 0))
		return RCPT_E_INVAL;
	if (old_size == 0 || old_size > new_size || n > RCPT_MERKLE_MAX_PATH)
		return RCPT_E_PROOF;
	if (old_size == new_size) {
		if (n != 0 || memcmp(old_root, new_root, RCPT_HASH_LEN) != 0)
			return RCPT_E_PROOF;
		return RCPT_OK;
	}
	if (n == 0)
		return RCPT_E_PROOF;
	fn = old_size - 1;
	sn = new_size - 1;
	/*
	 * When the old tree is a perfect subtree its root is the first
	 * element; otherwise the path starts with it.  Indexing from i
	 * avoids copying the path to prepend old_root.
	 */
	i = 0;
	if ((old_size & (old_size - 1)) == 0) {
		c = old_root;
	} else {
		c = path[0];
		i = 1;
	}
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, c, RCPT_HASH_LEN);
	memcpy(sr, c, RCPT_HASH_LEN);
	for (; i < n; i++) {
		if (sn == 0)
			return RCPT_E_PROOF;
		if ((fn & 1) != 0 || fn == sn) {
			if ((r = hash_node(NULL, path[i], fr, fr)) != RCPT_OK ||
			    (r = hash_node(NULL, path[i], sr, sr)) != RCPT_OK)
				return r;
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if ((r = hash_node(NULL, sr, path[i], sr)) != RCPT_OK) {
			return r;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, old_root, RCPT_HASH_LEN) != 0 ||
	    memcmp(sr, new_root, RCPT_HASH_LEN) != 0)
		return RCPT_E_PROOF;
	return RCPT_OK;
}
