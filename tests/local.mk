# SPDX-License-Identifier: Apache-2.0
# One CUnit program per module (STYLE 9); each links libreceipt and testlib.
TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests \
	-DVECTORS_DIR=\"$(abs_top_srcdir)/tests/vectors\" \
	-DRECEIPTCTL=\"$(abs_top_builddir)/src/receiptctl\"
TEST_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) \
	$(ARCHIVE_CFLAGS)
TEST_LIBS = tests/libtestlib.la src/libreceipt.la $(CUNIT_LIBS) \
	$(JSONC_LIBS) $(CRYPTO_LIBS) $(ARCHIVE_LIBS)

check_LTLIBRARIES = tests/libtestlib.la
tests_libtestlib_la_SOURCES = tests/testlib.c tests/testlib.h
tests_libtestlib_la_CPPFLAGS = $(TEST_CPPFLAGS)
tests_libtestlib_la_CFLAGS = $(TEST_CFLAGS)

RCPT_TESTS = \
	tests/test-err \
	tests/test-encode \
	tests/test-json \
	tests/test-jcs \
	tests/test-ed25519 \
	tests/test-jwk \
	tests/test-softkey \
	tests/test-merkle \
	tests/test-checkpoint \
	tests/test-proof \
	tests/test-receipt \
	tests/test-verify \
	tests/test-tamper \
	tests/test-bundle \
	tests/test-cli \
	tests/test-store \
	tests/test-hsm \
	tests/test-keystore \
	tests/test-ceremony \
	tests/test-admin \
	tests/test-batch \
	tests/test-config \
	tests/test-client \
	tests/test-daemon \
	tests/test-faults \
	tests/test-harden \
	tests/test-stop

check_PROGRAMS += $(RCPT_TESTS)
TESTS += $(RCPT_TESTS)

tests_test_err_SOURCES = tests/test-err.c
tests_test_encode_SOURCES = tests/test-encode.c
tests_test_json_SOURCES = tests/test-json.c
tests_test_jcs_SOURCES = tests/test-jcs.c
tests_test_ed25519_SOURCES = tests/test-ed25519.c
tests_test_jwk_SOURCES = tests/test-jwk.c
tests_test_softkey_SOURCES = tests/test-softkey.c
tests_test_merkle_SOURCES = tests/test-merkle.c
tests_test_checkpoint_SOURCES = tests/test-checkpoint.c
tests_test_proof_SOURCES = tests/test-proof.c
tests_test_receipt_SOURCES = tests/test-receipt.c
tests_test_verify_SOURCES = tests/test-verify.c
tests_test_tamper_SOURCES = tests/test-tamper.c
tests_test_bundle_SOURCES = tests/test-bundle.c
tests_test_cli_SOURCES = tests/test-cli.c

tests_test_store_SOURCES = tests/test-store.c
tests_test_store_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_store_CFLAGS = $(TEST_CFLAGS) $(LMDB_CFLAGS)
tests_test_store_LDADD = $(TEST_LIBS) $(LMDB_LIBS)
tests_test_hsm_SOURCES = tests/test-hsm.c tests/softhsm.c tests/softhsm.h
tests_test_hsm_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\"
tests_test_hsm_CFLAGS = $(TEST_CFLAGS) $(P11KIT_CFLAGS)
tests_test_hsm_LDADD = hsm/libhsm.la $(TEST_LIBS) $(P11KIT_LIBS)
tests_test_keystore_SOURCES = tests/test-keystore.c tests/softhsm.c \
	tests/softhsm.h
tests_test_keystore_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\" \
	-DTEST_PLUGINS_BUILDDIR=\"$(abs_top_builddir)/tests/.libs\"
tests_test_keystore_CFLAGS = $(TEST_CFLAGS) $(P11KIT_CFLAGS)
tests_test_keystore_LDADD = keystore/libkeystore.la hsm/libhsm.la \
	$(TEST_LIBS) $(P11KIT_LIBS) -ldl
EXTRA_tests_test_keystore_DEPENDENCIES = keystore/provider-pkcs11.la \
	tests/provider-badabi.la

tests_test_ceremony_SOURCES = tests/test-ceremony.c tests/softhsm.c \
	tests/softhsm.h
tests_test_ceremony_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\"
tests_test_ceremony_CFLAGS = $(TEST_CFLAGS) $(P11KIT_CFLAGS) $(LMDB_CFLAGS)
tests_test_ceremony_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la $(TEST_LIBS) $(P11KIT_LIBS) $(LMDB_LIBS) -ldl
EXTRA_tests_test_ceremony_DEPENDENCIES = keystore/provider-pkcs11.la

tests_test_admin_SOURCES = tests/test-admin.c tests/softhsm.c tests/softhsm.h
tests_test_admin_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\"
tests_test_admin_CFLAGS = $(TEST_CFLAGS) $(P11KIT_CFLAGS) $(LMDB_CFLAGS)
tests_test_admin_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la $(TEST_LIBS) $(P11KIT_LIBS) $(LMDB_LIBS) -ldl
EXTRA_tests_test_admin_DEPENDENCIES = src/receiptctl$(EXEEXT) \
	keystore/provider-pkcs11.la

tests_test_batch_SOURCES = tests/test-batch.c tests/softhsm.c tests/softhsm.h
tests_test_batch_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\"
tests_test_batch_CFLAGS = $(TEST_CFLAGS) $(P11KIT_CFLAGS) $(LMDB_CFLAGS)
tests_test_batch_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la $(TEST_LIBS) $(P11KIT_LIBS) $(LMDB_LIBS) $(INIH_LIBS) -ldl
EXTRA_tests_test_batch_DEPENDENCIES = keystore/provider-pkcs11.la

tests_test_config_SOURCES = tests/test-config.c
tests_test_config_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_config_CFLAGS = $(TEST_CFLAGS) $(INIH_CFLAGS)
tests_test_config_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la $(TEST_LIBS) $(P11KIT_LIBS) $(LMDB_LIBS) $(INIH_LIBS) -ldl

tests_test_client_SOURCES = tests/test-client.c
tests_test_client_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_client_CFLAGS = $(TEST_CFLAGS)
EXTRA_tests_test_client_DEPENDENCIES = src/receiptctl$(EXEEXT)
tests_test_client_LDADD = src/libclient.la $(TEST_LIBS) -lpthread

# Integration: a real receiptd on a temporary socket and SoftHSM2 token.
tests_test_daemon_SOURCES = tests/test-daemon.c tests/daemonlib.c \
	tests/daemonlib.h tests/softhsm.c tests/softhsm.h
tests_test_daemon_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DSOFTHSM_MODULE=\"$(SOFTHSM_MODULE)\" \
	-DPROVIDERS_BUILDDIR=\"$(abs_top_builddir)/keystore/.libs\" \
	-DRECEIPTD=\"$(abs_top_builddir)/src/receiptd\"
tests_test_daemon_CFLAGS = $(TEST_CFLAGS) $(P11KIT_CFLAGS) $(LMDB_CFLAGS)
tests_test_daemon_LDADD = src/libclient.la src/libappliance.la \
	keystore/libkeystore.la hsm/libhsm.la $(TEST_LIBS) $(P11KIT_LIBS) \
	$(LMDB_LIBS) $(INIH_LIBS) -ldl -lpthread
EXTRA_tests_test_daemon_DEPENDENCIES = src/receiptd$(EXEEXT) \
	src/receiptctl$(EXEEXT) keystore/provider-pkcs11.la

# Fault suites: kill -9 under load, token loss, full disk and map, torn
# stores.  RCPT_FAULT_LONG=1 runs them for longer.
tests_test_faults_SOURCES = tests/test-faults.c tests/daemonlib.c \
	tests/daemonlib.h tests/softhsm.c tests/softhsm.h
tests_test_faults_CPPFLAGS = $(tests_test_daemon_CPPFLAGS)
tests_test_faults_CFLAGS = $(tests_test_daemon_CFLAGS)
tests_test_faults_LDADD = $(tests_test_daemon_LDADD)
EXTRA_tests_test_faults_DEPENDENCIES = $(EXTRA_tests_test_daemon_DEPENDENCIES)

# Hardening: what a running receiptd looks like from /proc.
tests_test_harden_SOURCES = tests/test-harden.c tests/daemonlib.c \
	tests/daemonlib.h tests/softhsm.c tests/softhsm.h
tests_test_harden_CPPFLAGS = $(tests_test_daemon_CPPFLAGS)
tests_test_harden_CFLAGS = $(tests_test_daemon_CFLAGS)
tests_test_harden_LDADD = $(tests_test_daemon_LDADD)
EXTRA_tests_test_harden_DEPENDENCIES = $(EXTRA_tests_test_daemon_DEPENDENCIES)

# SIGTERM meeting many hang-ups in one wake-up.
tests_test_stop_SOURCES = tests/test-stop.c tests/daemonlib.c \
	tests/daemonlib.h tests/softhsm.c tests/softhsm.h
tests_test_stop_CPPFLAGS = $(tests_test_daemon_CPPFLAGS)
tests_test_stop_CFLAGS = $(tests_test_daemon_CFLAGS)
tests_test_stop_LDADD = $(tests_test_daemon_LDADD)
EXTRA_tests_test_stop_DEPENDENCIES = $(EXTRA_tests_test_daemon_DEPENDENCIES)

# A provider built against another ABI major, for the loader's refusal.
check_LTLIBRARIES += tests/provider-badabi.la
tests_provider_badabi_la_SOURCES = tests/provider-badabi.c
tests_provider_badabi_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_provider_badabi_la_CFLAGS = $(AM_CFLAGS)

# Every test program shares the same flags; automake wants them per target.
tests_test_err_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_encode_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_json_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jcs_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_ed25519_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jwk_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_softkey_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_merkle_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_checkpoint_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_proof_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_receipt_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_verify_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_tamper_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_bundle_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_cli_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_err_CFLAGS = $(TEST_CFLAGS)
tests_test_encode_CFLAGS = $(TEST_CFLAGS)
tests_test_json_CFLAGS = $(TEST_CFLAGS)
tests_test_jcs_CFLAGS = $(TEST_CFLAGS)
tests_test_ed25519_CFLAGS = $(TEST_CFLAGS)
tests_test_jwk_CFLAGS = $(TEST_CFLAGS)
tests_test_softkey_CFLAGS = $(TEST_CFLAGS)
tests_test_merkle_CFLAGS = $(TEST_CFLAGS)
tests_test_checkpoint_CFLAGS = $(TEST_CFLAGS)
tests_test_proof_CFLAGS = $(TEST_CFLAGS)
tests_test_receipt_CFLAGS = $(TEST_CFLAGS)
tests_test_verify_CFLAGS = $(TEST_CFLAGS)
tests_test_tamper_CFLAGS = $(TEST_CFLAGS)
tests_test_bundle_CFLAGS = $(TEST_CFLAGS)
tests_test_cli_CFLAGS = $(TEST_CFLAGS)
tests_test_err_LDADD = $(TEST_LIBS)
tests_test_encode_LDADD = $(TEST_LIBS)
tests_test_json_LDADD = $(TEST_LIBS)
tests_test_jcs_LDADD = $(TEST_LIBS)
tests_test_ed25519_LDADD = $(TEST_LIBS)
tests_test_jwk_LDADD = $(TEST_LIBS)
tests_test_softkey_LDADD = $(TEST_LIBS)
tests_test_merkle_LDADD = $(TEST_LIBS)
tests_test_checkpoint_LDADD = $(TEST_LIBS)
tests_test_proof_LDADD = $(TEST_LIBS)
tests_test_receipt_LDADD = $(TEST_LIBS)
tests_test_verify_LDADD = $(TEST_LIBS)
tests_test_tamper_LDADD = $(TEST_LIBS)
tests_test_bundle_LDADD = $(TEST_LIBS)
tests_test_cli_LDADD = $(TEST_LIBS)

EXTRA_DIST += tests/vectors tests/lsan.supp tests/valgrind.supp

# Differential JCS check against an independent implementation in node
# (skipped, and reported as SKIP, where node is missing).
check_PROGRAMS += tests/jcs-canon-driver
tests_jcs_canon_driver_SOURCES = tests/jcs-canon-driver.c
tests_jcs_canon_driver_CPPFLAGS = $(TEST_CPPFLAGS)
tests_jcs_canon_driver_CFLAGS = $(TEST_CFLAGS)
tests_jcs_canon_driver_LDADD = src/libreceipt.la $(JSONC_LIBS) $(CRYPTO_LIBS)
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
TESTS += tests/jcs-diff.sh
EXTRA_DIST += tests/jcs-diff.sh tests/jcs-diff.js

# libFuzzer targets (--enable-fuzzing): `make fuzz-run` runs each briefly.
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-jcs tests/fuzz/fuzz-config \
	tests/fuzz/fuzz-rpc tests/fuzz/fuzz-receipt tests/fuzz/fuzz-bundle
tests_fuzz_fuzz_rpc_SOURCES = tests/fuzz/fuzz-rpc.c src/daemon/rpc.c \
	src/daemon/rpc-params.c
tests_fuzz_fuzz_rpc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_rpc_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_rpc_LDADD = $(tests_fuzz_fuzz_config_LDADD)
tests_fuzz_fuzz_receipt_SOURCES = tests/fuzz/fuzz-receipt.c tests/fuzz/fuzz-trust.h
tests_fuzz_fuzz_receipt_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_receipt_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_receipt_LDADD = src/libreceipt.la $(JSONC_LIBS)
tests_fuzz_fuzz_bundle_SOURCES = tests/fuzz/fuzz-bundle.c tests/fuzz/fuzz-trust.h
tests_fuzz_fuzz_bundle_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(ARCHIVE_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_bundle_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_bundle_LDADD = src/libreceipt.la $(JSONC_LIBS) \
	$(ARCHIVE_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_config_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_config_LDADD = src/libappliance.la keystore/libkeystore.la \
	hsm/libhsm.la src/libreceipt.la $(P11KIT_LIBS) $(LMDB_LIBS) \
	$(INIH_LIBS) $(JSONC_LIBS) -ldl
tests_fuzz_fuzz_jcs_SOURCES = tests/fuzz/fuzz-jcs.c
tests_fuzz_fuzz_jcs_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_jcs_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_jcs_LDADD = src/libreceipt.la $(JSONC_LIBS)

# Each target runs for FUZZ_SECONDS, one after the other.  Seeds are read
# from the source tree (tests/fuzz/corpus-*, the JCS vectors, conf/);
# what a run finds is written to tests/fuzz/run-* in the build tree, the
# first directory given, so the committed corpora never change.
FUZZ_SECONDS ?= 30
FUZZ_RUN = -max_total_time=$(FUZZ_SECONDS)
fuzz-run: tests/fuzz/fuzz-jcs tests/fuzz/fuzz-config tests/fuzz/fuzz-rpc \
	    tests/fuzz/fuzz-receipt tests/fuzz/fuzz-bundle
	mkdir -p tests/fuzz/run-jcs tests/fuzz/run-config tests/fuzz/run-rpc \
	    tests/fuzz/run-receipt tests/fuzz/run-bundle
	tests/fuzz/fuzz-jcs $(FUZZ_RUN) -max_len=4096 \
	    tests/fuzz/run-jcs $(srcdir)/tests/vectors/jcs/input
	tests/fuzz/fuzz-config $(FUZZ_RUN) -max_len=8192 \
	    tests/fuzz/run-config $(srcdir)/conf
	tests/fuzz/fuzz-rpc $(FUZZ_RUN) -max_len=8192 \
	    tests/fuzz/run-rpc $(srcdir)/tests/fuzz/corpus-rpc
	tests/fuzz/fuzz-receipt $(FUZZ_RUN) -max_len=16384 \
	    tests/fuzz/run-receipt $(srcdir)/tests/fuzz/corpus-receipt
	tests/fuzz/fuzz-bundle $(FUZZ_RUN) -max_len=65536 \
	    tests/fuzz/run-bundle $(srcdir)/tests/fuzz/corpus-bundle
else
fuzz-run:
	@echo "fuzz-run needs ./configure --enable-fuzzing (clang)" >&2; exit 2
endif
EXTRA_DIST += tests/fuzz/fuzz-jcs.c tests/fuzz/fuzz-config.c \
	tests/fuzz/fuzz-rpc.c tests/fuzz/fuzz-receipt.c tests/fuzz/fuzz-bundle.c \
	tests/fuzz/fuzz-trust.h
EXTRA_DIST += tests/fuzz/corpus-rpc tests/fuzz/corpus-receipt \
	tests/fuzz/corpus-bundle

# Valgrind rerun of the whole suite (STYLE 10).
memcheck: $(check_PROGRAMS)
	$(MAKE) $(AM_MAKEFLAGS) check \
	    LOG_COMPILER="$(LIBTOOL) --mode=execute valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet --suppressions=$(abs_top_srcdir)/tests/valgrind.supp"
.PHONY: memcheck fuzz-run

# test-cli and test-tamper run the built receiptctl.
EXTRA_tests_test_cli_DEPENDENCIES = src/receiptctl$(EXEEXT)
EXTRA_tests_test_tamper_DEPENDENCIES = src/receiptctl$(EXEEXT)
