"""The PDF page in the viewer fits its width and zooms to full size on a click, boxes staying on the words (issue 20)."""

from __future__ import annotations

from pathlib import Path

from pdf_make import make_pdf

import assistant.apps.web.render as render
from assistant.ingest.pdfview import RENDER_WIDTH, page_view

CSS = Path(render.__file__).with_name("static") / "web.css"


def test_a_click_on_the_page_image_zooms_it_to_full_size_and_back(browser):
    raw = make_pdf([(72, 700, 12, "The ferry leaves at noon."), (72, 400, 12, "Tickets are sold on board.")])
    text = "The ferry leaves at noon."
    view = page_view(raw, 0, len(text))
    html = render.render_page_image(view)
    page = browser.new_page(viewport={"width": 900, "height": 800})
    try:
        page.set_content(f"<style>{CSS.read_text()}</style><div style='width:480px'>{html}</div>")
        image, box = page.locator(".pdf-page img"), page.locator(".pdf-box")

        def geometry() -> tuple[float, float, float]:
            i, b = image.bounding_box(), box.bounding_box()
            return i["width"], (b["x"] - i["x"]) / i["width"], (b["y"] - i["y"]) / i["height"]

        fitted, left, top = geometry()
        assert abs(fitted - 480) < 3  # the viewer's width
        image.click()
        zoomed, zoom_left, zoom_top = geometry()
        assert abs(zoomed - RENDER_WIDTH) < 2  # full size: the pixels rendered
        assert abs(zoom_left - left) < 0.01 and abs(zoom_top - top) < 0.01  # the box stays on the words
        assert page.evaluate("document.querySelector('.pdf-scroll').scrollWidth") >= RENDER_WIDTH - 2
        image.click()
        assert abs(geometry()[0] - 480) < 3
    finally:
        page.close()
