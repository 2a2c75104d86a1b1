"""Right to left in the reports, for a language written that way
(messages.RIGHT_TO_LEFT_LANGUAGES): the page's ``dir`` and ``lang``, a workbook's sheets, a Word document's
paragraphs, runs, tables and sections.

Excel: each sheet's view is right to left (column A on the right), and a
cell holding right-to-left text reads right to left (readingOrder 2); a
cell of codes or numbers keeps Excel's "context" order, which is that of
its first letter.

Word has no single switch: a paragraph is right to left by ``<w:bidi/>`` in
its properties (and so by its style's and the document's defaults), a table
by ``<w:bidiVisual/>``, a section by ``<w:bidi/>``, and a run's characters by
``<w:rtl/>``, which also makes Word treat digits and neutrals in it as
right to left and use its complex-script font and size. So ``<w:rtl/>`` goes
only on right-to-left text: a run mixing Arabic with a symbol such as
A/HRC/48/9, a code or a date is split into runs by direction, the
left-to-right fragments without it, so "A/HRC/48/9" is not turned into
"9/48/HRC/A". python-docx has no API for any of this; the XML is set here.

The catalog's Arabic texts come with their own marks (messages.bidi: an RLM
at each paragraph, each value isolated), which Excel, Word and browsers
honour; what is laid out here is the file around them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from messages import RIGHT_TO_LEFT_LANGUAGES
from messages.bidi import FSI, LRI, PDI, strip_controls

# Arabic (with its supplements and presentation forms), Hebrew, Syriac, Thaana, N'Ko.
_RTL_CHARS = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"
# A right-to-left letter: Arabic-Indic digits and their separators are numbers (bidi class AN), not text.
_RTL = re.compile(f"(?![\u0660-\u066c\u06f0-\u06f9])[{_RTL_CHARS}]")
# A left-to-right fragment: letters of the other scripts and digits, with the
# punctuation that holds a symbol, a code, a number or a date together inside it
# ("A/HRC/48/9", "118.3", "2026-03-02", "#12", "150,000.50 UYU" is two).
# An isolate messages.bidi puts around a value (not nested: it isolates values, not texts).
_ISOLATE = re.compile(f"[{LRI}{FSI}][^{LRI}{FSI}{PDI}]*{PDI}")
_LTR_FRAGMENT = re.compile(rf"#?[^\W{_RTL_CHARS}](?:[^\s{_RTL_CHARS}()\[\]«»،؛]*[^\W_{_RTL_CHARS}])?%?")


# BCP 47 tags where the catalog's code says less than the text is: the
# Chinese catalog is Simplified, which browsers pick their fonts by.
_HTML_LANG = {"zh": "zh-Hans"}


def is_rtl(language: str) -> bool:
    """Whether the reports in ``language`` are laid out right to left."""
    return language in RIGHT_TO_LEFT_LANGUAGES


def text_direction(language: str) -> str:
    """ "rtl" or "ltr", as HTML's ``dir`` takes it."""
    return "rtl" if is_rtl(language) else "ltr"


def html_lang(language: str) -> str:
    """The BCP 47 tag for HTML's ``lang``: "ar", "zh-Hans", "ru", "pt"."""
    return _HTML_LANG.get(language, language)


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds a right-to-left letter."""
    return bool(_RTL.search(text))


def rtl_pieces(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into pieces by direction: (piece, right to left?). The
    spaces and punctuation between fragments go with the right-to-left text;
    a left-to-right isolate the catalog put around a value (messages.bidi:
    LRI..PDI, or FSI..PDI holding no right-to-left letter) is one
    left-to-right piece, its brackets and spaces included."""
    if not has_rtl(text):
        return [(text, False)]
    pieces: list[tuple[str, bool]] = []
    at = 0
    for found in _ISOLATE.finditer(text):
        pieces += _by_fragments(text[at:found.start()])
        whole = found.group()
        if whole[0] == LRI or not has_rtl(whole):
            pieces.append((whole, False))
        else:
            pieces += _by_fragments(whole)
        at = found.end()
    pieces += _by_fragments(text[at:])
    return pieces


def _by_fragments(text: str) -> list[tuple[str, bool]]:
    if not text:
        return []
    if not has_rtl(text):
        return [(text, False)] if _LTR_FRAGMENT.search(text) else [(text, True)]
    pieces: list[tuple[str, bool]] = []
    at = 0
    for found in _LTR_FRAGMENT.finditer(text):
        if found.start() > at:
            pieces.append((text[at:found.start()], True))
        pieces.append((found.group(), False))
        at = found.end()
    if at < len(text):
        pieces.append((text[at:], True))
    return pieces


# --- Excel (openpyxl) ---------------------------------------------------------

def rtl_alignment() -> Any:
    from openpyxl.styles import Alignment

    return Alignment(readingOrder=2)


def rtl_sheet(sheet: Any) -> None:
    """The sheet laid out right to left (a normal or a write-only sheet)."""
    sheet.sheet_view.rightToLeft = True


def rtl_workbook(book: Any) -> None:
    """Every sheet of a (normal) workbook right to left, each cell holding
    right-to-left text read right to left, its other alignment kept."""
    from openpyxl.styles import Alignment

    for sheet in book.worksheets:
        rtl_sheet(sheet)
        # A tab's name is no paragraph: the catalog's directional marks are left out of it.
        sheet.title = strip_controls(sheet.title) or sheet.title
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and has_rtl(cell.value):
                    was = cell.alignment
                    cell.alignment = Alignment(
                        horizontal=was.horizontal, vertical=was.vertical, wrap_text=was.wrap_text, shrink_to_fit=was.shrink_to_fit,
                        indent=was.indent, text_rotation=was.text_rotation, readingOrder=2,
                    )


# --- Word (python-docx) -------------------------------------------------------

def _on(parent: Any, tag: str, first: bool = False) -> Any:
    """The child ``tag`` of ``parent``, made if missing (first among the children when asked: the schema orders them)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    found = parent.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        if first:
            parent.insert(0, found)
        else:
            parent.append(found)
    return found


def _props(element: Any, tag: str) -> Any:
    """A paragraph's, run's or table's properties element, first among its children as the schema wants."""
    return _on(element, tag, first=True)


def _mark(props: Any, tag: str) -> None:
    """``tag`` (w:bidi, w:rtl) in ``props``, in its place among the properties Word checks the order of."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    if props.find(qn(tag)) is not None:
        return
    flag = OxmlElement(tag)
    # CT_PPr: bidi comes before adjustRightInd, spacing, ind, jc...; CT_RPr: rtl before cs, sz, szCs, lang...
    after = {
        "w:bidi": ("w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                   "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                   "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
        "w:rtl": ("w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath"),
        "w:bidiVisual": ("w:tblStyleRowBandSize", "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd", "w:tblLayout",
                         "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"),
    }[tag]
    for child in props:
        if child.tag in {qn(name) for name in after}:
            child.addprevious(flag)
            return
    props.append(flag)


def _split_run(run: Any) -> None:
    """A run of right-to-left text marked ``<w:rtl/>``; one mixing directions
    cut into runs by direction, each with the run's own formatting."""
    from docx.oxml.ns import qn

    texts = run.findall(qn("w:t"))
    text = "".join(t.text or "" for t in texts)
    if not has_rtl(text):
        return
    others = [child for child in run if child.tag not in (qn("w:rPr"), qn("w:t"))]
    pieces = rtl_pieces(text)
    if len(texts) != 1 or others or len(pieces) == 1:
        # A run with tabs or breaks in it stays whole: right to left as its letters are.
        _mark(_props(run, "w:rPr"), "w:rtl")
        return
    for piece, rtl in pieces:
        part = copy.deepcopy(run)
        t = part.find(qn("w:t"))
        t.text = piece
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        if rtl:
            _mark(_props(part, "w:rPr"), "w:rtl")
        run.addprevious(part)
    run.getparent().remove(run)


def rtl_document(doc: Any, bidi_language: str = "ar-SA") -> None:
    """The whole document right to left: its defaults and paragraph styles,
    every paragraph (in tables too), table and section, and the runs of
    right-to-left text (``bidi_language``: the complex-script language Word
    proofs and picks fonts by)."""
    from docx.oxml.ns import qn

    styles = doc.styles.element
    defaults = _on(styles, "w:docDefaults", first=True)
    run_default = _props(_on(defaults, "w:rPrDefault", first=True), "w:rPr")
    paragraph_default = _props(_on(defaults, "w:pPrDefault"), "w:pPr")
    _mark(paragraph_default, "w:bidi")
    _on(run_default, "w:lang").set(qn("w:bidi"), bidi_language)
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:type")) == "paragraph":
            props = style.find(qn("w:pPr"))
            if props is None:
                # pPr comes after name, aliases, basedOn, next, link, ... uiPriority, qFormat...: before rPr and tblPr.
                from docx.oxml import OxmlElement

                props = OxmlElement("w:pPr")
                later = next((c for c in style if c.tag in (qn("w:rPr"), qn("w:tblPr"), qn("w:trPr"), qn("w:tcPr"), qn("w:tblStylePr"))), None)
                if later is not None:
                    later.addprevious(props)
                else:
                    style.append(props)
            _mark(props, "w:bidi")
        # Word sizes a right-to-left run by its complex-script size: as the Latin one.
        rpr = style.find(qn("w:rPr"))
        if rpr is not None:
            size = rpr.find(qn("w:sz"))
            if size is not None and rpr.find(qn("w:szCs")) is None:
                twin = copy.deepcopy(size)
                twin.tag = qn("w:szCs")
                size.addnext(twin)
            bold = rpr.find(qn("w:b"))
            if bold is not None and rpr.find(qn("w:bCs")) is None:
                twin = copy.deepcopy(bold)
                twin.tag = qn("w:bCs")
                bold.addnext(twin)
    body = doc.element.body
    for paragraph in body.iter(qn("w:p")):
        _mark(_props(paragraph, "w:pPr"), "w:bidi")
        for run in list(paragraph.iter(qn("w:r"))):
            _split_run(run)
    # A bold or italic run keeps it in its right-to-left letters, which Word styles by bCs and iCs.
    for run in body.iter(qn("w:r")):
        props = run.find(qn("w:rPr"))
        if props is not None and props.find(qn("w:rtl")) is not None:
            for latin, complex_ in (("w:b", "w:bCs"), ("w:i", "w:iCs")):
                if props.find(qn(latin)) is not None and props.find(qn(complex_)) is None:
                    twin = copy.deepcopy(props.find(qn(latin)))
                    twin.tag = qn(complex_)
                    props.find(qn(latin)).addnext(twin)
    for table in body.iter(qn("w:tbl")):
        _mark(_props(table, "w:tblPr"), "w:bidiVisual")
    for section in body.iter(qn("w:sectPr")):
        _mark_section(section)


def _mark_section(section: Any) -> None:
    """``<w:bidi/>`` in a section: its columns and page numbers right to left (after pgNumType, cols, formProt, vAlign, noEndnote, titlePg, textDirection)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    if section.find(qn("w:bidi")) is not None:
        return
    flag = OxmlElement("w:bidi")
    later = next((c for c in section if c.tag in (qn("w:rtlGutter"), qn("w:docGrid"), qn("w:printerSettings"), qn("w:sectPrChange"))), None)
    if later is not None:
        later.addprevious(flag)
    else:
        section.append(flag)
