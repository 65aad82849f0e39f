"""Fitting text into terminal cells (wide CJK characters and emoji take two).

Must not: style anything.
"""

from __future__ import annotations

from rich.cells import cell_len, chop_cells


def fit(text: str, width: int) -> str:
    """`text` padded or truncated (with an ellipsis) to exactly `width` cells."""
    if text.isascii():
        if len(text) <= width:
            return text.ljust(width)
        return text[: width - 1] + "…"
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    out = chop_cells(text, width - 1)[0]
    return out + "…" + " " * (width - 1 - cell_len(out))


def truncate(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) to at most `width` cells, never padded."""
    if (len(text) if text.isascii() else cell_len(text)) <= width:
        return text
    return fit(text, width).rstrip()


def chop(text: str, width: int) -> list[str]:
    """`text` cut into pieces of at most `width` cells (at least one piece, maybe empty).

    Pieces end after a space where one falls in the second half of the row, so words stay whole;
    otherwise (a long token such as a URL or a hash) the cut is hard. Joining the pieces gives `text`.
    """
    if text.isascii():
        if len(text) <= width:
            return [text]
        pieces = []
        start, end = 0, len(text)
        while end - start > width:
            space = text.rfind(" ", start + width // 2, start + width)
            cut = space + 1 if space != -1 else start + width
            pieces.append(text[start:cut])
            start = cut
        pieces.append(text[start:])
        return pieces
    pieces = []
    while cell_len(text) > width:
        # At most `width` characters can fit in `width` cells: look no further than that.
        head = (chop_cells(text[:width], width) or [text[:width]])[0]
        space = head.rfind(" ", len(head) // 2)
        cut = space + 1 if space != -1 else max(len(head), 1)
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces
