"""PowerPoint (.pptx): one page per slide, so a citation names the slide; titles as headings,
text boxes in reading order (top to bottom, left to right), tables as rows, speaker notes.

python-pptx (MIT) reads the file, after `zip_problem` has checked the container.
"""

from __future__ import annotations

import io

from .archive import zip_problem
from .build import TextBuilder, squash, table_rows, usable_title

ROW_EMU = 228_600  # shapes whose tops are within a quarter inch read as one row, left to right


def extract(raw: bytes) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a .pptx file, or the reason it cannot be read."""
    problem = zip_problem(raw, "PowerPoint")
    if problem:
        return problem
    try:
        from pptx import Presentation

        presentation = Presentation(io.BytesIO(raw))
        slides = list(presentation.slides)
    except Exception as exc:  # a zip that is not a presentation, or a damaged one
        return f"unreadable PowerPoint file ({str(exc)[:120] or exc.__class__.__name__})"
    builder = TextBuilder()
    first_title = ""
    for number, slide in enumerate(slides, 1):
        if number > 1:
            builder.new_page()  # an empty slide still counts, so later slides keep their numbers
        title_shape = slide.shapes.title
        heading = squash(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
        if builder.add("heading", heading, 1, number):
            first_title = first_title or heading
        for shape in _reading_order(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            _add_shape(builder, shape, number)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = squash(slide.notes_slide.notes_text_frame.text)
            if notes:
                builder.add("paragraph", f"Speaker notes: {notes}", 0, number)
    title = usable_title(presentation.core_properties.title) or first_title
    return builder, title


def _reading_order(shapes) -> list:
    """Shapes top to bottom, then left to right; a group's shapes in their own order at its place."""
    flat = []
    for shape in shapes:
        top, left = shape.top or 0, shape.left or 0
        if shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            flat += [(top // ROW_EMU, left, i, inner) for i, inner in enumerate(_reading_order(shape.shapes))]
        else:
            flat.append((top // ROW_EMU, left, 0, shape))
    return [shape for *_, shape in sorted(flat, key=lambda item: item[:3])]


def _add_shape(builder: TextBuilder, shape, page: int) -> None:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        for line in table_rows(rows):
            builder.add("table", line, 0, page)
    elif shape.has_text_frame:
        paragraphs = [(squash(p.text), _bulleted(p)) for p in shape.text_frame.paragraphs]
        paragraphs = [(text, bullet) for text, bullet in paragraphs if text]
        # A body placeholder's paragraphs are the slide's bullet points (its master gives the
        # bullets); elsewhere a paragraph is a list item when it carries its own bullet or number.
        points = shape.is_placeholder and len(paragraphs) > 1
        for text, bullet in paragraphs:
            builder.add("list" if points or bullet else "paragraph", text, 0, page)


def _bulleted(paragraph) -> bool:
    """Whether a paragraph sets its own bullet character or numbering."""
    properties = paragraph._p.pPr
    return properties is not None and any(child.tag.endswith(("}buChar", "}buAutoNum")) for child in properties)
