# SPDX-License-Identifier: Apache-2.0
# Benchmarks: built by `make bench`, never run by `make check`.
EXTRA_PROGRAMS = bench/verify bench/sign
bench_verify_SOURCES = bench/verify.c bench/common.c bench/common.h
bench_verify_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
bench_verify_LDADD = src/libreceipt.la $(JSONC_LIBS) $(CRYPTO_LIBS)
bench_sign_SOURCES = bench/sign.c bench/common.c bench/common.h
bench_sign_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\"
bench_sign_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) \
	$(P11KIT_CFLAGS)
bench_sign_LDADD = keystore/libkeystore.la hsm/libhsm.la src/libreceipt.la \
	$(JSONC_LIBS) $(CRYPTO_LIBS) $(P11KIT_LIBS) -ldl
CLEANFILES += $(EXTRA_PROGRAMS)

bench: $(EXTRA_PROGRAMS) keystore/provider-pkcs11.la
.PHONY: bench
EXTRA_DIST += bench/README.md
