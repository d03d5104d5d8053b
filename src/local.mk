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
	src/store.c src/store-rec.c src/store-read.c src/store-int.h src/store.h \
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
	src/cli-token.c \
	src/cli-admin.c \
	src/cli-event.c
src_receiptctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LMDB_CFLAGS) \
	-DPROVIDERS_DIR=\"$(providersdir)\"
src_receiptctl_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la src/libreceipt.la $(P11KIT_LIBS) $(LMDB_LIBS) -ldl

# libappliance: what the appliance does with the store and the keystore:
# key ceremonies and the anti-rollback anchor.  The daemon links it.
noinst_LTLIBRARIES += src/libappliance.la
src_libappliance_la_SOURCES = \
	src/ceremony.c src/ceremony.h src/ceremony-open.c src/ceremony-int.h \
	src/ceremony-batch.c src/ceremony-prune.c \
	src/anchor.c src/anchor.h src/anchor-int.h src/anchor-advance.c \
	src/settings.c src/settings-parse.c src/settings.h
src_libappliance_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JSONC_CFLAGS) \
	$(LMDB_CFLAGS) $(INIH_CFLAGS)
src_libappliance_la_LIBADD = keystore/libkeystore.la src/libreceipt.la \
	$(CRYPTO_LIBS) $(JSONC_LIBS) $(INIH_LIBS)
