"""Fax documents: checking uploads and deposits, rendering them to fax pages (in a separate,
limited process), the Kopfzeile, TIFF Class F for the platform, PDFs of pages, and the generated
pages (cover page, transmission report, faxes from text for the CLI and demo)."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageFont, ImageSequence, UnidentifiedImageError

from ..errors import ValidationFailed
from . import render_worker

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PAGES = 50
MAX_RECEIVED_PAGES = 200
WIDTH = render_worker.WIDTH
HEIGHT = render_worker.HEIGHT
DPI = render_worker.DPI
ACCEPT = ".pdf,.jpg,.jpeg,.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

REFUSALS = {
    "encrypted": _l("This PDF is protected by a password. Please upload it without protection."),
    "corrupt": _l("This file is damaged or not a document that can be read."),
    "empty": _l("This document has no pages."),
    "too_many_pages": _l("A fax can have at most 50 pages."),
    "too_large": _l("The image is too large (at most 40 megapixels)."),
    "timeout": _l("The document took too long to prepare. Please upload a simpler file."),
}


class DocumentRefused(ValidationFailed):
    """A document that cannot be faxed; ``code`` is one of ``REFUSALS``."""

    def __init__(self, code: str, field: str = "file"):
        super().__init__(REFUSALS.get(code, REFUSALS["corrupt"]), field=field)
        self.code = code


def kind_of(data: bytes) -> str | None:
    """The document kind by its content (never by the file name): pdf, jpeg, png, tiff."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


@dataclass(frozen=True)
class Checked:
    kind: str
    pages: int


def check(data: bytes | None, *, field: str = "file", max_pages: int = MAX_PAGES) -> Checked:
    """Cheap checks in the request (size, kind, encryption, page count); rendering is the job's."""
    if not data:
        raise ValidationFailed(_l("The file is empty."), field=field)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(_l("The file is larger than 20 MB."), field=field)
    kind = kind_of(data)
    if kind is None:
        raise ValidationFailed(_l("This is not a PDF, JPG, PNG or TIFF document."), field=field)
    pages = _pdf_pages(data, field) if kind == "pdf" else _image_pages(data, field)
    if pages > max_pages:
        raise DocumentRefused("too_many_pages", field)
    return Checked(kind, pages)


def _pdf_pages(data: bytes, field: str) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentRefused("encrypted", field)
        pages = len(reader.pages)
    except DocumentRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError, AssertionError) as exc:
        raise DocumentRefused("corrupt", field) from exc
    if pages == 0:
        raise DocumentRefused("empty", field)
    return pages


def _image_pages(data: bytes, field: str) -> int:
    Image.MAX_IMAGE_PIXELS = render_worker.MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            return getattr(image, "n_frames", 1)
    except Image.DecompressionBombError as exc:
        raise DocumentRefused("too_large", field) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DocumentRefused("corrupt", field) from exc


# --- rendering in a limited process ---------------------------------------------------------


def _limits(memory: int, seconds: int):
    def apply() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))

    return apply


def render(data: bytes, kind: str, resolution: str, *, max_pages: int = MAX_PAGES) -> list[Image.Image]:
    """Fax pages (1-bit, 1728 wide, A4 at ``resolution``) of an untrusted document, rendered by
    ``render_worker`` in a child process with a time, memory and page limit."""
    cfg = current_app.config
    seconds = int(cfg.get("FAX_RENDER_SECONDS", 60))
    memory = int(cfg.get("FAX_RENDER_MEMORY", 1536 * 1024 * 1024))
    try:
        done = subprocess.run(  # noqa: S603 - our own script, arguments from a fixed set
            [sys.executable, "-I", str(Path(render_worker.__file__)), kind, resolution, str(max_pages)],
            input=data, capture_output=True, timeout=seconds, preexec_fn=_limits(memory, seconds), check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DocumentRefused("timeout") from exc
    if done.returncode != 0:
        code = done.stderr.decode(errors="replace").strip()
        raise DocumentRefused(code if code in REFUSALS else "corrupt")
    return frames(done.stdout)


def frames(tiff: bytes) -> list[Image.Image]:
    with Image.open(io.BytesIO(tiff)) as image:
        return [frame.copy() for frame in ImageSequence.Iterator(image)]


# --- pages we make ourselves ----------------------------------------------------------------


def _font(size: int, mono: bool = False):
    try:
        return ImageFont.truetype(FONT_MONO if mono else FONT, size)
    except OSError:  # pragma: no cover - DejaVu is part of the image
        return ImageFont.load_default(size)


def text_page(lines: list[tuple[str, int]], resolution: str = "fine") -> Image.Image:
    """A fax page with ``lines`` of (text, font size in points at 204 dpi) from the top."""
    image = Image.new("L", (WIDTH, render_worker.A4_HEIGHT_SQUARE), 255)
    draw = ImageDraw.Draw(image)
    y = 180
    for text, size in lines:
        font = _font(size)
        for line in (textwrap.wrap(text, width=max(20, int(2900 / size))) or [""]):
            draw.text((160, y), line, fill=0, font=font)
            y += int(size * 1.45)
        if y > render_worker.A4_HEIGHT_SQUARE - 200:
            break
    image = image.resize((WIDTH, HEIGHT[resolution]), Image.Resampling.LANCZOS)
    return image.point(lambda v: 255 if v > 160 else 0).convert("1", dither=Image.Dither.NONE)


def text_pages(text: str, resolution: str = "fine", *, lines_per_page: int = 40) -> list[Image.Image]:
    """Pages of plain text (the CLI's and demo's received faxes)."""
    wrapped = [w for para in text.splitlines() for w in (textwrap.wrap(para, 70) or [""])]
    chunks = [wrapped[i:i + lines_per_page] for i in range(0, len(wrapped), lines_per_page)] or [[""]]
    return [text_page([(line, 42) for line in chunk], resolution) for chunk in chunks]


def header(page: Image.Image, text: str) -> Image.Image:
    """The page with the Kopfzeile printed over its top 5 mm (as the receiving machine shows it)."""
    band = Image.new("1", (page.width, 40), 1)  # 40 lines at 196 lpi
    ImageDraw.Draw(band).text((40, 6), text, fill=0, font=_font(26, mono=True))
    if page.height < HEIGHT["fine"]:  # normal resolution: half as many lines
        band = band.resize((page.width, 20), Image.Resampling.NEAREST)
    page = page.copy()
    page.paste(band, (0, 0))
    return page


def header_text(moment: datetime, header_line: str | None, station_id: str | None, page: int, pages: int) -> str:
    parts = [moment.strftime("%d.%m.%Y %H:%M"), header_line or "", station_id or ""]
    return "  ".join(p for p in parts if p) + f"   S. {page}/{pages}"


def tiff(pages: list[Image.Image], resolution: str, *, compression: str = "group4") -> bytes:
    """TIFF Class F: one 1-bit CCITT G3/G4 frame per page, 204 dpi wide, A4."""
    out = io.BytesIO()
    first, *rest = [p if p.mode == "1" else p.convert("1") for p in pages]
    first.save(out, "TIFF", save_all=True, append_images=rest, compression=compression, dpi=DPI[resolution])
    return out.getvalue()


def pdf(pages: list[Image.Image], resolution: str) -> bytes:
    out = io.BytesIO()
    first, *rest = pages
    first.save(out, "PDF", save_all=True, append_images=rest, dpi=DPI[resolution])
    return out.getvalue()


def preview_png(page: Image.Image, resolution: str, width: int | None = None) -> bytes:
    """A page as the receiver gets it; normal resolution doubled in height so it looks right."""
    image = page
    if resolution == "normal":
        image = image.resize((image.width, image.height * 2), Image.Resampling.NEAREST)
    if width and width < image.width:
        image = image.convert("L").resize((width, round(image.height * width / image.width)),
                                          Image.Resampling.BOX)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def received_pdf(data: bytes, kind: str) -> tuple[bytes, int]:
    """A received fax as PDF and its page count: TIFF pages become PDF pages one to one."""
    if kind == "pdf":
        return data, _pdf_pages(data, "document")
    Image.MAX_IMAGE_PIXELS = render_worker.MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            dpi = image.info.get("dpi") or (204, 196)
            pages = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except Image.DecompressionBombError as exc:
        raise DocumentRefused("too_large", "document") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DocumentRefused("corrupt", "document") from exc
    pages = [p if p.mode in ("1", "L", "RGB") else p.convert("L") for p in pages]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:],
                  dpi=(float(dpi[0]) or 204.0, float(dpi[1]) or 196.0))
    return out.getvalue(), len(pages)
