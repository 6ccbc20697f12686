#!/usr/bin/env python3
"""mf_edit.py — rewrite one value inside a section of a somhop model file
and regenerate both CRCs, so the loader's checks past the checksum are
what a test exercises (docs/file-formats.md describes the container).

  mf_edit.py IN OUT TAG OFFSET FMT VALUE [TAG OFFSET FMT VALUE ...]

TAG is the four-character section code (SHDR, CODE, NOFF, HWQ2, ...),
OFFSET a byte offset inside the section's data, FMT a struct format
('<d', '<I', '<h', ...) and VALUE a Python literal (nan and inf allowed).
"""
import struct
import sys
import zlib


def main(argv):
    if len(argv) < 7 or (len(argv) - 3) % 4:
        sys.exit(__doc__)
    src, dst = argv[1], argv[2]
    b = bytearray(open(src, "rb").read())
    nsec = struct.unpack_from("<I", b, 16)[0]
    secs, pos = {}, 32
    for _ in range(nsec):
        tag = bytes(b[pos:pos + 4]).decode("latin-1")
        size = struct.unpack_from("<Q", b, pos + 4)[0]
        secs[tag] = (pos + 12, size)
        pos += 12 + size
    for i in range(3, len(argv), 4):
        tag, off, fmt, val = argv[i], int(argv[i + 1]), argv[i + 2], argv[i + 3]
        start, size = secs[tag]
        if off + struct.calcsize(fmt) > size:
            sys.exit("offset %d beyond section %s (%d bytes)" % (off, tag, size))
        v = float(val) if val in ("nan", "inf", "-inf") else eval(val)
        struct.pack_into(fmt, b, start + off, v)
    struct.pack_into("<I", b, 28, zlib.crc32(bytes(b[:28])) & 0xFFFFFFFF)
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[32:len(b) - 4])) & 0xFFFFFFFF)
    open(dst, "wb").write(b)


if __name__ == "__main__":
    main(sys.argv)
