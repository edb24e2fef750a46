"""Letters and legal documents as PDF, Chinese and English, on the lender's letterhead.

Chinese is set in reportlab's built-in CID font `STSong-Light` (Adobe-GB1): the PDF names the
font and every PDF reader ships it, so nothing is downloaded or embedded and the files stay small.
Text that fits Windows-1252 is set in Helvetica. Output is byte-for-byte reproducible (reportlab's
`invariant` mode: no creation time, fixed document id), so the same letter renders to the same
file — a re-sent letter is the same letter.

    doc = Document(title=(Text("还款通知书"),), letterhead=load_letterhead(), languages=("zh",), …)
    data = render(doc)  # bytes, starting b"%PDF-"
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict, Field
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from arrears.yamldoc import parse_document

CJK_FONT = "STSong-Light"
LATIN_FONT, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
LANGUAGES = ("zh", "en")
# the words of the letter's frame; a document speaks one language or both (zh first)
LABELS = {
    "to": {"zh": "致", "en": "To"},
    "date": {"zh": "日期", "en": "Date"},
    "reference": {"zh": "编号", "en": "Reference"},
    "contact": {"zh": "联系我们", "en": "Contact us"},
}


class LetterheadProblem(ValueError):
    """A letterhead file that cannot be used (names file, line and field)."""


class Bilingual(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


class Letterhead(BaseModel):
    """The lender's name and the contact lines every letter prints."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Bilingual
    contact: tuple[Bilingual, ...] = Field(min_length=1)


def load_letterhead(path: str | Path | None = None) -> Letterhead:
    """The letterhead from `path` (YAML), or the shipped example (`letterhead.yaml`)."""
    if path is None:
        text = resources.files("arrears.documents").joinpath("letterhead.yaml").read_text("utf-8")
        source = "letterhead.yaml"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise LetterheadProblem(f"{path}: cannot read 无法读取: {exc.strerror}") from None
        source = str(path)
    return parse_document(text, source, Letterhead, LetterheadProblem, what="(信函抬头无效)")


@dataclass(frozen=True)
class Text:
    """A run of text and its language (which decides the font when it has no Chinese in it)."""

    text: str
    language: str = "zh"


@dataclass(frozen=True)
class Document:
    """What a letter says. `languages` is the language(s) of the frame: labels, letterhead lines
    and signature — ("zh",), ("en",) or ("zh", "en") for a bilingual paper."""

    title: tuple[Text, ...]
    letterhead: Letterhead
    languages: tuple[str, ...]
    recipient: str
    dated: str
    paragraphs: tuple[Text, ...]
    reference: str | None = None
    table: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.languages or any(lang not in LANGUAGES for lang in self.languages):
            raise ValueError(f"languages {self.languages!r}: each must be zh or en")


@cache
def _register_cjk() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _needs_cjk(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


def _style(text: str, size: float, *, bold: bool = False, space: float = 4) -> ParagraphStyle:
    cjk = _needs_cjk(text)
    return ParagraphStyle(
        "p",
        fontName=CJK_FONT if cjk else (LATIN_BOLD if bold else LATIN_FONT),
        fontSize=size,
        leading=size * 1.5,
        spaceAfter=space,
        wordWrap="CJK" if cjk else None,  # Chinese breaks between any two characters
    )


def _para(text: str, size: float = 10.5, **kw: object) -> Paragraph:
    # escape: Paragraph reads a small markup language, and a borrower's name is not markup
    return Paragraph(escape(text).replace("\n", "<br/>"), _style(text, size, **kw))  # type: ignore[arg-type]


def _label(key: str, languages: tuple[str, ...]) -> str:
    return " ".join(LABELS[key][lang] for lang in languages)


def _field(key: str, languages: tuple[str, ...], value: str) -> str:
    colon = "：" if languages == ("zh",) else ": "  # Chinese takes the full-width colon
    return f"{_label(key, languages)}{colon}{value}"


def render(doc: Document) -> bytes:
    """The document as PDF bytes (A4)."""
    _register_cjk()
    head = doc.letterhead
    story: list = [
        _para(head.name.zh, 15, space=0),
        _para(head.name.en, 10.5, bold=True, space=2),
        HRFlowable(width="100%", thickness=0.6, color=colors.grey, spaceAfter=8),
    ]
    for t in doc.title:
        story.append(_para(t.text, 16 if t.language == "zh" else 13, bold=True, space=2))
    story.append(Spacer(1, 6 * mm))
    story.append(_para(_field("to", doc.languages, doc.recipient)))
    story.append(_para(_field("date", doc.languages, doc.dated)))
    if doc.reference:
        story.append(_para(_field("reference", doc.languages, doc.reference)))
    story.append(Spacer(1, 4 * mm))
    for p in doc.paragraphs:
        story.append(_para(p.text, space=8))
    if doc.table:
        cells = [[_para(k, space=0), _para(v, space=0)] for k, v in doc.table]
        table = Table(cells, colWidths=[60 * mm, 100 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
        story += [table, Spacer(1, 4 * mm)]
    story.append(Spacer(1, 6 * mm))
    for lang in doc.languages:
        story.append(_para(head.name.get(lang), space=2))
    story.append(HRFlowable(width="100%", thickness=0.6, color=colors.grey, spaceBefore=10))
    story.append(_para(_label("contact", doc.languages), 9, bold=True, space=2))
    for line in head.contact:
        for lang in doc.languages:
            story.append(_para(line.get(lang), 9, space=1))
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=" ".join(t.text for t in doc.title),
        author=head.name.en,
        invariant=1,  # reproducible bytes
    ).build(story)
    return out.getvalue()
