"""Word 97-2003 (.doc) and PowerPoint 97-2003 (.ppt): converted by a program on the machine, when
there is one, run with a timeout on a private copy of the file.

antiword or catdoc (.doc) and catppt (.ppt), from Debian's `antiword` and `catdoc` packages, give
plain text; LibreOffice (`soffice --headless --convert-to`) gives .docx or .pptx, which the Word
and PowerPoint readers then read with their structure. Without any of them the file is skipped
with a reason naming what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...config import LEGACY_OUTPUT_BYTES as MAX_OUTPUT_BYTES
from ...config import LEGACY_SECONDS as TIMEOUT_SECONDS
from .archive import OLE_MAGIC
from .build import TextBuilder, squash

TEXT_TOOLS = {"doc": (["antiword", "-w", "0"], ["catdoc", "-w", "-dutf-8"]), "ppt": (["catppt", "-dutf-8"],)}
INSTALL = {"doc": "install antiword or catdoc (apt-get install antiword) or LibreOffice",
           "ppt": "install catdoc (apt-get install catdoc; it has catppt) or LibreOffice"}
NAMES = {"doc": "Word 97-2003", "ppt": "PowerPoint 97-2003"}


def extract_doc(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a .doc file, or the reason it cannot be read."""
    return _convert(raw, "doc")


def extract_ppt(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a .ppt file, or the reason it cannot be read."""
    return _convert(raw, "ppt")


def _convert(raw: bytes, kind: str) -> tuple[TextBuilder, str] | str:
    if not raw.startswith(OLE_MAGIC):
        return f"unreadable {NAMES[kind]} file (not an OLE compound file)"
    if "EncryptedPackage".encode("utf-16-le") in raw:
        return f"encrypted {NAMES[kind]} file (password-protected)"
    tools = [tool for tool in TEXT_TOOLS[kind] if shutil.which(tool[0])]
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not tools and not office:
        return f"{NAMES[kind]} files need a converter: {INSTALL[kind]}"
    with tempfile.TemporaryDirectory(prefix="assistant-legacy-") as folder:
        source = Path(folder) / f"file.{kind}"
        source.write_bytes(raw)
        reason = ""
        for tool in tools:
            result = _run([*tool, str(source)], folder)
            if isinstance(result, str):
                reason = reason or f"{tool[0]}: {result}"
                continue
            text = result.decode("utf-8", "replace")
            if text.strip():
                return _paragraphs(text), ""
        if office:
            result = _via_office(office, source, kind, folder)
            if not isinstance(result, str):
                return result
            reason = reason or result
    return f"unreadable {NAMES[kind]} file ({reason or 'no text'})"


def _run(command: list[str], folder: str) -> bytes | str:
    """A converter's output, or why it failed; its home is the private folder (LibreOffice writes a profile)."""
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, cwd=folder, check=False,
                              env={"PATH": os.environ.get("PATH", ""), "HOME": folder, "LANG": "C.UTF-8"})
    except subprocess.TimeoutExpired:
        return f"took longer than {TIMEOUT_SECONDS} s"
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    if done.returncode != 0:
        return squash(done.stderr.decode("utf-8", "replace"))[:120] or f"exit status {done.returncode}"
    return done.stdout[:MAX_OUTPUT_BYTES]


def _via_office(office: str, source: Path, kind: str, folder: str) -> tuple[TextBuilder, str] | str:
    target = "docx" if kind == "doc" else "pptx"
    result = _run([office, "--headless", "--norestore", "--convert-to", target, "--outdir", folder, str(source)], folder)
    converted = source.with_suffix("." + target)
    if isinstance(result, str) or not converted.is_file():
        return f"LibreOffice: {result if isinstance(result, str) else 'no output'}"
    if kind == "doc":
        from .word import extract
    else:
        from .slides import extract
    return extract(converted.read_bytes())


def _paragraphs(text: str) -> TextBuilder:
    """A converter's plain text: paragraphs at blank lines (or form feeds: catppt's slide breaks)."""
    builder = TextBuilder()
    for paragraph in text.replace("\f", "\n\n").split("\n\n"):
        builder.add("paragraph", squash(paragraph))
    return builder
