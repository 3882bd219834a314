#!/usr/bin/env python3
"""transcode.py — GBK / GB18030 extract to UTF-8 on stdout, for the SQL comparison.

    transcode.py ENCODING FILE

What a user of PostgreSQL or DuckDB has to put in front of COPY / read_csv for these files:
PostgreSQL's COPY ... ENCODING 'GBK' stops at the first byte sequence that is not GBK, and
the agencies' files do hold a few (a character cut in half), DuckDB reads no GBK without an
extension from the network.  Gunzips when the file starts with the gzip magic; every byte
that is not valid in ENCODING becomes U+FFFD, so that the SQL can reject exactly the records
whose mapped fields hold one.  Streams in 1 MiB blocks.
"""
import codecs, gzip, sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    enc, path = sys.argv[1], sys.argv[2]
    raw = open(path, "rb")
    src = gzip.open(raw) if raw.peek(2)[:2] == b"\x1f\x8b" else raw
    dec = codecs.getincrementaldecoder(enc)(errors="replace")
    out = sys.stdout.buffer
    while True:
        block = src.read(1 << 20)
        out.write(dec.decode(block, final=not block).encode("utf-8"))
        if not block:
            break


if __name__ == "__main__":
    main()
