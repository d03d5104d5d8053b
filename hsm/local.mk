# SPDX-License-Identifier: Apache-2.0
# libhsm: PKCS#11 through p11-kit.  Knows nothing of receipts.
noinst_LTLIBRARIES += hsm/libhsm.la
hsm_libhsm_la_SOURCES = \
	hsm/hsm.c hsm/hsm.h hsm/hsm-int.h \
	hsm/session.c \
	hsm/data.c \
	hsm/token-init.c \
	hsm/ckr.c hsm/ckr.h \
	hsm/pin.c hsm/pin.h
hsm_libhsm_la_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS)
hsm_libhsm_la_LIBADD = $(P11KIT_LIBS)
