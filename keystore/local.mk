# SPDX-License-Identifier: Apache-2.0
# libkeystore: provider loading (dlopen, ABI check) and the built-in
# software provider.  The PKCS#11 provider is a plugin of its own.
noinst_LTLIBRARIES += keystore/libkeystore.la
keystore_libkeystore_la_SOURCES = \
	keystore/provider.h keystore/provider-util.h \
	keystore/keystore.c keystore/keystore.h keystore/keystore-int.h \
	keystore/keystore-signer.c \
	keystore/provider-soft.c
keystore_libkeystore_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JSONC_CFLAGS) \
	-DPROVIDERS_DIR=\"$(providersdir)\"
keystore_libkeystore_la_LIBADD = src/libreceipt.la $(CRYPTO_LIBS) -ldl

providersdir = $(pkglibdir)/providers
providers_LTLIBRARIES = keystore/provider-pkcs11.la
keystore_provider_pkcs11_la_SOURCES = keystore/provider-pkcs11.c \
	keystore/provider-util.h
keystore_provider_pkcs11_la_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) $(JSONC_CFLAGS)
keystore_provider_pkcs11_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^rcpt_provider_entry$$'
keystore_provider_pkcs11_la_LIBADD = hsm/libhsm.la src/libreceipt.la \
	$(P11KIT_LIBS)
