# SPDX-License-Identifier: Apache-2.0
# Benchmarks: built by `make bench`, never run by `make check`.
EXTRA_PROGRAMS = bench/verify
bench_verify_SOURCES = bench/verify.c
bench_verify_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
bench_verify_LDADD = src/libreceipt.la $(JSONC_LIBS) $(CRYPTO_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)

bench: $(EXTRA_PROGRAMS)
.PHONY: bench
EXTRA_DIST += bench/README.md
