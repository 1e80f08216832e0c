"""How long letters are kept (security GDPR-04; the rule runs from the register's nightly job,
``registers.retention``, which finds it in ``schools.retention``).

A letter's snapshot (every fact it printed: names, address, attendance figures) and its PDF,
and a batch's merged PDF and zip of letters, go ``RETENTION_NOTICES_EXTRA_YEARS`` (3) after the
end of the academic year the letter was made in: letters are the warnings and notices a
penalty notice decision within three years may rely on (see ``interventions.retention``). The
files are deleted from storage (the local disk or the bucket), not only unlinked. The rows stay
(status, template version, when, the PDF's SHA-256) so the pupil's record still says a letter
was sent; each run leaves a ``RetentionRecord`` naming no pupil.
"""

from __future__ import annotations

from letters.models import Letter, LetterBatch, LetterBatchChunk
from schools.retention import FreeTextRule

RULES = (
    FreeTextRule(
        model=Letter,
        date_field="created_at",
        erased={"snapshot": {}, "pdf": ""},
        years_setting="RETENTION_NOTICES_EXTRA_YEARS",
        what="letters (snapshot and PDF)",
    ),
    FreeTextRule(
        model=LetterBatch,
        date_field="created_at",
        erased={"merged_pdf": "", "letters_zip": ""},
        years_setting="RETENTION_NOTICES_EXTRA_YEARS",
        what="letter batch files",
    ),
    FreeTextRule(  # a part left by a batch that never finished (joined parts are deleted)
        model=LetterBatchChunk,
        date_field="batch__created_at",
        erased={"print_part": ""},
        years_setting="RETENTION_NOTICES_EXTRA_YEARS",
        what="parts of letter batch print files",
    ),
)
