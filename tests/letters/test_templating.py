"""The letter-template sandbox: only documented merge fields, problems named by line, values
escaped. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from letters.templating import (
    MERGE_FIELDS,
    TemplateProblem,
    TemplateProblemError,
    and_list,
    date_text,
    days_text,
    example_values,
    percent_text,
    template_check,
    template_render,
)

REQUIRED_FIELDS = {
    "pupil.first_name", "pupil.last_name", "pupil.full_name", "pupil.form", "pupil.year",
    "parents", "addressee.name", "addressee.address", "school.name", "school.address",
    "school.headteacher", "signatory.name", "signatory.role", "period.start", "period.end",
    "sessions.possible", "sessions.missed", "days.missed", "rates.attendance",
    "rates.unauthorised", "lates.count", "lates.minutes", "case.stage", "today",
    # the eight contents of a Notice to Improve (regulations.md §5.3)
    "nti.attendance_record", "nti.benefits_and_duty", "nti.support_so_far",
    "nti.further_support", "nti.warning", "nti.period_start", "nti.period_end",
    "nti.improvement_expected", "nti.grounds_before_end",
}  # fmt: skip


def messages(source: str) -> list[str]:
    return [str(problem) for problem in template_check(source)]


def test_the_registry_documents_every_field_the_letters_need():
    assert set(MERGE_FIELDS) >= REQUIRED_FIELDS
    assert all(field.description for field in MERGE_FIELDS.values())


def test_every_documented_field_passes_the_check_and_renders_its_example():
    source = "\n".join(
        f"{{% for item in {name} %}}{{{{ item }}}}{{% endfor %}}"
        if field.is_list and not field.item_fields
        else f"{{% for item in {name} %}}{{{{ item.date }}}}{{% endfor %}}"
        if field.is_list
        else f"{{{{ {name} }}}}"
        for name, field in MERGE_FIELDS.items()
    )

    assert template_check(source) == []
    assert "Notice to Improve" in template_render(source, example_values())


@pytest.mark.parametrize(
    "source",
    [
        "{{ pupil.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ pupil._path }}",
        "{{ pupil.first_name.__class__.__base__.__subclasses__() }}",
        "{{ range(10) }}",
        "{{ lipsum() }}",
        "{{ pupil.first_name.upper() }}",
        "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
        "{% include 'x.html' %}",
        "{% extends 'x.html' %}",
        "{% import 'x.html' as x %}",
        "{% macro x() %}{% endmacro %}",
        "{% autoescape false %}{{ pupil.first_name }}{% endautoescape %}",
        "{{ 'a' * 1000000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ pupil.first_name|safe }}",
        "{{ pupil.first_name|attr('__class__') }}",
        "{{ pupil.first_name|format('%s') }}",
    ],
)
def test_the_sandbox_refuses_anything_but_merge_fields(source):
    problems = template_check(source)

    assert problems
    assert all(problem.line == 1 for problem in problems)
    with pytest.raises(TemplateProblemError):
        template_render(source, example_values())


def test_private_attributes_are_refused_even_past_the_check():
    # Defence in depth: the Jinja sandbox itself, under our checker, still refuses.
    from jinja2.exceptions import SecurityError

    from letters.templating import letter_environment

    env = letter_environment("en")
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="")


def test_an_unknown_field_is_named_with_its_line_and_the_nearest_real_field():
    source = "<p>Dear {{ addressee.name }},</p>\n\n<p>About {{ pupil.first_name }}</p>\n{{ pupil.surnam }}\n"

    assert template_check(source) == [
        TemplateProblem(4, 'unknown merge field "pupil.surnam". Did you mean "pupil.last_name"?')
    ]
    assert messages("{{ pupil.frist_name }}") == [
        'Line 1: unknown merge field "pupil.frist_name". Did you mean "pupil.first_name"?'
    ]
    assert messages("\n{{ sesions.missed }}") == [
        'Line 2: unknown merge field "sesions". Did you mean "sessions"?'
    ]


def test_unknown_fields_are_caught_in_branches_the_example_would_not_take():
    source = "{% if false %}\n  {% if sessions.missed > 10 %}\n    {{ case.stag }}\n  {% endif %}\n{% endif %}"

    assert messages(source) == [
        'Line 3: unknown merge field "case.stag". Did you mean "case.stage"?'
    ]


def test_an_unclosed_block_is_named_where_it_opens():
    assert messages("<p>Hello</p>\n{% for m in marks %}\n{% if m.code %}{% endif %}\n\n\nend") == [
        "Line 2: syntax error: the {% for %} on line 2 is never closed (add {% endfor %})"
    ]


def test_a_group_alone_is_not_a_field():
    assert messages("{{ pupil }}")[0].startswith('Line 1: "pupil" is a group of merge fields')


def test_loops_over_list_fields_know_what_each_item_has():
    source = (
        "{% for mark in marks %}{{ loop.index }}. {{ mark.date|date }} {{ mark.session }}"
        " {{ mark.code }}{% endfor %}\n{% for mark in marks %}{{ mark.cdoe }}{% endfor %}"
    )

    assert messages(source) == [
        'Line 2: "mark.cdoe" is not a merge field. Each item has: date, session, code, meaning'
    ]
    good = source.splitlines()[0]
    assert template_render(good, example_values()) == "1. 14 October 2024 AM O"


def test_a_list_of_records_prints_only_in_a_loop():
    with pytest.raises(TemplateProblemError, match=r"Line 2: .*in a \{% for %\} loop"):
        template_render("<p>\n{{ marks }}</p>", example_values())


def test_unknown_filters_are_named():
    assert messages("\n{{ today|strftime('%d') }}")[0].startswith(
        'Line 2: unknown filter "strftime". Available: and_list, capitalize, date'
    )


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("<p>{{ pupil.first_name }</p>", 1),
        ("<p>Dear {{ addressee.name }},</p>\n{% if sessions.missed > 10 %}\n<p>Oh dear</p>\n", 2),
        ("{% for m in marks %}\n{% if m.code %}\n{{ m.code }}\n{% endif %}\n\n\n{{ m.date }}\n", 1),
        ("one\ntwo\n{% for x in %}{% endfor %}", 3),
        ("one\n{% endif %}", 2),
    ],
)
def test_syntax_errors_name_their_line(source, line):
    (problem,) = template_check(source)

    assert problem.line == line
    assert problem.message.startswith("syntax error: ")
    with pytest.raises(TemplateProblemError) as raised:
        template_render(source, example_values())
    assert raised.value.problems == [problem]


def test_addresses_the_pdf_would_fetch_are_reported_when_the_school_saves():
    source = (
        "<p>Hello</p>\n"
        '<img src="https://example.org/x.png">\n'
        "<style>@import url(http://example.org/a.css);</style>\n"
        '<link rel="attachment" href="file:///etc/passwd">\n'
        '<img src="data:image/png;base64,iVBORw0KGgo=">\n'
        '<p>See <a href="https://www.gov.uk/school-attendance-absence">GOV.UK</a></p>\n'
    )

    problems = [(problem.line, problem.message) for problem in template_check(source)]

    assert [(line, message.split(" is outside")[0]) for line, message in problems] == [
        (2, '"https://example.org/x.png"'),
        (3, '"http://example.org/a.css"'),
        (4, '"file:///etc/passwd"'),
        (4, "files cannot be attached to a letter (rel=attachment)"),
    ]


def test_merge_values_are_escaped():
    values = example_values() | {"pupil.full_name": "<script>alert(1)</script> & <b>Amy</b>"}

    html = template_render("<p>{{ pupil.full_name }}</p>", values)

    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;Amy&lt;/b&gt;</p>"


def test_a_field_this_letter_has_no_value_for_is_named_with_its_line():
    values = example_values()
    del values["nti.period_end"]

    with pytest.raises(TemplateProblemError) as raised:
        template_render(
            "<p>From {{ nti.period_start }}</p>\n<p>to {{ nti.period_end }}</p>", values
        )

    assert raised.value.problems == [
        TemplateProblem(2, 'merge field "nti.period_end" has no value for this letter')
    ]


def test_values_that_are_not_merge_fields_are_a_programming_error():
    with pytest.raises(ValueError, match=r"not merge fields: pupil\.password"):
        template_render("x", {"pupil.password": "x"})


def test_dates_lists_and_days_read_as_british_letters_write_them():
    values = example_values() | {"sessions.missed": 13, "days.missed": days_text(13)}
    source = (
        "{{ parents }} | {{ period.start }} | {{ today|date }} | {{ days.missed }} | "
        "{{ sessions.missed }}"
    )

    assert template_render(source, values) == (
        "Sarah Jones and Dafydd Jones | 4 September 2024 | 21 October 2024 | 6½ days | 13"
    )
    assert template_render(source, values, language="cy") == (
        "Sarah Jones a Dafydd Jones | 4 Medi 2024 | 21 Hydref 2024 | 6½ days | 13"
    )


def test_formatting_helpers():
    assert [days_text(sessions) for sessions in range(6)] == [
        "0 days", "½ day", "1 day", "1½ days", "2 days", "2½ days",
    ]  # fmt: skip
    assert days_text(13, "cy") == "6½ diwrnod"
    assert percent_text(55, 68) == "80.9%"
    assert percent_text(1, 8) == "12.5%"
    assert percent_text(0, 0) == "\u2013"
    assert date_text(dt.date(2025, 1, 1)) == "1 January 2025"
    assert and_list(["A", "B", "C"]) == "A, B and C"
    assert and_list(["A"]) == "A"
