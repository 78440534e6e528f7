"""Regenerate docs/screenshot.png: the real app with a PDF citation open at its page in the viewer."""

# Run from the project root:  .venv/bin/python docs/screenshot.py [--phone test-artifacts/phone-shot.png]
# It makes a demo corpus in /tmp/shotcorpus: the seed documents, with PDF_SOURCE printed to a PDF by headless
# Chromium (our users' documents are mostly PDFs), indexes it in /tmp/shotidx (or --index; reused when
# present), starts app.py on a free 127.0.0.1 port, asks QUESTION, clicks citation [1] so the viewer shows
# the PDF page with the cited span drawn on it, and saves a 1400 px wide screenshot (at most 900 high).
# Nothing leaves 127.0.0.1.

import argparse
import io
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from helpers import CHROMIUM, CHROMIUM_ARGS, free_port, html_to_pdf  # noqa: E402  (the tests' browser set-up)

QUESTION = "How many partners does Lakeside Surgery have?"
PDF_SOURCE = "healthcare-in-northamptonshire.txt"
REPLIES = "#transcript .msg.bot:not(:has(.pending))"
MAX_BYTES = 300_000


def demo_corpus(seeds: Path, target: Path) -> Path:
    """The seed documents, with PDF_SOURCE as a printed PDF (wiki headings as real headings)."""
    import html
    import re
    import shutil

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(seeds, target)
    text = (target / PDF_SOURCE).read_text(encoding="utf-8")
    (target / PDF_SOURCE).unlink()
    title = re.search(r"^= (.+?) =$", text, re.MULTILINE).group(1)
    body = []
    for line in text.splitlines():
        heading = re.fullmatch(r"\s*(=+)\s*(.+?)\s*=+\s*", line)
        if heading:
            level = min(len(heading.group(1)), 3)
            body.append(f"<h{level}>{html.escape(heading.group(2))}</h{level}>")
        elif line.strip():
            body.append(f"<p>{html.escape(' '.join(line.split()))}</p>")
    page = (f"<html><head><title>{html.escape(title)}</title><style>@page {{ size: A4; margin: 22mm; }}"
            "body { font: 11pt serif; } h1 { font-size: 20pt; } h2 { font-size: 14pt; }</style></head>"
            f"<body>{''.join(body)}</body></html>")
    html_to_pdf(page, target / Path(PDF_SOURCE).with_suffix(".pdf").name)
    return target


def ensure_index(corpus: Path, index: Path, env: dict[str, str]) -> None:
    if (index / "manifest.json").exists():
        return
    cli = Path(sys.executable).with_name("assistant")
    subprocess.run([str(cli), "index", "--corpus", str(corpus), "--index", str(index)], check=True, env=env)


def start_app(index: Path, port: int, env: dict[str, str]) -> subprocess.Popen:
    """app.py exactly as `make run` starts it, on our own port; waits until the page answers."""
    env = {**env, "ASSISTANT_INDEX": str(index), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    app = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise SystemExit(f"error: app.py exited with code {app.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return app
        except OSError:
            time.sleep(0.5)
    app.terminate()
    raise SystemExit("error: the app did not answer within 180 s")


def shoot(browser, url: str, width: int, height: int) -> bytes:
    """Ask the question, open citation [1] in the viewer, and return a PNG of what is on screen."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("textarea")
    page.fill("textarea", QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector(REPLIES)
    page.locator(REPLIES).last.locator(".citation a.cite").first.click()
    page.locator("#viewer mark.cited").first.wait_for()
    page.wait_for_timeout(600)  # the viewer scrolls the mark (and the PDF page's box) into view after the tab switch
    # Down to just below the app (not Gradio's footer), at most one screenful.
    bottom = page.evaluate("() => document.querySelector('#main-row').getBoundingClientRect().bottom")
    png = page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": min(height, int(bottom) + 16)})
    page.close()
    return png


def small_png(png: bytes) -> bytes:
    """Screenshots are flat UI colours, so a 256-colour palette keeps text crisp at a fraction of the size."""
    if len(png) <= MAX_BYTES:
        return png
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=None, help="documents to show (default: the demo corpus)")
    parser.add_argument("--index", type=Path, default=Path("/tmp/shotidx"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--phone", type=Path, help="also save a 390 px wide (phone) screenshot here")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    corpus = args.corpus or demo_corpus(ROOT / "corpus", Path("/tmp/shotcorpus"))
    ensure_index(corpus, args.index, env)
    port = free_port()
    app = start_app(args.index, port, env)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            url = f"http://127.0.0.1:{port}/"
            png = small_png(shoot(browser, url, 1400, 900))
            args.out.write_bytes(png)
            print(f"wrote {args.out} ({len(png) // 1024} KB)")
            if args.phone:
                args.phone.parent.mkdir(parents=True, exist_ok=True)
                args.phone.write_bytes(shoot(browser, url, 390, 844))
                print(f"wrote {args.phone}")
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)


if __name__ == "__main__":
    main()
