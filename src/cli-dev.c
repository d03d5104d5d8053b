/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Development commands for demos and tests: `dev-chain` writes a whole
 * signed chain (receipts.jsonl, keys.jwks.json, checkpoint.txt) from a
 * file of events with a software key, and `dev-bundle` packs part of
 * such a directory into an evidence bundle.  They use the same chain
 * writer, checkpoint and bundle code as the daemon, so their output is
 * what an appliance would produce, but nothing they make proves anything
 * about an appliance: the key is a plain file.
 *
 * They never overwrite: dev-chain wants a new or empty directory and
 * removes what it wrote if it fails; dev-bundle refuses an existing
 * bundle path.  Key rotation and revocation are not offered here.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bundle.h"
#include "chain.h"
#include "checkpoint.h"
#include "cli.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "merkle.h"
#include "proof.h"
#include "receipt.h"
#include "signer.h"
#include "softkey.h"
#include "ts.h"

#define RECEIPTS_MAX_BYTES ((size_t)1024 * 1024 * 1024)
#define KEYS_MAX_BYTES     ((size_t)RCPT_BUNDLE_KEYS_MAX)

static const char *const dev_files[] = {
    "receipts.jsonl",
    "keys.jwks.json",
    "checkpoint.txt",
};

#define NDEV_FILES (sizeof(dev_files) / sizeof(dev_files[0]))

/* Joins @p dir and @p name; caller frees. */
static char *
join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = rcpt_malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int
now_ts(char ts[RCPT_TS_LEN + 1], struct rcpt_diag *diag)
{
	if (rcpt_ts_format(rcpt_ts_now_ms(), ts) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INTERNAL,
		    "system clock: outside years 0000 to 9999");
	return RCPT_OK;
}

/*
 * Creates @p dir, or accepts it when it is an empty directory.
 * @p created_out says whether it was made here (and may be removed).
 */
static int
prepare_outdir(const char *dir, bool *created_out, struct rcpt_diag *diag)
{
	struct dirent *e;
	DIR *d;

	*created_out = false;
	if (mkdir(dir, 0755) == 0) {
		*created_out = true;
		return RCPT_OK;
	}
	if (errno != EEXIST)
		return rcpt_diag(diag, RCPT_E_IO, "%s: cannot create: %s", dir,
		    strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return rcpt_diag(
		    diag, RCPT_E_IO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			closedir(d);
			return rcpt_diag(diag, RCPT_E_EXISTS,
			    "%s: exists and is not empty; refusing to "
			    "overwrite",
			    dir);
		}
	}
	closedir(d);
	return RCPT_OK;
}

/* Removes what dev-chain wrote into @p dir, and @p dir if it made it. */
static void
remove_outputs(const char *dir, bool created)
{
	for (size_t i = 0; i < NDEV_FILES; i++) {
		char *p = join_path(dir, dev_files[i]);

		if (p != NULL)
			unlink(p);
		free(p);
	}
	if (created)
		rmdir(dir);
}

/* Opens @p dir/@p name for writing; the file must not exist. */
static int
create_file(
    const char *dir, const char *name, FILE **out, struct rcpt_diag *diag)
{
	char *path = join_path(dir, name);
	int fd, r = RCPT_E_INTERNAL;

	*out = NULL;
	if (path == NULL)
		return RCPT_E_NOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		r = rcpt_diag(diag, errno == EEXIST ? RCPT_E_EXISTS : RCPT_E_IO,
		    "%s: cannot create: %s", path, strerror(errno));
		goto out;
	}
	if ((*out = fdopen(fd, "w")) == NULL) {
		close(fd);
		r = RCPT_E_NOMEM;
		goto out;
	}
	r = RCPT_OK;
out:
	free(path);
	return r;
}

/* Flushes, syncs and closes @p f, which was @p dir/@p name. */
static int
close_file(FILE *f, const char *dir, const char *name, struct rcpt_diag *diag)
{
	int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;

	if (fclose(f) != 0)
		bad = 1;
	if (bad)
		return rcpt_diag(
		    diag, RCPT_E_IO, "%s/%s: write failed", dir, name);
	return RCPT_OK;
}

static int
write_file(const char *dir, const char *name, const char *text, size_t len,
    struct rcpt_diag *diag)
{
	FILE *f = NULL;
	int r;

	if ((r = create_file(dir, name, &f, diag)) != RCPT_OK)
		return r;
	if (len > 0 && fwrite(text, 1, len, f) != len) {
		fclose(f);
		return rcpt_diag(
		    diag, RCPT_E_IO, "%s/%s: write failed", dir, name);
	}
	return close_file(f, dir, name, diag);
}

/* Writes @p rec as one JCS line and adds its leaf to @p acc. */
static int
emit_receipt(FILE *f, const struct rcpt_receipt *rec,
    struct rcpt_merkle_acc *acc, struct rcpt_diag *diag)
{
	uint8_t leaf[RCPT_HASH_LEN];
	char *line = NULL;
	size_t len = 0;
	int r;

	if ((r = rcpt_receipt_serialize(rec, &line, &len)) != RCPT_OK)
		return rcpt_diag(diag, r, "seq %llu: cannot serialize",
		    (unsigned long long)rec->seq);
	if (fwrite(line, 1, len, f) != len || fputc('\n', f) == EOF)
		r = rcpt_diag(diag, RCPT_E_IO, "receipts.jsonl: write failed");
	free(line);
	if (r != RCPT_OK)
		return r;
	rcpt_merkle_leaf_hash(rec->entry_hash, leaf);
	rcpt_merkle_acc_push(acc, leaf);
	return RCPT_OK;
}

struct chain_job {
	const char *events_path;
	const char *outdir;
	const char *submitter;
	struct rcpt_chain chain;
	struct rcpt_signer *signer;
	struct rcpt_merkle_acc acc;
	char genesis_ts[RCPT_TS_LEN + 1];
};

/*
 * Appends the event on line @p lineno (@p text, @p len, without \n);
 * @p last seals a batch chain.
 */
static int
append_event(struct chain_job *j, FILE *f, size_t lineno, const char *text,
    size_t len, bool last, struct rcpt_diag *diag)
{
	struct rcpt_chain_event ev;
	struct rcpt_receipt rec;
	struct rcpt_diag sub = {0};
	json_object *doc = NULL;
	char ts[RCPT_TS_LEN + 1];
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_init(&rec);
	if ((r = rcpt_cli_event_parse(text, len, &doc, &ev, &sub)) != RCPT_OK)
		goto out;
	if ((r = now_ts(ts, &sub)) != RCPT_OK)
		goto out;
	ev.submitter = j->submitter;
	ev.ts = ts;
	ev.seal = last;
	if ((r = rcpt_chain_append(&j->chain, &ev, j->signer, &rec, &sub)) !=
	    RCPT_OK)
		goto out;
	r = emit_receipt(f, &rec, &j->acc, &sub);
out:
	if (r != RCPT_OK)
		rcpt_diag(diag, r, "%s line %zu: %s", j->events_path, lineno,
		    rcpt_diag_msg(&sub, r));
	rcpt_receipt_clear(&rec);
	json_object_put(doc);
	return r;
}

/* Writes receipts.jsonl: genesis, then one receipt per event line. */
static int
write_receipts(struct chain_job *j, const char *name, const char *origin,
    enum rcpt_sealing sealing, const char *events, size_t events_len,
    struct rcpt_diag *diag)
{
	struct rcpt_receipt rec;
	struct rcpt_cli_lines it;
	FILE *f = NULL;
	const char *line;
	size_t len;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_init(&rec);
	if ((r = create_file(j->outdir, "receipts.jsonl", &f, diag)) != RCPT_OK)
		goto out;
	if ((r = now_ts(j->genesis_ts, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_chain_genesis(&j->chain, name, origin, sealing,
	         j->genesis_ts, j->signer, &rec, diag)) != RCPT_OK)
		goto out;
	if ((r = emit_receipt(f, &rec, &j->acc, diag)) != RCPT_OK)
		goto out;
	rcpt_cli_lines_init(&it, events, events_len);
	while (rcpt_cli_lines_next(&it, &line, &len))
		if ((r = append_event(j, f, it.lineno, line, len,
		         rcpt_cli_lines_at_end(&it), diag)) != RCPT_OK)
			goto out;
	r = RCPT_OK;
out:
	rcpt_receipt_clear(&rec);
	if (f != NULL) {
		int rc = close_file(f, j->outdir, "receipts.jsonl", diag);

		if (r == RCPT_OK)
			r = rc;
	}
	return r;
}

/* Writes keys.jwks.json (the one active key) and checkpoint.txt. */
static int
write_keys_checkpoint(struct chain_job *j, struct rcpt_diag *diag)
{
	struct rcpt_jwks_key key = {0};
	struct rcpt_jwks set = {&key, 1};
	uint8_t root[RCPT_HASH_LEN];
	char *keys = NULL, *note = NULL;
	size_t keys_len = 0;
	int r = RCPT_E_INTERNAL;

	memcpy(key.kid, j->signer->kid, sizeof(key.kid));
	memcpy(key.pub, j->signer->pub, sizeof(key.pub));
	snprintf(key.chain, sizeof(key.chain), "%s", j->chain.name);
	key.status = RCPT_KEY_ACTIVE;
	memcpy(key.created, j->genesis_ts, sizeof(key.created));
	if ((r = rcpt_jwks_serialize(&set, &keys, &keys_len)) != RCPT_OK) {
		rcpt_diag(diag, r, "keys.jwks.json: cannot serialize");
		goto out;
	}
	if ((r = write_file(
	         j->outdir, "keys.jwks.json", keys, keys_len, diag)) != RCPT_OK)
		goto out;
	rcpt_merkle_acc_root(&j->acc, root);
	if ((r = rcpt_checkpoint_sign(j->chain.origin, j->chain.name,
	         j->acc.size, root, j->signer, &note)) != RCPT_OK) {
		rcpt_diag(diag, r, "checkpoint.txt: cannot sign");
		goto out;
	}
	r = write_file(j->outdir, "checkpoint.txt", note, strlen(note), diag);
out:
	free(note);
	free(keys);
	return r;
}

int
cmd_dev_chain(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"software", required_argument, NULL, 'k'},
	    {"chain", required_argument, NULL, 'c'},
	    {"origin", required_argument, NULL, 'o'},
	    {"sealing", required_argument, NULL, 's'},
	    {"submitter", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	struct chain_job j = {0};
	struct rcpt_softkey *key = NULL;
	struct rcpt_signer signer = {0};
	enum rcpt_sealing sealing = RCPT_SEALING_EACH;
	const char *key_path = NULL, *name = NULL, *origin = NULL;
	char *events = NULL;
	size_t events_len = 0;
	bool created = false, prepared = false;
	int c, r = RCPT_E_INTERNAL;

	j.submitter = "dev";
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'c':
			name = optarg;
			break;
		case 'o':
			origin = optarg;
			break;
		case 's':
			if (rcpt_chain_sealing_parse(optarg, &sealing) !=
			    RCPT_OK)
				return rcpt_cli_usage_error(argv[0],
				    "--sealing: must be each or batch");
			break;
		case 'u':
			j.submitter = optarg;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (argc - optind != 2)
		return rcpt_cli_usage_error(
		    argv[0], "needs EVENTS.jsonl and OUTDIR");
	if (key_path == NULL || name == NULL || origin == NULL)
		return rcpt_cli_usage_error(
		    argv[0], "--software, --chain and --origin are required");
	j.events_path = argv[optind];
	j.outdir = argv[optind + 1];
	rcpt_chain_init(&j.chain);

	if ((r = rcpt_cli_read_file(j.events_path, RCPT_CLI_EVENTS_MAX, &events,
	         &events_len, &diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_softkey_open(key_path, &key, &diag)) != RCPT_OK)
		goto out;
	rcpt_softkey_signer(key, &signer);
	j.signer = &signer;
	if ((r = prepare_outdir(j.outdir, &created, &diag)) != RCPT_OK)
		goto out;
	prepared = true;
	if ((r = write_receipts(&j, name, origin, sealing, events, events_len,
	         &diag)) != RCPT_OK)
		goto out;
	r = write_keys_checkpoint(&j, &diag);
out:
	if (r != RCPT_OK && prepared)
		remove_outputs(j.outdir, created);
	rcpt_chain_clear(&j.chain);
	rcpt_softkey_close(key);
	free(events);
	if (r != RCPT_OK)
		return rcpt_cli_fail(argv[0], r, &diag);
	return RCPT_CLI_EXIT_OK;
}

/* The receipts of a dev-chain directory, split into lines. */
struct receipt_lines {
	char *text; /* whole receipts.jsonl */
	size_t len;
	size_t *start;                  /* offset of line i */
	uint8_t (*hash)[RCPT_HASH_LEN]; /* entry_hash of line i */
	size_t n;
	char chain[RCPT_CHAIN_MAX + 1];
};

static void
receipt_lines_clear(struct receipt_lines *rl)
{
	free(rl->hash);
	free(rl->start);
	free(rl->text);
	memset(rl, 0, sizeof(*rl));
}

/* Leaf callback over the entry hashes of a struct receipt_lines. */
static int
leaf_at(void *ctx, uint64_t index, uint8_t out[RCPT_HASH_LEN])
{
	const struct receipt_lines *rl = ctx;

	if (index >= rl->n)
		return RCPT_E_INVAL;
	rcpt_merkle_leaf_hash(rl->hash[index], out);
	return RCPT_OK;
}

/*
 * Reads receipts.jsonl and parses every line for its seq, chain and
 * entry_hash; the receipts are not verified (verify-bundle does that).
 */
static int
load_receipts(
    const char *path, struct receipt_lines *rl, struct rcpt_diag *diag)
{
	struct rcpt_receipt rec;
	size_t pos = 0, cap = 0;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_init(&rec);
	if ((r = rcpt_cli_read_file(path, RECEIPTS_MAX_BYTES, &rl->text,
	         &rl->len, diag)) != RCPT_OK)
		goto out;
	if (rl->len == 0 || rl->text[rl->len - 1] != '\n') {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: must be lines each ending in \\n", path);
		goto out;
	}
	while (pos < rl->len) {
		const char *nl = memchr(rl->text + pos, '\n', rl->len - pos);
		size_t len = (size_t)(nl - (rl->text + pos));

		if (rl->n == cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;
			size_t *s =
			    rcpt_reallocarray(rl->start, ncap, sizeof(*s));
			uint8_t(*h)[RCPT_HASH_LEN];

			if (s == NULL) {
				r = RCPT_E_NOMEM;
				goto out;
			}
			rl->start = s;
			h = rcpt_reallocarray(rl->hash, ncap, sizeof(*h));
			if (h == NULL) {
				r = RCPT_E_NOMEM;
				goto out;
			}
			rl->hash = h;
			cap = ncap;
		}
		rcpt_receipt_clear(&rec);
		if ((r = rcpt_receipt_parse(rl->text + pos, len,
		         RCPT_JSON_DEPTH_MAX, &rec, diag)) != RCPT_OK) {
			rcpt_diag(diag, r, "%s line %zu: not a receipt", path,
			    rl->n + 1);
			goto out;
		}
		if (rec.seq != rl->n ||
		    (rl->n > 0 && strcmp(rec.chain, rl->chain) != 0)) {
			r = rcpt_diag(diag, RCPT_E_INVAL,
			    "%s line %zu: seq or chain out of order", path,
			    rl->n + 1);
			goto out;
		}
		memcpy(rl->chain, rec.chain, sizeof(rl->chain));
		memcpy(rl->hash[rl->n], rec.entry_hash, RCPT_HASH_LEN);
		rl->start[rl->n++] = pos;
		pos += len + 1;
	}
	r = RCPT_OK;
out:
	rcpt_receipt_clear(&rec);
	return r;
}

/* proofs.jsonl: the inclusion proof of receipt @p b in @p note, + \n. */
static int
make_proof_line(const struct receipt_lines *rl, uint64_t b, const char *note,
    char **out, size_t *len_out, struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof p = {0};
	char *text = NULL, *line = NULL;
	size_t len = 0;
	int r = RCPT_E_INTERNAL;

	*out = NULL;
	*len_out = 0;
	if ((r = rcpt_proof_inclusion_build(leaf_at, (void *)rl, rl->chain, b,
	         rl->hash[b], note, &p, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_proof_inclusion_serialize(&p, &text, &len, diag)) !=
	    RCPT_OK)
		goto out;
	if ((line = rcpt_malloc(len + 2)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	memcpy(line, text, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	*out = line;
	*len_out = len + 1;
	line = NULL;
	r = RCPT_OK;
out:
	free(line);
	free(text);
	rcpt_proof_inclusion_clear(&p);
	return r;
}

struct bundle_inputs {
	struct receipt_lines rl;
	char *keys;
	size_t keys_len;
	char *note;
	size_t note_len;
	char *proofs;
	size_t proofs_len;
};

static void
bundle_inputs_clear(struct bundle_inputs *in)
{
	free(in->proofs);
	free(in->note);
	free(in->keys);
	receipt_lines_clear(&in->rl);
}

/* Reads the three files of a dev-chain directory @p dir. */
static int
load_dir(const char *dir, struct bundle_inputs *in, struct rcpt_diag *diag)
{
	char *p = NULL;
	int r = RCPT_E_INTERNAL;

	if ((p = join_path(dir, "receipts.jsonl")) == NULL)
		return RCPT_E_NOMEM;
	r = load_receipts(p, &in->rl, diag);
	free(p);
	if (r != RCPT_OK)
		return r;
	if ((p = join_path(dir, "keys.jwks.json")) == NULL)
		return RCPT_E_NOMEM;
	r = rcpt_cli_read_file(
	    p, KEYS_MAX_BYTES, &in->keys, &in->keys_len, diag);
	free(p);
	if (r != RCPT_OK)
		return r;
	if ((p = join_path(dir, "checkpoint.txt")) == NULL)
		return RCPT_E_NOMEM;
	r = rcpt_cli_read_file(
	    p, RCPT_CHECKPOINT_MAX_BYTES, &in->note, &in->note_len, diag);
	free(p);
	return r;
}

/* Tree size of the checkpoint note in @p in. */
static int
note_size(
    const struct bundle_inputs *in, uint64_t *size_out, struct rcpt_diag *diag)
{
	struct rcpt_checkpoint cp = {0};
	int r;

	*size_out = 0;
	r = rcpt_checkpoint_parse(in->note, in->note_len, &cp, diag);
	if (r == RCPT_OK)
		*size_out = cp.size;
	else
		rcpt_diag(diag, r, "checkpoint.txt: cannot parse");
	rcpt_checkpoint_clear(&cp);
	return r;
}

static int
parse_seq(const char *cmd, const char *opt, const char *s, uint64_t *out,
    bool *set_out)
{
	long v;

	if (rcpt_cli_parse_long(s, 0, 9007199254740991L, &v) != RCPT_OK)
		return rcpt_cli_usage_error(
		    cmd, "%s: must be a non-negative integer", opt);
	*out = (uint64_t)v;
	*set_out = true;
	return RCPT_CLI_EXIT_OK;
}

int
cmd_dev_bundle(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"software", required_argument, NULL, 'k'},
	    {"dir", required_argument, NULL, 'd'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	struct bundle_inputs in = {0};
	struct rcpt_bundle_parts parts = {0};
	struct rcpt_softkey *key = NULL;
	struct rcpt_signer signer = {0};
	const char *key_path = NULL, *dir = NULL, *out_path;
	char created[RCPT_TS_LEN + 1];
	uint64_t a = 0, b = 0, size = 0;
	bool a_set = false, b_set = false;
	size_t end;
	int c, r = RCPT_E_INTERNAL;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			if (parse_seq(argv[0], "--from", optarg, &a, &a_set) !=
			    0)
				return RCPT_CLI_EXIT_USAGE;
			break;
		case 't':
			if (parse_seq(argv[0], "--to", optarg, &b, &b_set) != 0)
				return RCPT_CLI_EXIT_USAGE;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (argc - optind != 1)
		return rcpt_cli_usage_error(
		    argv[0], "needs exactly one OUT.tar");
	if (key_path == NULL || dir == NULL)
		return rcpt_cli_usage_error(
		    argv[0], "--software and --dir are required");
	out_path = argv[optind];

	if ((r = load_dir(dir, &in, &diag)) != RCPT_OK)
		goto out;
	if (!b_set)
		b = in.rl.n - 1;
	if (a > b || b >= in.rl.n) {
		r = rcpt_diag(&diag, RCPT_E_INVAL,
		    "--from/--to: need from <= to < %zu (receipts in %s)",
		    in.rl.n, dir);
		goto out;
	}
	if ((r = note_size(&in, &size, &diag)) != RCPT_OK)
		goto out;
	if (rcpt_bundle_needs_proofs(a, b, size) &&
	    (r = make_proof_line(&in.rl, b, in.note, &in.proofs, &in.proofs_len,
	         &diag)) != RCPT_OK)
		goto out;
	if ((r = now_ts(created, &diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_softkey_open(key_path, &key, &diag)) != RCPT_OK)
		goto out;
	rcpt_softkey_signer(key, &signer);

	end = b + 1 < in.rl.n ? in.rl.start[b + 1] : in.rl.len;
	parts.chain = in.rl.chain;
	parts.first_seq = a;
	parts.last_seq = b;
	parts.created = created;
	parts.receipts = in.rl.text + in.rl.start[a];
	parts.receipts_len = end - in.rl.start[a];
	parts.keys = in.keys;
	parts.keys_len = in.keys_len;
	parts.checkpoint = in.note;
	parts.checkpoint_len = in.note_len;
	parts.proofs = in.proofs;
	parts.proofs_len = in.proofs_len;
	if ((r = rcpt_bundle_write(out_path, &parts, &signer, &diag)) ==
	    RCPT_E_EXISTS) {
		rcpt_cli_warn(
		    argv[0], "%s exists; refusing to overwrite", out_path);
		goto out;
	}
out:
	rcpt_softkey_close(key);
	bundle_inputs_clear(&in);
	if (r == RCPT_E_EXISTS)
		return RCPT_CLI_EXIT_BROKEN;
	if (r != RCPT_OK)
		return rcpt_cli_fail(argv[0], r, &diag);
	return RCPT_CLI_EXIT_OK;
}
