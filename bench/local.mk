# SPDX-License-Identifier: Apache-2.0
# Benchmarks: built by `make bench`, never run by `make check`.
EXTRA_PROGRAMS = bench/verify bench/sign bench/append
bench_verify_SOURCES = bench/verify.c bench/verify-limits.c \
	bench/verify-limits.h bench/common.c bench/common.h
bench_verify_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPEER_NAIVE=\"$(abs_top_srcdir)/bench/peer-naive.py\"
bench_verify_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
bench_verify_LDADD = src/libreceipt.la $(JSONC_LIBS) $(CRYPTO_LIBS) -lpthread
bench_sign_SOURCES = bench/sign.c bench/common.c bench/common.h
bench_sign_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\"
bench_sign_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) \
	$(P11KIT_CFLAGS)
bench_sign_LDADD = keystore/libkeystore.la hsm/libhsm.la src/libreceipt.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS) $(P11KIT_LIBS) -ldl
bench_append_SOURCES = bench/append.c bench/append-limits.c \
	bench/append-report.c bench/append.h bench/common.c bench/common.h
bench_append_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\" \
	-DRECEIPTD=\"$(abs_top_builddir)/src/receiptd\" \
	-DRECEIPTCTL=\"$(abs_top_builddir)/src/receiptctl\" \
	-DBENCH_SRCDIR=\"$(abs_top_srcdir)/bench\"
bench_append_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) \
	$(P11KIT_CFLAGS) $(LMDB_CFLAGS)
bench_append_LDADD = src/libclient.la src/libappliance.la \
	keystore/libkeystore.la hsm/libhsm.la src/libreceipt.la $(JSONC_LIBS) \
	$(CRYPTO_LIBS) $(P11KIT_LIBS) $(LMDB_LIBS) -ldl -lpthread
CLEANFILES += $(EXTRA_PROGRAMS)

bench: $(EXTRA_PROGRAMS) keystore/provider-pkcs11.la src/receiptd$(EXEEXT) \
	src/receiptctl$(EXEEXT)
.PHONY: bench
EXTRA_DIST += bench/README.md bench/peer-naive.py
