"""Decompression bombs for the hostile-input tests and the benchmark, made in a second or two.

A deflate stream of one run repeated is one flushed block repeated: compressing 16 MiB once and
repeating its bytes gives a stream of gigabytes without compressing gigabytes.
"""

from __future__ import annotations

import io
import zipfile
import zlib

_BLOCK = 1 << 24  # 16 MiB of input per repeated deflate block


def deflate_repeated(total: int, unit: bytes) -> bytes:
    """A zlib stream that inflates to about `total` bytes of `unit` repeated (a multiple of 16 MiB)."""
    piece = unit * (_BLOCK // len(unit))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, state reset
    count = max(total // _BLOCK, 1)
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(piece, adler)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    return b"\x78\xda" + block * count + final + adler.to_bytes(4, "big")


def pdf_bomb(inflated: int = 4 << 30) -> bytes:
    """A one-page PDF whose content stream is Flate inside Flate and inflates to `inflated` bytes."""
    stream = zlib.compress(deflate_repeated(inflated, b"BT ET "), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                  b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                  b'"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                  b'document.main+xml"/></Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         b'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def docx_bomb(inflated: int = 1 << 30) -> bytes:
    """A .docx whose word/document.xml inflates to about `inflated` bytes (one paragraph of "a a a ...")."""
    head = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(head)
            piece = b"a " * (1 << 23)
            for _ in range(max(inflated // len(piece), 1)):
                member.write(piece)
            member.write(tail)
    return out.getvalue()
