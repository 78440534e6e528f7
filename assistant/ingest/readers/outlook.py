"""Outlook messages (.msg): the OLE2 container read by olefile (BSD), then read as an e-mail.

extract-msg, the usual library, is GPL, which this project does not take. A .msg file is a
compound document whose streams hold the message's properties (`__substg1.0_<id><type>`:
subject 0037, body 1000, HTML body 1013, sender 0C1A/0C1F, To 0E04, Cc 0E03) and whose fixed-size
properties stream holds its dates. Those become an ordinary `EmailMessage`, so a .msg reads
exactly as the same message saved as .eml does (mail.py).
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from .build import TextBuilder

MAX_STREAM_BYTES = 16 * 1024 * 1024  # one property's bytes; a longer body is cut there
_SUBJECT, _BODY, _HTML, _SENDER, _SENDER_ADDRESS, _TO, _CC = 0x0037, 0x1000, 0x1013, 0x0C1A, 0x0C1F, 0x0E04, 0x0E03
_CODEPAGE, _SUBMITTED, _DELIVERED, _ATTACH_LONG_NAME, _ATTACH_NAME = 0x3FFD, 0x0039, 0x0E06, 0x3707, 0x3704
_UNICODE, _STRING8, _BINARY, _SYSTIME, _LONG = 0x001F, 0x001E, 0x0102, 0x0040, 0x0003


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, subject) of an Outlook message, or the reason it cannot be read."""
    import olefile

    if not olefile.isOleFile(io.BytesIO(raw)):
        return "unreadable Outlook message (not an OLE2 compound file)"
    try:
        with olefile.OleFileIO(io.BytesIO(raw)) as ole:
            message = _message(ole)
    except Exception as exc:  # noqa: BLE001 - a damaged container: skipped with the library's reason
        return f"unreadable Outlook message ({str(exc)[:120] or exc.__class__.__name__})"
    from .mail import add_message

    builder = TextBuilder()
    subject = add_message(builder, message)
    if not builder.blocks:
        return "no text in this Outlook message"
    return builder, subject


def _message(ole) -> EmailMessage:
    """The .msg's properties as an e-mail message: headers, the plain or HTML body, attachment names."""
    fixed = _fixed_properties(ole, "__properties_version1.0", header=32)
    codepage = fixed.get(_CODEPAGE)
    encoding = f"cp{codepage}" if isinstance(codepage, int) else "cp1252"
    read = lambda prop, folder="": _string(ole, prop, folder, encoding)  # noqa: E731
    message = EmailMessage()
    sender = read(_SENDER)
    address = read(_SENDER_ADDRESS)
    for name, value in (("Subject", read(_SUBJECT)), ("From", f"{sender} <{address}>" if sender and address else sender),
                        ("To", read(_TO)), ("Cc", read(_CC))):
        if value:
            message[name] = " ".join(value.split())
    when = fixed.get(_SUBMITTED) or fixed.get(_DELIVERED)
    if isinstance(when, datetime):
        message["Date"] = format_datetime(when)
    body, html = read(_BODY), _binary(ole, _HTML) or read(_HTML).encode("utf-8")
    if body.strip():
        message.set_content(body)
    elif html.strip():
        message.set_content(html, maintype="text", subtype="html")
    for folder in sorted({entry[0] for entry in ole.listdir() if entry[0].startswith("__attach_version1.0_")}):
        name = read(_ATTACH_LONG_NAME, folder) or read(_ATTACH_NAME, folder)
        if name:
            message.add_attachment(b"", maintype="application", subtype="octet-stream", filename=name)
    return message


def _stream(ole, name: str) -> bytes | None:
    if not ole.exists(name):
        return None
    with ole.openstream(name) as stream:
        return stream.read(MAX_STREAM_BYTES)


def _string(ole, prop: int, folder: str, encoding: str) -> str:
    """A string property, stored as UTF-16 (001F) or in the message's code page (001E)."""
    prefix = f"{folder}/" if folder else ""
    data = _stream(ole, f"{prefix}__substg1.0_{prop:04X}{_UNICODE:04X}")
    if data is not None:
        return data.decode("utf-16-le", "replace").rstrip("\x00")
    data = _stream(ole, f"{prefix}__substg1.0_{prop:04X}{_STRING8:04X}")
    if data is not None:
        try:
            return data.decode(encoding, "replace").rstrip("\x00")
        except LookupError:
            return data.decode("cp1252", "replace").rstrip("\x00")
    return ""


def _binary(ole, prop: int) -> bytes:
    return _stream(ole, f"__substg1.0_{prop:04X}{_BINARY:04X}") or b""


def _fixed_properties(ole, name: str, header: int) -> dict[int, int | datetime]:
    """Integers and times of the fixed-size properties stream (16 bytes a property after its header)."""
    data = _stream(ole, name) or b""
    found: dict[int, int | datetime] = {}
    for offset in range(header, len(data) - 15, 16):
        tag, _flags, value = struct.unpack_from("<IIQ", data, offset)
        kind, prop = tag & 0xFFFF, tag >> 16
        if kind == _LONG:
            found[prop] = value & 0xFFFFFFFF
        elif kind == _SYSTIME and value:
            try:
                found[prop] = datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=value // 10)
            except OverflowError:
                continue
    return found
