/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JWK Set the receipt and bundle fuzz targets pass as --trust: the
 * keys of the chains their seed corpora come from (demo, batchy; rot,
 * rot2 with a rotation, rot3 with a rotation and a revocation), so
 * that pinned verification is reached too.
 */
#ifndef RCPT_TESTS_FUZZ_TRUST_H
#define RCPT_TESTS_FUZZ_TRUST_H

static const char trust_text[] =
    "{\"keys\":["
    "{\"alg\":\"EdDSA\",\"chain\":\"demo\",\"created\":\"2026-11-22T00:"
    "20:44.236Z\",\"crv\":\"Ed25519\",\"kid\":\"U-7awlFs880yDFxnc9AiMP8"
    "-wKe-tAFr5kq93zzmaQU\",\"kty\":\"OKP\",\"status\":\"active\",\"use"
    "\":\"sig\",\"x\":\"EFG6PxIVS9Li9-4R4bgErPhJ_4dtTX4hE2y06zT5Tw8\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"batchy\",\"created\":\"2026-11-22T0"
    "0:23:21.301Z\",\"crv\":\"Ed25519\",\"kid\":\"nG_VUpGibiXoGwWUbsM2U"
    "uteXbQ9YIV7sdurbnpab40\",\"kty\":\"OKP\",\"status\":\"active\",\"u"
    "se\":\"sig\",\"x\":\"FrA9Qwsr6Ad67WHFTkkrIKXN48fSIhFR1w9hCHOLJtA\""
    "},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot\",\"created\":\"2026-11-22T00:2"
    "0:48.149Z\",\"crv\":\"Ed25519\",\"kid\":\"Atc_8UUR0ruHnNdG-JxePJ26"
    "qQ60txBcL6LGUE9vM3M\",\"kty\":\"OKP\",\"status\":\"active\",\"use"
    "\":\"sig\",\"x\":\"i8t3ENF88XfvBmjTkk9dm0mKd7ryTx91jz2EXw6bp2g\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot\",\"created\":\"2026-11-22T00:2"
    "0:48.034Z\",\"crv\":\"Ed25519\",\"kid\":\"HR3PlpdktvWjpBkYsvj3ihfZ"
    "6TXSIFTqhXLeRHP3v5A\",\"kty\":\"OKP\",\"retired\":\"2026-11-22T00:"
    "20:48.149Z\",\"status\":\"retired\",\"use\":\"sig\",\"x\":\"H76fkt"
    "C5kPHtNw5XYQ-O5sCG99vcvJsgSW20eVFF-mY\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot\",\"created\":\"2026-11-22T00:2"
    "0:45.912Z\",\"crv\":\"Ed25519\",\"kid\":\"If7374fRl2qdsetWjXS_akWv"
    "LBlzuu5cvp42hQGkTxc\",\"kty\":\"OKP\",\"retired\":\"2026-11-22T00:"
    "20:48.034Z\",\"revoked\":\"2026-11-22T00:20:47.000Z\",\"status\":"
    "\"revoked\",\"use\":\"sig\",\"x\":\"MM0qCyzefoUptSb1BijlHMx5vImvL6"
    "HgGeH-VYeYDUc\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot2\",\"created\":\"2026-11-22T00:"
    "21:28.609Z\",\"crv\":\"Ed25519\",\"kid\":\"IiJh90O-sdY2D-4NarwCo9I"
    "bGYVAHldhrIqEMtsRlrg\",\"kty\":\"OKP\",\"status\":\"active\",\"use"
    "\":\"sig\",\"x\":\"gWe7CHLT34d41wpAC1QcKC52IaIbSCPzE79Jv6FoBQ8\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot2\",\"created\":\"2026-11-22T00:"
    "21:28.421Z\",\"crv\":\"Ed25519\",\"kid\":\"mA3Yul-q6VQUeVuwl_3pNaS"
    "vZ6VcPDjFhl5P4tNrM5s\",\"kty\":\"OKP\",\"retired\":\"2026-11-22T00"
    ":21:28.609Z\",\"status\":\"retired\",\"use\":\"sig\",\"x\":\"Tgw4H"
    "pZeVrfuGyqtLLpeQNJsbjEVO7LO-Bcei3y5YFw\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot3\",\"created\":\"2026-11-22T00:"
    "23:32.138Z\",\"crv\":\"Ed25519\",\"kid\":\"SBuKGXTsrgqrfiLmjPbNr7j"
    "sNC-Ub96cPk39GjgXVfE\",\"kty\":\"OKP\",\"retired\":\"2026-11-22T00"
    ":23:32.211Z\",\"revoked\":\"2026-11-22T00:23:33.000Z\",\"status\":"
    "\"revoked\",\"use\":\"sig\",\"x\":\"4XstLNOcTNiS8-HIVgmYfXT-uucZB7"
    "Y1vMBxQ4oSdw0\"},"
    "{\"alg\":\"EdDSA\",\"chain\":\"rot3\",\"created\":\"2026-11-22T00:"
    "23:32.211Z\",\"crv\":\"Ed25519\",\"kid\":\"es9Tre49KeHn3rFJEFRAGs3"
    "C3Bv1NAljpynB37KeuD0\",\"kty\":\"OKP\",\"status\":\"active\",\"use"
    "\":\"sig\",\"x\":\"BYZPuPo9jQfuhl44VTQRkRlHnxHzV205sedIMl9Zqps\"}"
    "]}";

#endif
