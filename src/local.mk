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
	src/verify.c src/verify.h src/verify-pool.c \
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
	src/cli-event.c \
	src/cli-online.c src/cli-online.h \
	src/cli-online-read.c \
	src/cli-online-admin.c
src_receiptctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LMDB_CFLAGS) \
	-DPROVIDERS_DIR=\"$(providersdir)\"
src_receiptctl_LDADD = src/libclient.la src/libappliance.la \
	keystore/libkeystore.la hsm/libhsm.la src/libreceipt.la $(P11KIT_LIBS) $(LMDB_LIBS) -ldl

# libappliance: what the appliance does with the store and the keystore:
# key ceremonies and the anti-rollback anchor.  The daemon links it.
noinst_LTLIBRARIES += src/libappliance.la
src_libappliance_la_SOURCES = \
	src/ceremony.c src/ceremony.h src/ceremony-open.c src/ceremony-int.h \
	src/ceremony-batch.c src/ceremony-prune.c \
	src/anchor.c src/anchor.h src/anchor-int.h src/anchor-advance.c \
	src/settings.c src/settings-parse.c src/settings-values.c \
	src/settings.h
src_libappliance_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JSONC_CFLAGS) \
	$(LMDB_CFLAGS) $(INIH_CFLAGS)
src_libappliance_la_LIBADD = keystore/libkeystore.la src/libreceipt.la \
	$(CRYPTO_LIBS) $(JSONC_LIBS) $(INIH_LIBS)

# The client (SPEC 9): a convenience library for receiptctl and the
# tests, and the same code installed as libreceiptclient with
# <receipt/client.h>, <receipt/err.h> and receipt-client.pc.
noinst_LTLIBRARIES += src/libclient.la
src_libclient_la_SOURCES = src/client.c src/client-calls.c \
	src/client-export.c src/client.h src/client-int.h
src_libclient_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(ARCHIVE_CFLAGS) \
	$(CRYPTO_CFLAGS)

lib_LTLIBRARIES = src/libreceiptclient.la
src_libreceiptclient_la_SOURCES =
src_libreceiptclient_la_LIBADD = src/libclient.la src/libreceipt.la
src_libreceiptclient_la_LDFLAGS = -version-info 0:0:0 \
	-export-symbols-regex '^rcpt_(client_|strerror$$|err_)'
receiptincludedir = $(includedir)/receipt
receiptinclude_HEADERS = src/client.h src/err.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = src/receipt-client.pc
EXTRA_DIST += src/receipt-client.pc.in

# receiptd: the daemon.
sbin_PROGRAMS = src/receiptd
src_receiptd_SOURCES = \
	src/daemon/daemon.h \
	src/daemon/main.c \
	src/daemon/server.c \
	src/daemon/conn.c \
	src/daemon/rpc.c src/daemon/rpc.h src/daemon/rpc-params.c \
	src/daemon/methods.c \
	src/daemon/methods-admin.c \
	src/daemon/writer.c \
	src/daemon/committer.c \
	src/daemon/signpool.c \
	src/daemon/harden.c src/daemon/harden.h \
	src/daemon/reload.c
src_receiptd_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LMDB_CFLAGS) \
	$(CRYPTO_CFLAGS) $(SECCOMP_CFLAGS) \
	-DPROVIDERS_DIR=\"$(providersdir)\"
src_receiptd_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la src/libreceipt.la $(P11KIT_LIBS) $(LMDB_LIBS) \
	$(INIH_LIBS) $(SECCOMP_LIBS) -ldl
