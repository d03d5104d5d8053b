# SPDX-License-Identifier: Apache-2.0
# libreceipt: the format core (SPEC 1-8), linked into every program.
noinst_LTLIBRARIES += src/libreceipt.la
src_libreceipt_la_SOURCES = \
	src/err.c src/err.h \
	src/mem.c src/mem.h \
	src/encode.c src/encode.h \
	src/ts.c src/ts.h \
	src/utf8.c src/utf8.h \
	src/json.c src/json.h \
	src/jcs.c src/jcs.h \
	src/ed25519.c src/ed25519.h \
	src/jwk.c src/jwk.h \
	src/signer.h \
	src/softkey.c src/softkey.h \
	src/merkle.c src/merkle.h \
	src/checkpoint.c src/checkpoint.h \
	src/proof.c src/proof.h \
	src/receipt.c src/receipt.h \
	src/receipt-scan.c \
	src/chain.c src/chain.h \
	src/verify.c src/verify.h \
	src/verify-keys.c src/verify-int.h \
	src/bundle-verify.c \
	src/bundle.c src/bundle.h
src_libreceipt_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JSONC_CFLAGS) \
	$(ARCHIVE_CFLAGS) $(LMDB_CFLAGS)
src_libreceipt_la_LIBADD = $(CRYPTO_LIBS) $(JSONC_LIBS) $(ARCHIVE_LIBS) \
	$(LMDB_LIBS)

bin_PROGRAMS += src/receiptctl
src_receiptctl_SOURCES = \
	src/cli.c src/cli.h \
	src/cli-canon.c \
	src/cli-verify.c \
	src/cli-keygen.c \
	src/cli-dev.c \
	src/cli-token.c
src_receiptctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	-DPROVIDERS_DIR=\"$(providersdir)\"
src_receiptctl_LDADD = keystore/libkeystore.la hsm/libhsm.la \
	src/libreceipt.la $(P11KIT_LIBS) -ldl

