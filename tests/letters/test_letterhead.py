"""The letterhead page: administrators and heads set the address, who signs, a logo and a
signature image (PNG or JPEG, checked by decoding, 1 MB at most); every letter uses it."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from letters.forms import LETTERHEAD_IMAGE_MAX_BYTES
from letters.models import Letterhead
from schools.scoping import school_scope
from tests.letters.test_letters import generate, rw, stored_text  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 80, 160)).save(out, format=fmt)
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def url(world) -> str:
    return reverse("letters:letterhead", kwargs={"school_slug": world.school.slug})


FIELDS = {
    "address": "Ysgol Bro Derwen\nFfordd y Coleg\nSY23 3AB",
    "phone": "01970 000111",
    "email": "swyddfa@example.org",
    "signatory_name": "Mrs Rhian Ŵen",
    "signatory_role": "Pennaeth",
}


def test_a_head_sets_the_letterhead_and_the_next_letter_carries_it(rw, client):  # noqa: F811
    client.force_login(rw.head.user)
    assert client.get(url(rw)).status_code == 200
    response = client.post(
        url(rw),
        {
            **FIELDS,
            "logo": upload("../../evil name.png", image_bytes()),
            "signature": upload("sig.jpg", image_bytes("JPEG"), "image/jpeg"),
        },
    )
    assert response.status_code == 302
    with school_scope(rw.school):
        letterhead = Letterhead.objects.get(school=rw.school)
    assert letterhead.signatory_name == "Mrs Rhian Ŵen"
    # Stored under a name the service chose, not the uploader's.
    assert letterhead.logo.name.startswith(f"letterheads/{rw.school.pk}/logo")
    assert letterhead.logo.name.endswith(".png")
    assert letterhead.signature.name.endswith(".jpg")

    letter = generate(rw)
    text = stored_text(letter)
    assert "Mrs Rhian Ŵen" in text
    assert "Pennaeth" in text
    assert "01970 000111" in text
    with letter.pdf.open("rb") as handle:
        page = pypdf.PdfReader(io.BytesIO(handle.read())).pages[0]
    assert len(page.images) == 2  # the logo and the signature

    # Removing the logo keeps the signature.
    client.post(url(rw), {**FIELDS, "remove_logo": "on"})
    with school_scope(rw.school):
        letterhead.refresh_from_db()
    assert not letterhead.logo
    assert letterhead.signature


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.gif", image_bytes("GIF"), "not a PNG or JPEG"),
        ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG or JPEG"),
        ("logo.png", image_bytes()[:40], "not a PNG or JPEG"),
        ("logo.png", b"\x89PNG" + b"0" * LETTERHEAD_IMAGE_MAX_BYTES, "1 MB or smaller"),
    ],
)
def test_an_image_that_is_not_a_small_png_or_jpeg_is_refused(rw, client, name, content, message):  # noqa: F811
    client.force_login(rw.head.user)
    response = client.post(url(rw), {**FIELDS, "logo": upload(name, content)})
    assert response.status_code == 200
    assert message in response.content.decode()
    with school_scope(rw.school):
        assert not Letterhead.objects.get(school=rw.school).logo


def test_an_attendance_officer_cannot_change_the_letterhead(rw, client):  # noqa: F811
    client.force_login(rw.officer.user)
    assert client.post(url(rw), {**FIELDS, "signatory_name": "Someone"}).status_code in (403, 404)
    with school_scope(rw.school):
        assert Letterhead.objects.get(school=rw.school).signatory_name == "Mr Owain Price"
