/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9162 section 2.1 Merkle trees over a chain's entry hashes (SPEC 5):
 * leaf hash SHA-256(0x00 || entry_hash), node hash SHA-256(0x01 || l || r).
 * Roots, inclusion and consistency proofs, generated and verified.  The
 * module never holds a whole tree: callers supply leaf hashes through a
 * callback, and the streaming accumulator needs O(log n) memory.  No
 * state is shared between calls: every function is thread-safe.
 */
#ifndef RCPT_SRC_MERKLE_H
#define RCPT_SRC_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RCPT_HASH_LEN        32
#define RCPT_MERKLE_MAX_PATH 64 /* a path never exceeds this many hashes */

/*
 * The three hash helpers cannot fail in practice; should OpenSSL fail
 * (out of memory) they write 32 zero bytes, which match no real root.
 */

/** SHA-256(0x00 || entry_hash). */
void rcpt_merkle_leaf_hash(
    const uint8_t entry_hash[RCPT_HASH_LEN], uint8_t out[RCPT_HASH_LEN]);
/** SHA-256(0x01 || left || right). */
void rcpt_merkle_node_hash(const uint8_t left[RCPT_HASH_LEN],
    const uint8_t right[RCPT_HASH_LEN], uint8_t out[RCPT_HASH_LEN]);
/** SHA-256 of nothing: the root of the empty tree. */
void rcpt_merkle_empty_root(uint8_t out[RCPT_HASH_LEN]);

/** Streaming root of leaves pushed in order; init with {0}. */
struct rcpt_merkle_acc {
	uint8_t stack[64][RCPT_HASH_LEN]; /* perfect subtree roots */
	uint64_t size;                    /* leaves pushed so far */
};

/** Pushes the next leaf hash (ignored once size is UINT64_MAX). */
void rcpt_merkle_acc_push(
    struct rcpt_merkle_acc *a, const uint8_t leaf_hash[RCPT_HASH_LEN]);
/** Root of the leaves pushed so far (the empty root for none). */
void rcpt_merkle_acc_root(
    const struct rcpt_merkle_acc *a, uint8_t out[RCPT_HASH_LEN]);

/**
 * Supplies the leaf hash at @p index (0-based).  Returns RCPT_OK or an
 * error that the caller passes on unchanged.
 */
typedef int (*rcpt_merkle_leaf_fn)(
    void *ctx, uint64_t index, uint8_t leaf_hash_out[RCPT_HASH_LEN]);

/**
 * Root of the first @p n leaves; calls @p fn n times, in order.
 * @return RCPT_OK, RCPT_E_INVAL (NULL argument), RCPT_E_NOMEM,
 * RCPT_E_INTERNAL (OpenSSL failed), or @p fn's error.
 */
int rcpt_merkle_root(rcpt_merkle_leaf_fn fn, void *ctx, uint64_t n,
    uint8_t out[RCPT_HASH_LEN]) RCPT_MUST_CHECK;

/*
 * Path generation rebuilds each sibling subtree from its leaves, so one
 * path costs about @p size callback calls (O(log n) memory).  Fine for
 * today's sizes; a store caching subtree roots can do better later.
 */

/**
 * Inclusion path of leaf @p index in the tree of @p size leaves
 * (RFC 9162 2.1.3.1), ordered from the leaf up.
 * @param[out] path_out RCPT_MERKLE_MAX_PATH hashes of room.
 * @param[out] n_out hashes written (0 for a one-leaf tree).
 * @return RCPT_OK, RCPT_E_INVAL unless index < size, RCPT_E_NOMEM,
 * RCPT_E_INTERNAL, or @p fn's error.
 */
int rcpt_merkle_inclusion_path(rcpt_merkle_leaf_fn fn, void *ctx,
    uint64_t index, uint64_t size,
    uint8_t path_out[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN],
    size_t *n_out) RCPT_MUST_CHECK;

/**
 * Consistency path from @p old_size to @p new_size (RFC 9162 2.1.4.1);
 * empty when the sizes are equal.
 * @return RCPT_OK, RCPT_E_INVAL unless 1 <= old_size <= new_size,
 * RCPT_E_NOMEM, RCPT_E_INTERNAL, or @p fn's error.
 */
int rcpt_merkle_consistency_path(rcpt_merkle_leaf_fn fn, void *ctx,
    uint64_t old_size, uint64_t new_size,
    uint8_t path_out[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN],
    size_t *n_out) RCPT_MUST_CHECK;

/**
 * Verifies an inclusion path (RFC 9162 2.1.3.2).  Refuses index >= size
 * and paths longer or shorter than the tree requires.
 * @return RCPT_OK, RCPT_E_PROOF, RCPT_E_INVAL for a NULL pointer (a NULL
 * @p path is fine when @p n is 0), RCPT_E_INTERNAL if OpenSSL fails.
 */
int rcpt_merkle_verify_inclusion(const uint8_t leaf_hash[RCPT_HASH_LEN],
    uint64_t index, uint64_t size, const uint8_t (*path)[RCPT_HASH_LEN],
    size_t n, const uint8_t root[RCPT_HASH_LEN]) RCPT_MUST_CHECK;

/**
 * Verifies a consistency path (RFC 9162 2.1.4.2).  Equal sizes need an
 * empty path and equal roots; old_size 0, old_size > new_size and paths
 * of the wrong length are refused.
 * @return RCPT_OK, RCPT_E_PROOF, RCPT_E_INVAL for a NULL pointer,
 * RCPT_E_INTERNAL if OpenSSL fails.
 */
int rcpt_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
    const uint8_t old_root[RCPT_HASH_LEN],
    const uint8_t new_root[RCPT_HASH_LEN], const uint8_t (*path)[RCPT_HASH_LEN],
    size_t n) RCPT_MUST_CHECK;

#endif
