"""E-mail (.eml, one message; .mbox, many): the subject as title or section, From/To/Cc/Date as
a block a question can find, then the plain-text body, or the HTML body through the HTML reader (all of it is content);
attachments are named, not read (reading them as documents of their own is the indexer's work).

The standard library's `email` package parses the message (policy.default decodes headers and
transfer encodings).
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from ...config import MAX_MESSAGES
from .build import TextBuilder, add_built, squash

HEADERS = ("From", "To", "Cc", "Date")
_MBOX_SEPARATOR = re.compile(rb"(?:\A|\n)From [^\n]*\n")
_MBOX_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, subject) of one e-mail message, or the reason it cannot be read."""
    message = _parse(raw)
    if not message.keys():
        return "unreadable e-mail (no message headers)"
    builder = TextBuilder()
    subject = add_message(builder, message)
    if not builder.blocks:
        return "no text in this e-mail"
    return builder, subject


def extract_mbox(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, "") of a mailbox: each message a section headed by its subject."""
    parts = [part for part in _MBOX_SEPARATOR.split(raw) if part.strip()]
    if not raw.startswith(b"From "):
        return "unreadable mailbox (it does not start with a 'From ' line)"
    builder = TextBuilder()
    for part in parts[:MAX_MESSAGES]:
        add_message(builder, _parse(_MBOX_QUOTED.sub(rb"\1", part)), in_mailbox=True)
    if len(parts) > MAX_MESSAGES:
        builder.add("paragraph", f"[Only the first {MAX_MESSAGES:,} messages of this mailbox were read: "
                                 f"the limit is {MAX_MESSAGES:,} per file.]")
    return builder, ""


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # never raises: defects are recorded


def add_message(builder: TextBuilder, message: EmailMessage, in_mailbox: bool = False) -> str:
    """Add one message's blocks; returns its subject."""
    subject = squash(_header(message, "Subject"))
    builder.add("heading", subject or ("(no subject)" if in_mailbox else ""), 1)
    lines = [f"{name}: {value}" for name in HEADERS if (value := squash(_header(message, name)))]
    builder.add("paragraph", "\n".join(lines))
    _add_body(builder, message)
    names = [squash(part.get_filename() or "") or part.get_content_type() for part in _attachments(message)]
    if names:
        builder.add("paragraph", "Attachments: " + ", ".join(names))
    return subject


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except Exception:  # noqa: BLE001 - a malformed header the policy cannot parse: left out
        return ""


def _attachments(message: EmailMessage) -> list:
    try:
        return list(message.iter_attachments()) if message.is_multipart() else []
    except Exception:  # noqa: BLE001 - a broken MIME structure: no attachments listed
        return []


def _add_body(builder: TextBuilder, message: EmailMessage) -> None:
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        body = None
    if body is None:
        return
    if body.get_content_type() == "text/html":
        from .webpage import extract_body

        raw = body.get_payload(decode=True) or b""
        charset = body.get_content_charset()
        if charset and b"charset" not in raw[:2048].lower():  # say the part's charset where the page can see it
            raw = f'<meta charset="{charset}">'.encode("ascii", "ignore") + raw
        read = extract_body(raw)
        if not isinstance(read, str):
            add_built(builder, read[0], 1)
        return
    for paragraph in re.split(r"\n\s*\n", _text(body)):
        quoted = all(line.startswith(">") for line in paragraph.strip().splitlines())
        if quoted:
            paragraph = "\n".join(line.lstrip("> ") for line in paragraph.strip().splitlines())
        builder.add("quote" if quoted else "paragraph", paragraph)


def _text(part) -> str:
    """A text part decoded by its charset, or as UTF-8 with replacements when the charset is unknown."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
