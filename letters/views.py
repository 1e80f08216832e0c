from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from letters import selectors
from schools.permissions import Capability, require_capability
from schools.types import SchoolRequest


@require_GET
@require_capability(Capability.SEND_LETTERS)
def letter_pdf(request: SchoolRequest, letter_id: int) -> HttpResponse:
    # The only way to read a letter's PDF: tenancy and capability checked here, never a
    # public MEDIA_URL.
    letter = selectors.letter_get(school=request.school, letter_id=letter_id)
    if not letter.pdf:
        raise Http404("No PDF yet")
    response: HttpResponse = FileResponse(  # type: ignore[assignment]  # a streaming response
        letter.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"letter-{letter.pk}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
