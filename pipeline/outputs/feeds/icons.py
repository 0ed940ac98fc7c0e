"""The feeds' icons, drawn here as PNG so a build needs no image files or image libraries.

A navy square (the SDG 17 colour) with a white ring: recognisable at 16 px in a reader's list,
and the same bytes on every build (fixed pixels, fixed zlib level).
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

NAVY = (0x19, 0x48, 0x6A)
WHITE = (0xFF, 0xFF, 0xFF)


@cache
def png_icon(size: int) -> bytes:
    """A ``size``×``size`` RGB PNG."""
    centre = (size - 1) / 2
    outer = (size * 0.34) ** 2
    inner = (size * 0.22) ** 2
    rows = []
    for y in range(size):
        dy = (y - centre) ** 2
        row = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            distance = (x - centre) ** 2 + dy
            row += bytes(WHITE if inner <= distance <= outer else NAVY)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
