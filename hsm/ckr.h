/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CK_RV helpers inside libhsm: the CKR_* name of a return value for
 * messages, and the one translation of CK_RV into RCPT_E_* codes.  These
 * are the boundary where PKCS#11 codes stop; nothing outside hsm/ sees a
 * CK_RV.  This file does not log and does not decide about retries,
 * except for saying which codes mean the session pool must be reopened.
 */
#ifndef RCPT_HSM_CKR_H
#define RCPT_HSM_CKR_H

#include <p11-kit/pkcs11.h>

/**
 * Returns the CKR_* name of @p rv as a static string, never NULL:
 * "CKR_VENDOR_DEFINED" for vendor codes, "CKR_UNKNOWN" otherwise.
 */
const char *rcpt_hsm_ckr_name(CK_RV rv);

/**
 * Maps @p rv (not CKR_OK) to an RCPT_E_* code: PIN problems to
 * RCPT_E_DENIED, CKR_HOST_MEMORY to RCPT_E_NOMEM, everything else to
 * RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_ckr_err(CK_RV rv);

/**
 * Returns 1 when @p rv means the sessions or the login are gone
 * (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_TOKEN_NOT_PRESENT,
 * CKR_DEVICE_REMOVED, CKR_DEVICE_ERROR, CKR_USER_NOT_LOGGED_IN), so the
 * pool must be reopened before the next operation; 0 otherwise.
 */
int rcpt_hsm_ckr_is_fatal(CK_RV rv);

#endif
