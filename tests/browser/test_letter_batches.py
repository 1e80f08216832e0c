"""A batch of letters in a browser (issue 11 part 5): a school administrator opens Letters →
New batch of letters, picks the termly report and a form, sees the count, starts the batch,
and watches the progress bar (htmx polling, no inline script: the CSP is strict) reach done
while the worker runs its chunk, then finds the merged PDF and the zip. axe-core checks every
page (browser_page)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from letters import batches
from letters.models import LetterBatchChunk
from schools.models import Role
from schools.scoping import school_scope
from tests import factories as f
from tests.browser.test_accessibility import DESKTOP, PASSWORD
from tests.browser.test_staff_pages import sign_in
from tests.registers.conftest import build_register_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [DESKTOP], indirect=True, ids=["1366"])
def test_an_administrator_starts_a_batch_and_sees_the_progress_reach_done(
    live_server, browser_page, monkeypatch
):
    rw = build_register_world(size=3)
    with scopes_disabled():
        admin = f.StaffMembershipFactory(school=rw.school, role=Role.SCHOOL_ADMIN)
        admin.user.set_password(PASSWORD)
        admin.user.save()
        for pupil in rw.pupils_in_order():
            f.ContactFactory(pupil=pupil, address="1 High Street")
    # No broker here: the chunk tasks are held back, and the test plays the worker below.
    monkeypatch.setattr(batches, "_dispatch_in_scope", lambda **kwargs: None)
    base = live_server.url
    page = browser_page

    sign_in(page, base, admin.user)
    page.goto(base + reverse("letters:templates", kwargs={"school_slug": rw.school.slug}))
    page.get_by_role("link", name="New batch of letters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New batch of letters")
    page.get_by_label("Letter", exact=True).select_option(label="Attendance report (English)")
    page.get_by_label("A form").check()
    page.get_by_label("Form", exact=True).select_option(label=rw.form.name)
    expect(page.get_by_text("3 pupils will get this letter.")).to_be_visible()  # htmx
    page.get_by_role("button", name="Start the batch").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Batch of letters")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("value", "0")
    expect(page.get_by_text("0 of 3 letters done")).to_be_visible()
    assert page.locator("[style]").count() == 0

    # Polling leaves the keyboard focus where it is: a poll with no news swaps nothing, and
    # one with news swaps only the inside of the live region, never the focused button.
    cancel = page.get_by_role("button", name="Cancel the batch")
    cancel.focus()
    expect(cancel).to_be_focused()
    region = page.locator("#batch-progress")
    expect(region).to_have_attribute("aria-live", "polite")
    for _poll in range(2):
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as r:
            pass
        assert r.value.status == 204  # nothing changed: nothing swapped
    expect(cancel).to_be_focused()

    with school_scope(rw.school):  # the worker makes the first letter, then stops
        chunk = LetterBatchChunk.objects.get(school=rw.school)
        attempt = batches._lease(school=rw.school, chunk_id=chunk.pk)
        assert attempt is not None
        first = chunk.items.order_by("position").first()
        assert batches._run_item(school=rw.school, batch=chunk.batch, item_id=first.pk)
    expect(region).to_contain_text("1 of 3 letters done", timeout=20_000)  # polled
    expect(cancel).to_be_focused()

    with school_scope(rw.school):  # its lease runs out; the chunk is worked to the end
        LetterBatchChunk.objects.filter(pk=chunk.pk, attempts=attempt).update(leased_until=None)
        batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunk.pk)

    expect(page.get_by_text("3 of 3 letters done")).to_be_visible(timeout=20_000)  # polled
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "3")
    expect(page.get_by_text("The batch has finished.")).to_be_visible()
    expect(page.get_by_role("link", name="Download every letter as one PDF")).to_be_visible()
    expect(page.get_by_role("link", name="separate PDFs (zip)")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the batch")).to_have_count(0)
