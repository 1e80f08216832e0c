from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from PIL import Image


class TemplateBodyForm(forms.Form):
    body = forms.CharField(
        label=_("Letter text"),
        help_text=_("HTML with merge fields such as {{ pupil.first_name }}."),
        widget=forms.Textarea(attrs={"rows": 18, "class": "govuk-textarea"}),
    )


class GenerateForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Letter"), coerce=int, choices=())

    def __init__(self, *args: object, choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["template"].choices = choices  # type: ignore[attr-defined]


# Letterhead images: what the PDF embeds as a data: URL (letters.rendering caps any resource at
# 4 MB); a logo or a signature scan needs far less. PNG and JPEG only, checked by decoding the
# file with Pillow, not by trusting its name or the browser's content type.
LETTERHEAD_IMAGE_MAX_BYTES = 1024 * 1024
LETTERHEAD_IMAGE_MAX_PIXELS = 4000 * 4000  # well under Pillow's decompression-bomb limit
LETTERHEAD_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg"}


def letterhead_image_check(upload: Any) -> str:
    """The file extension for an uploaded letterhead image (``png``/``jpg``), or
    ``ValidationError`` if it is too big, not an image, or not PNG or JPEG."""
    if upload.size > LETTERHEAD_IMAGE_MAX_BYTES:
        raise forms.ValidationError(_("The image must be 1 MB or smaller."))
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format or ""
            width, height = image.size
            image.verify()  # a truncated or corrupt file fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise forms.ValidationError(_("The file is not a PNG or JPEG image.")) from exc
    finally:
        upload.seek(0)
    if image_format not in LETTERHEAD_IMAGE_FORMATS:
        raise forms.ValidationError(_("The file is not a PNG or JPEG image."))
    if width * height > LETTERHEAD_IMAGE_MAX_PIXELS:
        raise forms.ValidationError(_("The image is too large: at most 4000 by 4000 pixels."))
    return LETTERHEAD_IMAGE_FORMATS[image_format]


class LetterheadForm(forms.Form):
    address = forms.CharField(
        label=_("School address"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    phone = forms.CharField(label=_("Telephone"), required=False, max_length=40)
    email = forms.EmailField(label=_("Email address"), required=False)
    signatory_name = forms.CharField(
        label=_("Who signs the letters"), required=False, max_length=200
    )
    signatory_role = forms.CharField(label=_("Their role"), required=False, max_length=200)
    la_team = forms.CharField(
        label=_("Local authority attendance team"),
        required=False,
        max_length=200,
        help_text=_("Referrals to the local authority are addressed to this team."),
    )
    la_address = forms.CharField(
        label=_("Local authority address"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    logo = forms.FileField(
        label=_("Logo"), required=False, help_text=_("PNG or JPEG, 1 MB at most.")
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    signature = forms.FileField(
        label=_("Signature image"),
        required=False,
        help_text=_("A scan of the signature: PNG or JPEG, 1 MB at most."),
    )
    remove_signature = forms.BooleanField(label=_("Remove the signature image"), required=False)

    def clean_logo(self) -> Any:
        return self._image("logo")

    def clean_signature(self) -> Any:
        return self._image("signature")

    def _image(self, name: str) -> Any:
        upload = self.cleaned_data.get(name)
        if upload:
            upload.letterhead_extension = letterhead_image_check(upload)
        return upload


class FamilyLanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Letters to this family in"), choices=())

    def __init__(self, *args: object, choices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["language"].choices = choices  # type: ignore[attr-defined]
