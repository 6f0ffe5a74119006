#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the fuzz seed corpora from the cpns1 test vectors.

usage: gen_corpus.py VECTORS_DIR OUT_DIR   (OUT_DIR = tools/fuzz/corpus)

fuzz_tlv gets every distinct handshake message of the vectors (and the
handshake_negative m1 variants); fuzz_keyfile gets a few key files. Files
are named by the SHA-1 of their content, so reruns are idempotent.
"""
import hashlib
import json
import os
import sys

MSG_KEYS = {"bytes", "message", "confirm_ack", "KeyRequest1", "KeyChallenge",
            "m1", "m2", "m3"}


def is_hex(s):
    return (isinstance(s, str) and s and len(s) % 2 == 0
            and all(c in "0123456789abcdef" for c in s))


def messages(o, key=None, parent=None):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from messages(v, k, key)
    elif isinstance(o, list):
        for v in o:
            yield from messages(v, key, parent)
    elif is_hex(o) and (key in MSG_KEYS or parent == "messages"):
        yield bytes.fromhex(o)


def write(d, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    vec, out = sys.argv[1], sys.argv[2]
    seen = set()
    for name in ("handshake_h.json", "handshake_negative.json",
                 "procedure_a.json", "procedure_d.json", "procedure_e.json"):
        with open(os.path.join(vec, name)) as f:
            doc = json.load(f)
        for m in messages(doc):
            if m not in seen:
                seen.add(m)
                write(os.path.join(out, "fuzz_tlv"), m)
    # the blob body, prefixed by one byte (the target skips it)
    with open(os.path.join(vec, "procedure_e.json")) as f:
        blob = bytes.fromhex(json.load(f)["cases"][0]["blob"])
    write(os.path.join(out, "fuzz_tlv"), b"\0" + blob[12:-32])

    key = "88bf34f15cafacb64b5a2b371e1d3e2179551034027835ca18628759c55f3903"
    for k in (key, key + "\n", key.upper() + "\n", key[:63] + "\n",
              key + "\n\n", key + "\r\n", ""):
        write(os.path.join(out, "fuzz_keyfile"), k.encode())


if __name__ == "__main__":
    main()
