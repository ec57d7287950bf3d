"""PNG writing with zlib alone: the tools must not need an image library beyond numpy."""
import struct
import zlib

import numpy as np


def write_png(path, bgr):
    """Writes an HxWx3 uint8 BGR image (OpenCV's order) as an RGB PNG."""
    rgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)
