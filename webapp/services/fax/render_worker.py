"""Renders one untrusted document (PDF, JPEG, PNG, TIFF) to fax pages, in a process of its own.

Run as ``python -I render_worker.py KIND RESOLUTION MAX_PAGES`` with the file on stdin; writes a
multi-page 1-bit TIFF (CCITT G4, 1728 pixels wide, A4 at 204 × 196 or 204 × 98 dpi) to stdout.
The parent limits its time and memory (``render.py``); a refusal exits with status 2 and a reason
code on stderr. Imports nothing of the portal, so a hostile file meets as little code as possible.
"""

from __future__ import annotations

import io
import sys

WIDTH = 1728  # pixels of a fax line at 204 dpi
A4_WIDTH = 1687  # 210 mm at 204 dpi: the page, centred in the line
A4_HEIGHT_SQUARE = 2386  # 297 mm at 204 dpi (square pixels, before the vertical resolution)
HEIGHT = {"fine": 2292, "normal": 1146}  # 297 mm at 196 / 98 lines per inch
DPI = {"fine": (204, 196), "normal": (204, 98)}
MAX_IMAGE_PIXELS = 40_000_000


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _fit(image, *, photo: bool, resolution: str):
    """Grey page → 1-bit fax page: fit into A4 (turning landscape), centre, fax lines."""
    from PIL import Image

    image = image.convert("L")
    if image.width > image.height:
        image = image.rotate(90, expand=True)
    scale = min(A4_WIDTH / image.width, A4_HEIGHT_SQUARE / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("L", (WIDTH, A4_HEIGHT_SQUARE), 255)
    canvas.paste(image, ((WIDTH - size[0]) // 2, 0))
    canvas = canvas.resize((WIDTH, HEIGHT[resolution]), Image.Resampling.LANCZOS)
    if photo:
        return canvas.convert("1")  # Floyd–Steinberg dithering keeps grey tones
    return canvas.point(lambda v: 255 if v > 170 else 0).convert("1", dither=Image.Dither.NONE)


def render_pdf(data: bytes, resolution: str, max_pages: int) -> list:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Refused("encrypted" if "password" in str(exc).lower() else "corrupt") from exc
    count = len(pdf)
    if count == 0:
        raise Refused("empty")
    if count > max_pages:
        raise Refused("too_many_pages")
    pages = []
    for index in range(count):
        page = pdf[index]
        width, height = page.get_size()
        if width <= 1 or height <= 1:
            raise Refused("corrupt")
        long_side = max(width, height)
        scale = A4_HEIGHT_SQUARE / long_side  # 4 million pixels at most, whatever the page says
        bitmap = page.render(scale=scale, grayscale=True, fill_color=(255, 255, 255, 255))
        pages.append(_fit(bitmap.to_pil(), photo=False, resolution=resolution))
        page.close()
    pdf.close()
    return pages


def render_image(data: bytes, resolution: str, max_pages: int) -> list:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
        if frames > max_pages:
            raise Refused("too_many_pages")
        pages = []
        for frame in ImageSequence.Iterator(image):
            photo = frame.mode not in ("1",)
            if frame.mode in ("RGBA", "LA", "P"):
                frame = frame.convert("RGBA")
                white = Image.new("RGBA", frame.size, (255, 255, 255, 255))
                frame = Image.alpha_composite(white, frame)
            pages.append(_fit(frame, photo=photo, resolution=resolution))
        return pages
    except Image.DecompressionBombError as exc:
        raise Refused("too_large") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise Refused("corrupt") from exc


def main(argv: list[str]) -> int:
    kind, resolution, max_pages = argv[1], argv[2], int(argv[3])
    data = sys.stdin.buffer.read()
    try:
        pages = render_pdf(data, resolution, max_pages) if kind == "pdf" else render_image(data, resolution, max_pages)
    except Refused as exc:
        sys.stderr.write(exc.code)
        return 2
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], compression="group4",
                  dpi=DPI[resolution])
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
