"""A batch of termly reports through the product's path, against bare WeasyPrint.

    .venv/bin/python benchmarks/letters.py [--count 1000] [--processes 2] [--chunk-size 50]
    .venv/bin/python benchmarks/letters.py --count 100     # quick

It creates a scratch PostgreSQL database (``attendance_letters_bench``; DATABASE_URL overrides
it), migrates it, and builds one school whose pupils each have a parent with an address and
every mark of the autumn half-term (Sep 2 - Oct 18 2024, 68 sessions, a few absences).

Then, with the same number of worker processes each time:

1. **product, 100 letters** and **product, N letters**: ``letters.batches.letter_batch_create``
   of the termly report, and every chunk run by ``letters.batch_chunk`` in the workers (the
   task itself, called in a process pool rather than through a broker): lease, snapshot
   (engine figures and the marks), sandboxed template, WeasyPrint, storage (files under a
   temporary MEDIA_ROOT), heartbeat, and in the last worker the merged PDF and the zip;
2. **bare WeasyPrint, N letters**: ``HTML(string=…).write_pdf()`` with the same PDF options on
   the same N HTML documents (rebuilt from the product's letters), nothing else;
3. the same again, given one FontConfiguration per process as the product does (WeasyPrint
   makes a new one per document otherwise, and each leaks a little), so the ratio can be read
   both ways.

It prints both times, their ratio (target: at most 1.5x) and the workers' peak RSS for the
100 and the N batch (target: flat, memory does not grow with the batch). Each run has a fresh
pool of spawned workers (a new interpreter each, set up like a Celery worker, started before
the clock), so nothing the parent built is counted; peak RSS is the largest ``VmHWM`` of its
workers, and the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/attendance_letters_bench"


def _peak_rss_mb() -> float:
    """This worker's peak resident set (``VmHWM``), in MB. Not ``ru_maxrss``: Linux carries
    that across ``exec`` and a forked child starts from its parent's, so a worker forked from
    a parent that had just built 1,000 pupils would report the parent's memory as its own."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: kB


def _worker_setup() -> None:
    # A fresh interpreter per worker (spawn), set up like a Celery worker: Django, its apps,
    # nothing inherited from the parent that built the school.
    import django

    django.setup()


def _ready(_n: int) -> float:
    return _peak_rss_mb()


def _pool(processes: int) -> Any:
    pool = get_context("spawn").Pool(processes, initializer=_worker_setup)
    pool.map(_ready, range(processes), chunksize=1)  # started and set up before any timing
    return pool


def _product_chunk(job: tuple[int, int]) -> float:
    from letters.tasks import letter_batch_chunk_task

    school_id, chunk_id = job
    letter_batch_chunk_task(school_id=school_id, chunk_id=chunk_id)
    return _peak_rss_mb()


def _bare_render(html: str) -> float:
    """WeasyPrint as it comes: ``write_pdf`` makes a new FontConfiguration per document."""
    from weasyprint import HTML
    from weasyprint.urls import path2url

    from letters.rendering import PDF_OPTIONS, static_root

    HTML(string=html, base_url=path2url(static_root().resolve())).write_pdf(**PDF_OPTIONS)
    return _peak_rss_mb()


def _bare_render_shared_fonts(html: str) -> float:
    """Bare WeasyPrint given one FontConfiguration per process, as the product does."""
    from weasyprint import HTML
    from weasyprint.urls import path2url

    from letters.rendering import PDF_OPTIONS, font_configuration, static_root

    HTML(string=html, base_url=path2url(static_root().resolve())).write_pdf(
        font_config=font_configuration(), **PDF_OPTIONS
    )
    return _peak_rss_mb()


def _reset_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _build_school(count: int) -> Any:
    from django_scopes import scopes_disabled

    from tests import factories as f
    from tests.interventions.attendance_world import (
        add_marks,
        add_pupil,
        build_year_world,
        sessions,
    )

    rw = build_year_world(size=0)
    slots = sessions(rw.school, dt.date(2024, 9, 2), dt.date(2024, 10, 18))
    for n in range(count):
        pupil = add_pupil(rw, legal_forename=f"Pupil{n:04d}", legal_surname="Ŵyn-Jones")
        with scopes_disabled():
            f.ContactFactory(pupil=pupil, address=f"{n} High Street\nCardiff")
        absent = 2 + n % 7  # a few sessions missed each, different per pupil
        add_marks(rw.school, pupil, slots[:absent], "I")
        add_marks(rw.school, pupil, slots[absent:], "/")
        rw.pupils.append(pupil)
    return rw


def _run_product(
    rw: Any, template: Any, count: int, processes: int, chunk: int
) -> tuple[float, float, Any, int]:
    from letters import batches
    from letters.models import BatchStatus, LetterBatch, LetterBatchChunk
    from schools.scoping import school_scope

    school = rw.school
    sent: list[int] = []
    pool = _pool(processes)  # a fresh pool per run: its peak RSS is this run's
    real = batches._dispatch_in_scope
    batches._dispatch_in_scope = lambda **kwargs: None  # the pool below is the workers
    try:
        with school_scope(school):
            started = time.perf_counter()
            batch = batches.letter_batch_create(
                school=school,
                template=template,
                pupils=rw.pupils[:count],
                period_start=dt.date(2024, 9, 2),
                period_end=dt.date(2024, 10, 18),
                created_by=rw.officer,
                chunk_size=chunk,
            )
            sent = list(
                LetterBatchChunk.objects.filter(batch=batch)
                .order_by("number")
                .values_list("pk", flat=True)
            )
    finally:
        batches._dispatch_in_scope = real
    rss = pool.map(_product_chunk, [(school.pk, c) for c in sent], chunksize=1)
    elapsed = time.perf_counter() - started
    pool.close()
    pool.join()
    with school_scope(school):
        batch = LetterBatch.objects.get(pk=batch.pk)
        assert batch.status == BatchStatus.DONE, batch.status
        merged = batch.merged_pdf.size
    return elapsed, max(rss), batch, merged


def _htmls(batch: Any) -> list[str]:
    from letters.models import Letter
    from letters.rendering import letter_html
    from letters.services import snapshot_from_json
    from schools.scoping import school_scope

    with school_scope(batch.school):
        letters = (
            Letter.objects.filter(school=batch.school, batch_item__batch=batch)
            .select_related("template_version__template")
            .order_by("batch_item__position")
        )
        return [
            letter_html(
                body_source=letter.template_version.body,
                values=snapshot_from_json(letter.snapshot),
                title=letter.template_version.template.title,
                language=letter.language,
            )
            for letter in letters
        ]


def _run_bare(
    htmls: list[str], processes: int, chunk: int, render: Any = _bare_render
) -> tuple[float, float, int]:
    with _pool(processes) as pool:
        started = time.perf_counter()
        rss = pool.map(render, htmls, chunksize=chunk)
        elapsed = time.perf_counter() - started
    return elapsed, max(rss), len(htmls)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="letters (default 1000)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--chunk-size", type=int, default=50, help="letters per task (50)")
    args = parser.parse_args()

    media = tempfile.mkdtemp(prefix="letters-bench-")
    os.environ.update(
        {
            "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DB),
            "DJANGO_SETTINGS_MODULE": "attendance_app.settings.base",
            "DJANGO_MEDIA_ROOT": media,
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    _reset_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from letters import services
    from letters.models import LetterTemplate
    from schools.scoping import school_scope

    call_command("migrate", verbosity=0)
    print(f"building a school of {args.count} pupils ...", flush=True)
    rw = _build_school(args.count)
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
        template = LetterTemplate.objects.get(school=rw.school, key="termly_report", language="en")

    small = min(100, args.count)
    t_small, rss_small, _b, _m = _run_product(rw, template, small, args.processes, args.chunk_size)
    print(f"product, {small:>5} letters: {t_small:7.1f} s   worker peak RSS {rss_small:6.0f} MB")
    t_prod, rss_prod, batch, merged = _run_product(
        rw, template, args.count, args.processes, args.chunk_size
    )
    print(
        f"product, {args.count:>5} letters: {t_prod:7.1f} s   worker peak RSS {rss_prod:6.0f} MB"
        f"   merged PDF {merged / 1e6:.1f} MB"
    )
    htmls = _htmls(batch)
    t_bare, rss_bare, documents = _run_bare(htmls, args.processes, args.chunk_size)
    assert documents == args.count
    print(f"bare WeasyPrint, {args.count:>5}: {t_bare:7.1f} s   worker peak RSS {rss_bare:6.0f} MB")
    t_fonts, rss_fonts, _n = _run_bare(
        htmls, args.processes, args.chunk_size, _bare_render_shared_fonts
    )
    print(
        f"bare, one FontConfiguration per process, {args.count:>5}: {t_fonts:7.1f} s"
        f"   worker peak RSS {rss_fonts:6.0f} MB"
    )
    print(
        f"ratio product / bare: {t_prod / t_bare:.2f}x (target <= 1.5x), {args.processes} processes"
    )
    print(f"ratio product / bare with one FontConfiguration per process: {t_prod / t_fonts:.2f}x")
    print(
        f"per letter: product {t_prod / args.count * 1000:.0f} ms, bare {t_bare / args.count * 1000:.0f} ms"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
