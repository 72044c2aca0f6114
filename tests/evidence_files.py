"""Real files for the evidence tests: photos with GPS in their EXIF, PDFs plain and with
JavaScript, office documents, an image bomb and impostors; all made here, nothing checked in."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache

from PIL import Image

GPS_IFD = 0x8825


def photo_with_gps(colour: str = "green", size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose EXIF says where it was taken (a home's address, as far as a reader cares)."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 38.0, 12.5), "W", (1.0, 7.0, 44.1)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_with_text() -> bytes:
    """A PNG carrying a text chunk (where some apps put a location)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "12 Acacia Avenue, Loughborough")
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def plain_pdf() -> bytes:
    """A small, valid one-page PDF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    return _pdf(objects)


def pdf_with_javascript() -> bytes:
    """A PDF that runs JavaScript when opened, hidden inside a compressed object stream."""
    hidden = zlib.compress(b"<< /Type /Action /S /JavaScript /JS (app.alert('hi')) >>")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(hidden) + hidden + b"\nendstream",
    ]
    return _pdf(objects)


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def word_document(macros: bool = False) -> bytes:
    """A minimal .docx (or a macro-carrying one)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><document>Attendance list</document>')
        if macros:
            archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return out.getvalue()


@cache
def image_bomb() -> bytes:
    """A PNG of about 50 kB that decompresses to 20,000 × 20,000 pixels."""
    width = height = 20_000
    row = b"\x00" + b"\x00" * (width // 8)
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def impostor() -> bytes:
    """A script renamed .jpg: its bytes say what it is."""
    return b"#!/bin/sh\necho 'not a photo'\n" * 10
