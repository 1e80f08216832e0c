"""Letters: HTML → PDF bytes with WeasyPrint. No database reads or writes here: the snapshot and
the stored file belong to the services and tasks (STYLE.md, "PDF rendering").

Every PDF goes through ``LetterURLFetcher`` (security.md PDF-02): it serves only the fonts and
images packaged under ``static/fonts`` and ``static/img``, and ``data:`` images; anything else
(``http(s)://``, ``file://`` outside those folders, a stylesheet as ``data:``) stops the render
with ``LetterResourceRefused`` before a byte is fetched. The PDF is tagged (PDF/UA-1), A4, in
the letter's language, with the letter's title in its metadata.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import mimetypes
import threading
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from weasyprint import HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse, path2url

from letters.templating import date_text, template_render

# Folder under static/ → the file types the letters may load from it.
PACKAGED_RESOURCES = {
    "fonts": frozenset({".ttf", ".otf", ".woff", ".woff2"}),
    "img": frozenset({".png", ".jpg", ".jpeg", ".gif"}),
}
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
MAX_RESOURCE_BYTES = 4 * 1024 * 1024  # a font or a logo; anything bigger is a mistake or an attack

# PDF/UA-1 implies pdf_tags=True and PDF 1.7 (WeasyPrint ≥ 63; pinned ≥ 70 for PDF-01).
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}

HTML_LANG = {"en": "en-GB", "cy": "cy"}
PAGE_LABELS = {"en": ("Page", "of"), "cy": ("Tudalen", "o")}


def static_root() -> Path:
    return (Path(settings.BASE_DIR) / "static").resolve()


class LetterResourceRefused(Exception):  # noqa: N818 (it reads as what happened to the URL)
    """A letter asked for something it may not load; the render stops, nothing is fetched."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        shown = url if len(url) <= 80 else f"{url[:77]}..."
        super().__init__(f"Refused to load {shown!r}: {reason}")


class LetterURLFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type hints
    """The only way a letter's PDF reaches a resource: packaged fonts and images, read into
    memory, and ``data:`` images. Never opens a socket; redirects cannot happen.

    ``fail_on_errors=True`` makes WeasyPrint stop the render on a refusal instead of logging a
    warning and printing the letter without the resource. ``served`` and ``refused`` record what
    was asked for, for tests and logs."""

    def __init__(self, *, root: Path | None = None) -> None:
        super().__init__(
            timeout=1,
            allowed_protocols=("file", "data"),
            allow_redirects=False,
            fail_on_errors=True,
        )
        self.root = (root or static_root()).resolve()
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.partition(":")[0].lower() if ":" in url else ""
        if scheme == "data":
            response = self._data(url)
        elif scheme == "file":
            response = self._packaged_file(url)
        else:
            raise self._refuse(url, "letters load nothing from the network")
        self.served.append(url)
        return response

    def _refuse(self, url: str, reason: str) -> LetterResourceRefused:
        self.refused.append(url)
        return LetterResourceRefused(url, reason)

    def _data(self, url: str) -> URLFetcherResponse:
        header, comma, payload = url[len("data:") :].partition(",")
        media_type, *parameters = (part.strip().lower() for part in header.split(";"))
        if not comma or media_type not in DATA_IMAGE_TYPES:
            raise self._refuse(url, "only PNG, JPEG and GIF images may be given as data: URLs")
        if len(payload) > MAX_RESOURCE_BYTES * 4 // 3 + 4:
            raise self._refuse(url, "the image is too large")
        try:
            if "base64" in parameters:
                body = base64.b64decode(payload, validate=True)
            else:
                body = urllib.parse.unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            raise self._refuse(url, "the data: URL is not valid") from exc
        return URLFetcherResponse(url, body, {"Content-Type": media_type})

    def _packaged_file(self, url: str) -> URLFetcherResponse:
        parts = urllib.parse.urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise self._refuse(url, "letters load nothing from the network (another machine)")
        try:
            path = Path(urllib.request.url2pathname(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise self._refuse(url, "no such packaged file") from exc
        # resolve() has followed every symlink and "..": the real file must sit in a folder
        # we package, have a type we expect, and be a regular file (not /dev/zero).
        allowed = any(
            path.is_relative_to(self.root / folder) and path.suffix.lower() in suffixes
            for folder, suffixes in PACKAGED_RESOURCES.items()
        )
        if not allowed or not path.is_file():
            raise self._refuse(url, "only the fonts and images in static/fonts and static/img")
        if path.stat().st_size > MAX_RESOURCE_BYTES:
            raise self._refuse(url, "the file is too large")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})


_fonts = threading.local()


def font_configuration() -> FontConfiguration:
    """This thread's FontConfiguration, made once and reused for every letter it renders.

    WeasyPrint makes a new one per document when given none, and each leaves about 0.2 MB of
    fontconfig and Pango state behind: a batch worker grew by 80 MB over 300 letters. Reused,
    the worker stays flat (``benchmarks/letters.py`` reports peak RSS at 100 and 1,000
    letters). What it keeps between letters are the @font-face rules they declared, and
    ``LetterURLFetcher`` lets those name only the fonts packaged in ``static/fonts``. One per
    thread: it is not made to be shared between threads."""
    config: FontConfiguration | None = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def html_to_pdf(
    html: str, *, base_url: str | None = None, url_fetcher: LetterURLFetcher | None = None
) -> bytes:
    """A letter's HTML as tagged (PDF/UA-1) PDF bytes.

    Relative URLs resolve against ``static/`` unless ``base_url`` says otherwise; either way
    only what ``LetterURLFetcher`` allows is loaded. Raises ``LetterResourceRefused`` naming
    the first URL refused (the render stops there: no half-letter is produced). The title and
    language come from the HTML's ``<title>`` and ``<html lang>``.
    """
    fetcher = url_fetcher or LetterURLFetcher()
    document = HTML(string=html, base_url=base_url or path2url(fetcher.root), url_fetcher=fetcher)
    try:
        pdf: bytes = document.write_pdf(font_config=font_configuration(), **PDF_OPTIONS)
    except FatalURLFetchingError as exc:
        # A BaseException in WeasyPrint: turn it back into ours, or a plain error, here.
        if isinstance(exc.__cause__, LetterResourceRefused):
            raise exc.__cause__ from None
        raise LetterResourceRefused(str(exc), "the resource could not be loaded") from exc
    return pdf


def letter_html(
    *,
    body_source: str,
    values: Mapping[str, object],
    title: str,
    language: str = "en",
    logo_src: str | None = None,
    signature_src: str | None = None,
) -> str:
    """The complete HTML of one letter: the school's template (``body_source``, rendered in the
    sandbox with ``values``, see ``letters.templating``) inside ``letters/pdf/_letter_base.html``
    (letterhead, the address in the envelope window, date, signature, page numbers).

    ``logo_src``/``signature_src`` are a path under ``static/img`` or a ``data:image/…`` URL.
    Raises ``TemplateProblemError`` if the template cannot be rendered.
    """
    body = template_render(body_source, values, language=language)
    nested: dict[str, Any] = {}
    for name, value in values.items():
        group, dot, attribute = name.partition(".")
        if dot:
            nested.setdefault(group, {})[attribute] = value
        else:
            nested[name] = value
    today = values.get("today")
    if today is not None and not isinstance(today, dt.date):
        raise TypeError(f"today must be a date, not {today!r}")
    page, of = PAGE_LABELS[language]
    return render_to_string(
        "letters/pdf/_letter_base.html",
        {
            **nested,
            # The sandbox escaped every merge value; the school's own markup is the letter.
            "body": mark_safe(body),  # noqa: S308
            "title": title,
            "html_lang": HTML_LANG[language],
            "date_line": date_text(today, language) if today else "",
            "logo_src": logo_src,
            "signature_src": signature_src,
            "page_label": page,
            "of_label": of,
        },
    )


def letter_pdf(
    *,
    body_source: str,
    values: Mapping[str, object],
    title: str,
    language: str = "en",
    logo_src: str | None = None,
    signature_src: str | None = None,
) -> bytes:
    """``letter_html`` then ``html_to_pdf``: one letter's PDF bytes."""
    return html_to_pdf(
        letter_html(
            body_source=body_source,
            values=values,
            title=title,
            language=language,
            logo_src=logo_src,
            signature_src=signature_src,
        )
    )
