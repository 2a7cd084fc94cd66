"""Bar charts as SVG markup, drawn on the server: no JavaScript, and nothing but escaped text in them.

One horizontal bar per group, its words above it and its number after it, so long labels need no
rotating and the chart reads the same on a phone (the viewBox is about a phone's width; CSS lets it
grow to a few hundred pixels more on a wide screen). A suppressed cell has no bar and says
"suppressed": its length would give the number away. Bars are scaled to the largest number shown,
never to a suppressed one. On a right-to-left page the chart is mirrored: words and bars start at the
right. The chart is an image with a title and a description for screen readers; the page puts the
same numbers in a table next to it.
"""
from __future__ import annotations

from html import escape

from markupsafe import Markup

from whistle.i18n import _, current_language, localized
from whistle.words import number_words

WIDTH = 360
FONT = 15  # close to the page's own text on a phone, where the chart is drawn at about 1:1
ROW = 44  # the height of one group: its words, then its bar
BAR = 16
TOP = 4
NUMBER_ROOM = 76  # room after the longest bar for its number
SUPPRESSED = "suppressed"  # a figure's value when it is not shown (the page says so in its language)
NO_CASES = _("No cases in this period.")
BAR_COLOUR = "#1d5c8c"  # the stylesheet's link colour: 7:1 against white
TEXT_COLOUR = "#1b1b1b"
MUTED_COLOUR = "#595959"  # 7:1 against white


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, float | None]], *, unit: str = "") -> Markup:
    """An SVG bar chart of `rows` (words, value; None for a suppressed cell). `chart_id` must be
    unique on the page (it names the title and description for aria-labelledby). The words are
    drawn in the current request's language."""
    title = localized(title)
    rows = [(localized(words), value) for words, value in rows]
    suppressed = localized(_("suppressed"))
    shown = [value for _words, value in rows if value is not None]
    largest = max(shown, default=0) or 1
    height = TOP + ROW * max(len(rows), 1)
    ids = {"title": f"{chart_id}-title", "desc": f"{chart_id}-desc"}
    if rows:
        described = localized(_("${bars} bars; ${suppressed} suppressed. The same numbers are in the table after "
                                "the chart.", mapping={"bars": len(rows), "suppressed": len(rows) - len(shown)}))
    else:
        described = localized(NO_CASES)
    # A right-to-left page mirrors the chart: words and bars start at the right edge and grow leftwards.
    rtl = current_language().direction == "rtl"

    def x(offset: float) -> float:
        return round(WIDTH - offset, 1) if rtl else offset

    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
         f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
         f'aria-labelledby="{escape(ids["title"])} {escape(ids["desc"])}" font-family="inherit" font-size="{FONT}" '
         # Text starts at its x and runs in this direction (leftwards when right to left).
         f'direction="{"rtl" if rtl else "ltr"}">'),
        f'<title id="{escape(ids["title"])}">{escape(title)}</title>',
        f'<desc id="{escape(ids["desc"])}">{escape(described)}</desc>',
    ]
    if not rows:
        parts.append(f'<text x="{x(0)}" y="{TOP + 20}" fill="{MUTED_COLOUR}">{escape(described)}</text>')
    for index, (words, value) in enumerate(rows):
        y = TOP + index * ROW
        parts.append(f'<g class="bar" data-group="{escape(words)}">')
        parts.append(f'<text x="{x(0)}" y="{y + 15}" fill="{TEXT_COLOUR}">{escape(words)}</text>')
        if value is None:
            parts.append(f'<text x="{x(0)}" y="{y + 34}" fill="{MUTED_COLOUR}" font-style="italic" '
                         f'data-suppressed="true">{escape(suppressed)}</text>')
        else:
            length = round((WIDTH - NUMBER_ROOM) * value / largest, 1)
            if length:
                parts.append(f'<rect x="{x(length) if rtl else 0}" y="{y + 21}" width="{length}" height="{BAR}" '
                             f'fill="{BAR_COLOUR}"/>')
            after = length + 6 if length else 0
            parts.append(f'<text x="{x(after)}" y="{y + 34}" fill="{TEXT_COLOUR}" data-value="{escape(str(value))}">'
                         f'{escape(number_words(value) + unit)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
