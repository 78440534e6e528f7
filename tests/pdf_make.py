"""Small PDFs drawn with PDFium for the PDF tests: text at exact places, sizes in the matrix, any /Rotate."""

from __future__ import annotations

import io


def make_pdf(items: list[tuple[float, float, float, str]], rotate: int = 0, angle: dict[int, int] | None = None,
             width: float = 612, height: float = 792, title: str | None = None,
             fonts: dict[int, str] | None = None, more: list[list[tuple[float, float, float, str]]] = (),
             rects: list[tuple[float, float, float, float]] = (), boxes: list[tuple[float, float, float, float]] = ()) -> bytes:
    """A PDF whose first page has each (x, y, size, text) set in Helvetica at size 1 scaled by its matrix.

    `angle` maps an item's position in `items` to a text rotation in degrees (a margin stamp);
    `fonts` an item's position to another standard font ("Helvetica-Bold"); `more` holds the
    items of further pages (upright Helvetica); `rects` are the first page's filled (x, y, width,
    height) rectangles (a table's rules, as Word and Google Docs draw them), `boxes` stroked ones
    (a text box's frame).
    """
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for extra in more:
        _page(pdf, width, height, extra, {}, {})
    page = _page(pdf, width, height, items, angle or {}, fonts or {}, index=0, shapes=(rects, boxes))
    if rotate:
        page.set_rotation(rotate)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def _page(pdf, width: float, height: float, items, angle: dict[int, int], fonts: dict[int, str], index: int | None = None,
          shapes: tuple = ((), ())):
    """A page with the items drawn on it (inserted at `index`, or last), and `shapes`: (filled, stroked) rectangles."""
    import pypdfium2.raw as c

    page = pdf.new_page(width, height, index=index)
    for n, (x, y, size, text) in enumerate(items):
        obj = c.FPDFPageObj_NewTextObj(pdf, fonts.get(n, "Helvetica").encode(), 1.0)
        encoded = (text + "\0").encode("utf-16-le")
        c.FPDFText_SetText(obj, (c.FPDF_WCHAR * (len(encoded) // 2)).from_buffer_copy(encoded))
        a, b = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[angle.get(n, 0)]
        c.FPDFPageObj_Transform(obj, a * size, b * size, -b * size, a * size, x, y)
        c.FPDFPage_InsertObject(page, obj)
    for rectangles, fill, stroke in zip(shapes, (c.FPDF_FILLMODE_ALTERNATE, c.FPDF_FILLMODE_NONE), (False, True)):
        for x, y, w, h in rectangles:
            rect = c.FPDFPageObj_CreateNewRect(x, y, w, h)
            c.FPDFPath_SetDrawMode(rect, fill, stroke)
            c.FPDFPage_InsertObject(page, rect)
    c.FPDFPage_GenerateContent(page)
    return page


def image_only_pdf(raw: bytes, page: int = 0, dpi: int = 200) -> bytes:
    """A page of a text PDF rendered to a picture and wrapped in a PDF with no text layer (a scan)."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(raw)
    width, height = source[page].get_size()
    bitmap = source[page].render(scale=dpi / 72)
    pdf = pdfium.PdfDocument.new()
    new = pdf.new_page(width, height)
    image = pdfium.PdfImage.new(pdf)
    image.set_bitmap(bitmap)
    image.set_matrix(pdfium.PdfMatrix().scale(width, height))
    new.insert_obj(image)
    new.gen_content()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()
