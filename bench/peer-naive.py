#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The naive alternative to receiptd, measured on the machine at hand.

This is the tool a user would write instead of running receiptd: Python,
PyNaCl (libsodium) with the Ed25519 key in process memory, and SQLite in
WAL mode with synchronous=FULL, so that every append is its own durable
transaction.  Each receipt is JSON with sorted keys, hash-chained with
SHA-256 and signed.  bench/append and bench/verify run it and print our
figures as ratios of its figures.  It is a yardstick, not a product: the
key sits in RAM, which receiptd exists to avoid.

  peer-naive.py append --dir DIR --seconds S [--event-bytes N]
  peer-naive.py build  --dir DIR --n N        (untimed; for verify)
  peer-naive.py verify --dir DIR

Each command prints what it measured and ends with one line of JSON.
Exit status: 0 on success, 1 when verification finds a bad row, 2 on
bad usage or a missing python3-nacl.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import time

try:
    import nacl.exceptions
    import nacl.signing
except ImportError:
    sys.stderr.write("peer-naive.py: python3-nacl is not installed "
                     "(apt-get install python3-nacl)\n")
    sys.exit(2)

SEED = bytes(range(32))  # a fixed key: the figures, not the secret, matter
GENESIS = "0" * 64


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def event(n, size):
    head = {"event": "c0000-%012d" % n, "pad": ""}
    pad = size - len(canon(head))
    head["pad"] = "x" * max(pad, 0)
    return head


def open_db(path, fresh):
    if fresh and os.path.exists(path):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS receipts (seq INTEGER PRIMARY "
               "KEY, body TEXT NOT NULL, hash TEXT NOT NULL, "
               "sig BLOB NOT NULL)")
    return db


def make(key, seq, prev, ev):
    body = canon({"seq": seq, "ts": time.time(), "type": "bench.event",
                  "data": ev, "prev_hash": prev})
    digest = hashlib.sha256(body).hexdigest()
    return body.decode(), digest, key.sign(digest.encode()).signature


def cmd_append(a):
    key = nacl.signing.SigningKey(SEED)
    db = open_db(os.path.join(a.dir, "peer.db"), True)
    prev, seq, lat = GENESIS, 0, []
    start = time.perf_counter()
    end = start + a.seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        body, digest, sig = make(key, seq, prev, event(seq, a.event_bytes))
        db.execute("BEGIN")
        db.execute("INSERT INTO receipts VALUES (?,?,?,?)",
                   (seq, body, digest, sig))
        db.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
        prev, seq = digest, seq + 1
    wall = time.perf_counter() - start
    db.close()
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3)

    rate = seq / wall
    print("naive peer append: %d appends in %.2f s, %.0f appends/s, "
          "p50 %.3f ms, p99 %.3f ms" % (seq, wall, rate, pct(0.5),
                                        pct(0.99)))
    print(json.dumps({"peer": "naive", "mode": "append", "appends": seq,
                      "seconds": round(wall, 3),
                      "appends_per_s": round(rate),
                      "p50_ms": pct(0.5), "p99_ms": pct(0.99),
                      "event_bytes": a.event_bytes,
                      "python": sys.version.split()[0],
                      "sqlite": sqlite3.sqlite_version}))
    return 0


def cmd_build(a):
    key = nacl.signing.SigningKey(SEED)
    db = open_db(os.path.join(a.dir, "peer.db"), True)
    prev = GENESIS
    db.execute("BEGIN")
    for seq in range(a.n):
        body, digest, sig = make(key, seq, prev, event(seq, a.event_bytes))
        db.execute("INSERT INTO receipts VALUES (?,?,?,?)",
                   (seq, body, digest, sig))
        prev = digest
    db.execute("COMMIT")
    db.close()
    print(json.dumps({"peer": "naive", "mode": "build", "rows": a.n}))
    return 0


def cmd_verify(a):
    vk = nacl.signing.SigningKey(SEED).verify_key
    db = open_db(os.path.join(a.dir, "peer.db"), False)
    prev, n, bad = GENESIS, 0, None
    start = time.perf_counter()
    for seq, body, digest, sig in db.execute(
            "SELECT seq, body, hash, sig FROM receipts ORDER BY seq"):
        obj = json.loads(body)
        raw = canon(obj)
        if (obj.get("seq") != seq or obj.get("prev_hash") != prev or
                hashlib.sha256(raw).hexdigest() != digest):
            bad = seq
            break
        try:
            vk.verify(digest.encode(), sig)
        except nacl.exceptions.BadSignatureError:
            bad = seq
            break
        prev, n = digest, n + 1
    wall = time.perf_counter() - start
    db.close()
    rate = n / wall if wall > 0 else 0.0
    print("naive peer verify: %d rows in %.2f s, %.0f rows/s, %s" %
          (n, wall, rate, "clean" if bad is None else "BROKEN at %d" % bad))
    print(json.dumps({"peer": "naive", "mode": "verify", "rows": n,
                      "seconds": round(wall, 3),
                      "verify_per_s": round(rate), "clean": bad is None}))
    return 0 if bad is None else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ap = sub.add_parser("append")
    ap.add_argument("--seconds", type=float, default=5.0)
    bp = sub.add_parser("build")
    bp.add_argument("--n", type=int, required=True)
    vp = sub.add_parser("verify")
    for s in (ap, bp, vp):
        s.add_argument("--dir", required=True)
    for s in (ap, bp):
        s.add_argument("--event-bytes", type=int, default=400)
    a = p.parse_args()
    if not os.path.isdir(a.dir):
        p.error("--dir %s: not a directory" % a.dir)
    if a.cmd == "append" and not 0.1 <= a.seconds <= 600:
        p.error("--seconds: must be from 0.1 to 600")
    if a.cmd == "build" and not 1 <= a.n <= 10000000:
        p.error("--n: must be from 1 to 10000000")
    if a.cmd in ("append", "build") and not 64 <= a.event_bytes <= 65536:
        p.error("--event-bytes: must be from 64 to 65536")
    return {"append": cmd_append, "build": cmd_build,
            "verify": cmd_verify}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
