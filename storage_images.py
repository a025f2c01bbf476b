"""Uploaded images judged by decoding them, and kept only as written again (finding L13).

A JPEG or PNG upload is decoded with Pillow and a fresh file is written from its pixels,
so nothing of the client's file reaches the disk but the picture itself: no EXIF (GPS
position, camera serial number, the owner's name), no comments, no ICC or XMP packets, no
bytes after the end marker, and no markup a lenient viewer could run. A file Pillow cannot
decode is not an image. The pixel budget is checked twice: from the header before Pillow
is involved (a small file declaring 65535x65535 pixels is a decompression bomb aimed at
the server and at the reviewer's browser), and from what Pillow reads. No Flask here.
"""

from __future__ import annotations

import io
import os

from PIL import Image, ImageOps

# A picture of a document needs no more (a 12-megapixel phone photo is 4000x3000).
MAX_IMAGE_PIXELS = 50_000_000
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}
# JPEG quality when the original's quantisation tables cannot be kept (a rotated photo).
JPEG_QUALITY = 90

_ORIENTATION = 0x0112  # the EXIF tag
_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class NotAnImage(Exception):
    """The bytes do not decode as the image their signature claims, or hold too many pixels."""


def png_pixels(head: bytes) -> int:
    """Width x height from a PNG's IHDR chunk."""
    return int.from_bytes(head[16:20], "big") * int.from_bytes(head[20:24], "big")


def jpeg_pixels(handle) -> int | None:
    """Width x height from a JPEG's first frame header, walking the segments from the
    start of ``handle`` (a binary file); None if there is no frame header."""
    handle.seek(2)
    while True:
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            continue
        length = int.from_bytes(handle.read(2), "big")
        if length < 2:
            return None
        if kind in _JPEG_FRAME_MARKERS:
            frame = handle.read(5)
            if len(frame) < 5:
                return None
            return int.from_bytes(frame[1:3], "big") * int.from_bytes(frame[3:5], "big")
        handle.seek(length - 2, os.SEEK_CUR)


def reencoded(data: bytes, content_type: str) -> bytes:
    """The image in ``data`` written again from its pixels, without any metadata.

    A photo's EXIF orientation is applied to the pixels first, so that it still stands
    upright once the EXIF is gone. A JPEG keeps its own quantisation tables where it can
    (no second loss of quality), a PNG its mode and transparency. Only the first frame of
    an animated PNG or a multi-picture JPEG is kept. Raises ``NotAnImage`` for a file
    that does not decode (truncated in the middle, corrupt) or holds more than
    ``MAX_IMAGE_PIXELS`` pixels."""
    image_format = IMAGE_TYPES[content_type]
    if image_format == "JPEG":
        # Many cameras and phones end a JPEG without its end marker: the decoder stops at
        # the first one it meets, so one more at the end changes nothing else.
        data += b"\xff\xd9"
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as source:
            if source.width * source.height > MAX_IMAGE_PIXELS:
                raise NotAnImage("too many pixels")
            source.load()
            rotated = source.getexif().get(_ORIENTATION, 1) not in (0, 1)
            picture = ImageOps.exif_transpose(source) if rotated else source
            options = _save_options(source, picture, image_format)
            # The encoders copy a comment (JPEG) or an ICC profile (PNG) from ``info``.
            picture.info = {}
            out = io.BytesIO()
            picture.save(out, format=image_format, **options)
    except NotAnImage:
        raise
    except Exception as error:  # Pillow signals a corrupt file with many exception types
        raise NotAnImage(str(error)) from error
    return out.getvalue()


def _save_options(source, picture, image_format) -> dict:
    """What to tell the encoder so that only the picture is written (no exif, icc_profile,
    comment or text chunks are passed on)."""
    if image_format == "PNG":
        transparency = source.info.get("transparency")
        return {} if transparency is None else {"transparency": transparency}
    if picture is source:
        return {"quality": "keep", "subsampling": "keep"}
    return {"quality": JPEG_QUALITY}
