"""Letters to PDF: the packaged font, Welsh text, A4, the envelope window, tagging, and a URL
fetcher that refuses everything but packaged fonts and images (security.md PDF-01 to PDF-03).
No database."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pypdf
import pytest
import weasyprint
from django.conf import settings
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from pypdf._text_extraction import mult

from letters.rendering import (
    LetterResourceRefused,
    LetterURLFetcher,
    font_configuration,
    html_to_pdf,
    letter_html,
    letter_pdf,
)
from letters.templating import TemplateProblemError, days_text, example_values

MM = 72 / 25.4
WELSH = "ŵ ŷ â ê î ô û ï ë Ŵ Ŷ"
PIXEL_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAC"
    "hwGA60e6kgAAAABJRU5ErkJggg=="
)
BODY = (
    "<p>Dear {{ addressee.name }},</p>\n"
    "<p>{{ pupil.first_name }} has missed {{ days.missed }} of school since {{ period.start }}.</p>\n"
    "<p>Diolch yn fawr: " + WELSH + "</p>\n"
    "<p>Yours sincerely,</p>\n"
)


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to resolve or connect is recorded (and fails)."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture(scope="module")
def letter() -> pypdf.PdfReader:
    values = example_values() | {
        "pupil.first_name": "Ŵyn",
        "sessions.missed": 13,
        "days.missed": days_text(13),
        "school.name": "Ysgol Bro Derwen",
    }
    pdf = letter_pdf(
        body_source=BODY,
        values=values,
        title="Attendance: Ŵyn Jones",
        logo_src=PIXEL_PNG,
        signature_src=PIXEL_PNG,
    )
    return pypdf.PdfReader(io.BytesIO(pdf))


def catalog_of(reader: pypdf.PdfReader) -> Any:
    return reader.trailer["/Root"]


def text_of(reader: pypdf.PdfReader) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def embedded_fonts(reader: pypdf.PdfReader) -> list[TTFont]:
    fonts = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            data = descriptor.get_object()["/FontFile2"].get_data()
            fonts.append(TTFont(io.BytesIO(data)))
    return fonts


def test_weasyprint_is_a_version_that_keeps_the_url_fetcher():
    # PDF-01: < 70 bypassed a custom fetcher for stylesheets= and xmp_metadata=.
    assert int(weasyprint.__version__.split(".")[0]) >= 70


def test_the_letter_reads_back_with_its_days_missed_sentence_and_welsh_text(letter):
    text = text_of(letter)

    assert "Ŵyn has missed 6½ days of school since 4 September 2024." in text
    assert WELSH in text
    assert "Page 1 of 1" in text
    assert "21 October 2024" in text


def test_the_packaged_open_sans_is_embedded_regular_and_bold(letter):
    names = sorted(font["name"].getDebugName(4) for font in embedded_fonts(letter))

    assert names == ["Open Sans", "Open Sans Bold"]  # not a system fallback


def test_the_packaged_font_covers_welsh():
    for name in ("OpenSans-Regular.ttf", "OpenSans-Bold.ttf"):
        cmap = TTFont(Path(settings.BASE_DIR) / "static" / "fonts" / name).getBestCmap()
        assert all(ord(char) in cmap for char in "ŵŷâêîôûïëŴŶÂÊÎÔÛÏËẁẃẅỳ½\u2013\u2019")


def test_the_page_is_a4(letter):
    box = letter.pages[0].mediabox

    assert float(box.width) == pytest.approx(595.28, abs=1)
    assert float(box.height) == pytest.approx(841.89, abs=1)


def test_the_pdf_is_tagged_with_language_and_title(letter):
    catalog = catalog_of(letter)

    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en-GB"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert letter.metadata.title == "Attendance: Ŵyn Jones"
    assert letter.metadata.author == "Ysgol Bro Derwen"


def test_the_address_sits_in_the_dl_envelope_window(letter):
    # The window: 20 mm from the left, 50 mm to 85 mm from the top (the template's comment).
    lines: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            matrix = mult(tm, cm)
            lines[text.strip()] = (matrix[4] / MM, (842 - matrix[5]) / MM)

    letter.pages[0].extract_text(visitor_text=visit)

    for line in ("Sarah Jones and Dafydd Jones", "12 Heol y Llan", "Aberystwyth", "SY23 1AA"):
        left, baseline = lines[line]
        assert 20 < left < 30, line
        assert 53 < baseline < 84, line
    assert lines["Dear Sarah Jones and Dafydd Jones,"][1] > 90  # the body starts below it


def test_a_welsh_letter_says_so():
    pdf = letter_pdf(
        body_source="<p>Annwyl {{ parents }}, {{ period.start }}</p>",
        values=example_values(),
        title="Llythyr presenoldeb",
        language="cy",
    )
    reader = pypdf.PdfReader(io.BytesIO(pdf))

    assert catalog_of(reader)["/Lang"] == "cy"
    assert "Annwyl Sarah Jones a Dafydd Jones, 4 Medi 2024" in text_of(reader)
    assert "Tudalen 1 o 1" in text_of(reader)


def test_a_long_letter_numbers_its_pages():
    body = (
        "{% for name in parents %}" + "<p>{{ name }} lorem ipsum dolor.</p>" * 40 + "{% endfor %}"
    )

    reader = pypdf.PdfReader(
        io.BytesIO(letter_pdf(body_source=body, values=example_values(), title="Long"))
    )

    assert len(reader.pages) >= 2
    assert "Page 1 of" in reader.pages[0].extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in reader.pages[-1].extract_text()


def test_a_pupil_name_that_is_markup_prints_as_text_and_fetches_nothing(no_network):
    # PDF-03: escaped merge values cannot inject tags, CSS or attachments.
    name = '<link rel=attachment href="file:///etc/passwd"><style>@import url(http://x/);</style>'
    values = example_values() | {"pupil.full_name": name}
    fetcher = LetterURLFetcher()

    html = letter_html(body_source="<p>{{ pupil.full_name }}</p>", values=values, title="x")
    reader = pypdf.PdfReader(io.BytesIO(html_to_pdf(html, url_fetcher=fetcher)))

    assert "&lt;link rel=attachment" in html
    assert "<link rel=attachment" in text_of(reader)
    assert no_network == []
    assert all(re.match(r"file://.*/static/fonts/", url) for url in fetcher.served)
    assert "/Names" not in catalog_of(reader)  # no embedded files


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://example.org/x.png">',
        '<img src="http://169.254.169.254/latest/meta-data/">',
        "<style>@import url(http://example.org/a.css);</style><p>x</p>",
        '<p style="background: url(//example.org/bg.png)">x</p>',
        '<object data="http://internal/"></object>',
        '<link rel="stylesheet" href="https://example.org/a.css"><p>x</p>',
        '<img src="ftp://example.org/x.png">',
    ],
)
def test_remote_urls_are_refused_without_touching_the_network(html, no_network):
    fetcher = LetterURLFetcher()

    with pytest.raises(LetterResourceRefused, match="letters load nothing from the network"):
        html_to_pdf(html, url_fetcher=fetcher)

    assert no_network == []
    assert fetcher.served == []
    assert len(fetcher.refused) == 1


def test_files_outside_the_packaged_folders_are_refused(tmp_path, no_network):
    sentinel = tmp_path / "secret.png"
    sentinel.write_bytes(b"SENTINEL-CONTENTS")
    outside = [
        sentinel.as_uri(),
        "file:///etc/passwd",
        "file:///dev/zero",
        "fonts/../../pyproject.toml",  # relative to static/: climbs out
        "../letters/rendering.py",
        "fonts/LICENSE-Apache-2.0.txt",  # inside, but not a font or image
        "file://other-host/share/x.png",
    ]
    for url in outside:
        fetcher = LetterURLFetcher()
        with pytest.raises(LetterResourceRefused):
            html_to_pdf(f'<img src="{url}">', url_fetcher=fetcher)
        assert fetcher.served == [], url

    with pytest.raises(LetterResourceRefused):
        html_to_pdf(f'<link rel="attachment" href="{sentinel.as_uri()}"><p>x</p>')
    assert no_network == []


def test_a_symlink_out_of_the_static_folder_is_refused(tmp_path):
    root = tmp_path / "static"
    (root / "img").mkdir(parents=True)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"x")
    (root / "img" / "logo.png").symlink_to(secret)

    with pytest.raises(LetterResourceRefused):
        html_to_pdf('<img src="img/logo.png">', url_fetcher=LetterURLFetcher(root=root))


def test_data_urls_are_allowed_only_for_images():
    fetcher = LetterURLFetcher()
    html_to_pdf(f'<img src="{PIXEL_PNG}" alt="dot">', url_fetcher=fetcher)
    assert fetcher.served == [PIXEL_PNG]

    for url in (
        "data:text/css,p{color:red}",
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
        "data:text/html,<p>x</p>",
    ):
        with pytest.raises(LetterResourceRefused, match="only PNG, JPEG and GIF"):
            html_to_pdf(f'<style>@import url("{url}");</style><img src="{url}">')


def test_an_inline_svg_reaches_nothing_outside(no_network):
    fetcher = LetterURLFetcher()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<image href="http://example.org/x.png" width="10" height="10"/>'
        '<image href="file:///etc/passwd" width="10" height="10"/></svg>'
    )

    with contextlib.suppress(LetterResourceRefused):  # refused outright: as good as not fetched
        html_to_pdf(svg, url_fetcher=fetcher)

    assert fetcher.served == []
    assert no_network == []


def test_a_link_is_a_link_not_a_fetch(no_network):
    fetcher = LetterURLFetcher()
    html = letter_html(
        body_source='<p>See <a href="https://www.gov.uk/school-attendance-absence">GOV.UK</a></p>',
        values=example_values(),
        title="x",
    )

    reader = pypdf.PdfReader(io.BytesIO(html_to_pdf(html, url_fetcher=fetcher)))

    assert no_network == []
    assert fetcher.refused == []
    page: Any = reader.pages[0]
    annotations = [annotation.get_object() for annotation in page["/Annots"]]
    assert [annotation["/A"]["/URI"] for annotation in annotations] == [
        "https://www.gov.uk/school-attendance-absence"
    ]


def test_a_template_with_a_remote_url_is_refused_before_rendering(no_network):
    with pytest.raises(TemplateProblemError, match=re.escape("https://example.org/x.png")):
        letter_pdf(
            body_source='<p>Hi</p>\n<img src="https://example.org/x.png">',
            values=example_values(),
            title="x",
        )
    assert no_network == []


def test_a_thread_reuses_one_font_configuration_and_another_thread_gets_its_own():
    # A new FontConfiguration per letter leaks fontconfig state: a batch worker grew 80 MB
    # over 300 letters (benchmarks/letters.py reports the peak RSS now).
    first = font_configuration()
    html_to_pdf('<html lang="en-GB"><head><title>t</title></head><body>ŵ</body></html>')
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(font_configuration()))
    thread.start()
    thread.join()
    assert font_configuration() is first
    assert other[0] is not first
