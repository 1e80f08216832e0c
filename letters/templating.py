"""School-edited letter templates: untrusted text rendered in a Jinja2 sandbox.

A school writes the body of each letter as HTML with merge fields (``{{ pupil.first_name }}``).
That text is untrusted: it is rendered in a ``SandboxedEnvironment`` with autoescaping, no
globals, a short list of filters and tests, and, before anything runs, a walk over the parsed
template that allows only the merge fields documented in ``MERGE_FIELDS``. An unknown field,
a bad filter or a syntax error is reported with its line number (and the nearest real field),
even inside an ``{% if %}`` branch the example letter would not take, so the school sees a
clear error instead of a broken letter.

This module turns a template and a flat ``{"pupil.first_name": "Amy", …}`` mapping into an
HTML fragment. It reads no database and writes nothing: the letter snapshot (the values) is
built by the services, and ``letters.rendering`` turns the HTML into a PDF.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.filters import FILTERS
from jinja2.sandbox import SandboxedEnvironment
from jinja2.tests import TESTS

from interventions.rules import pct1, percentage

TEMPLATE_FILENAME = "<template>"  # what Jinja calls a from_string() template in tracebacks
LANGUAGES = ("en", "cy")


# --- The merge fields ----------------------------------------------------------------------


@dataclass(frozen=True)
class MergeField:
    """One documented merge field. ``is_list`` fields are loopable (``{% for … in … %}``);
    ``item_fields`` names what each item has (``None``: each item is plain text)."""

    name: str
    description: str
    example: object
    is_list: bool = False
    item_fields: Mapping[str, str] | None = None


_MARK_ITEM_FIELDS = {
    "date": "The date of the session",
    "session": '"AM" or "PM"',
    "code": "The attendance code, e.g. O",
    "meaning": "What the code means, in plain words",
}

_CALENDAR_ITEM_FIELDS = {
    "date": "The day (a date)",
    "label": 'The day written short, e.g. "2 September"',
    "am": "The morning's code, or empty when there was no session",
    "pm": "The afternoon's code, or empty when there was no session",
    "monday": "True on a Monday: start a new row of the calendar",
    "friday": "True on a Friday: end the row",
}

_FIELDS = (
    MergeField("pupil.first_name", "The pupil's first (preferred) name", "Amy"),
    MergeField("pupil.last_name", "The pupil's last name", "Jones"),
    MergeField("pupil.full_name", "First and last name", "Amy Jones"),
    MergeField("pupil.form", "The pupil's form or class", "9B"),
    MergeField("pupil.year", "The pupil's year group", "Year 9"),
    MergeField(
        "parents",
        'The names of the parents the letter is for; printed alone it reads "A and B"',
        ["Sarah Jones", "Dafydd Jones"],
        is_list=True,
    ),
    MergeField("addressee.name", "Who the letter is addressed to", "Sarah Jones and Dafydd Jones"),
    MergeField(
        "addressee.address",
        "The postal address, one item per line (printed in the envelope window for you)",
        ["12 Heol y Llan", "Aberystwyth", "SY23 1AA"],
        is_list=True,
    ),
    MergeField("school.name", "The school's name", "Ysgol Bro Derwen"),
    MergeField("school.address", "The school's address on one line", "Ffordd y Coleg, SY23 3AB"),
    MergeField("school.phone", "The school's telephone number", "01970 123456"),
    MergeField("school.email", "The school's email address", "swyddfa@bro-derwen.example.org"),
    MergeField("school.headteacher", "The headteacher's name", "Mrs Rhian Evans"),
    MergeField("signatory.name", "Who signs the letter", "Mr Owain Price"),
    MergeField("signatory.role", "The signatory's role", "Attendance Officer"),
    MergeField("period.start", "First day the figures cover (a date)", dt.date(2024, 9, 4)),
    MergeField("period.end", "Last day the figures cover (a date)", dt.date(2024, 10, 18)),
    MergeField("sessions.possible", "Sessions the pupil could have attended (a number)", 68),
    MergeField("sessions.missed", "Sessions missed, for any reason (a number)", 13),
    MergeField("sessions.unauthorised", "Sessions missed without authorisation (a number)", 10),
    MergeField("days.possible", 'School days in the period, e.g. "34 days"', "34 days"),
    MergeField("days.missed", 'Days missed: sessions ÷ 2, e.g. "6½ days"', "6½ days"),
    MergeField("days.unauthorised", 'Days missed without authorisation, e.g. "5 days"', "5 days"),
    MergeField("rates.attendance", 'Attendance, one decimal place, e.g. "80.9%"', "80.9%"),
    MergeField("rates.unauthorised", 'Unauthorised absence, e.g. "11.8%"', "11.8%"),
    MergeField("lates.count", "Times late in the period (a number)", 4),
    MergeField("lates.minutes", "Minutes late in all (a number)", 55),
    MergeField(
        "marks",
        "The absences the letter is about, one item per session (use in a loop)",
        [{"date": dt.date(2024, 10, 14), "session": "AM", "code": "O", "meaning": "Unauthorised"}],
        is_list=True,
        item_fields=_MARK_ITEM_FIELDS,
    ),
    MergeField(
        "calendar",
        "Every weekday of the weeks the period covers, Monday to Friday, with the morning's and "
        "afternoon's codes (use in a loop: a small calendar of the marks)",
        [
            {
                "date": dt.date(2024, 10, 14),
                "label": "14 October",
                "am": "/",
                "pm": "O",
                "monday": True,
                "friday": False,
            }
        ],
        is_list=True,
        item_fields=_CALENDAR_ITEM_FIELDS,
    ),
    MergeField("case.stage", "The stage of the attendance case", "Notice to Improve"),
    # The eight things a Notice to Improve is expected to contain (regulations.md §5.3).
    MergeField(
        "nti.attendance_record",
        "NTI 1: the pupil's attendance record and the offences",
        "Amy has missed 13 sessions since 4 September 2024, 10 of them unauthorised.",
    ),
    MergeField(
        "nti.benefits_and_duty",
        "NTI 2: why regular attendance matters, and the parent's duty (s7 Education Act 1996)",
        "Regular attendance helps Amy learn and keep her friendships; by law you must make "
        "sure she attends regularly.",
    ),
    MergeField(
        "nti.support_so_far",
        "NTI 3: the support provided so far",
        "A meeting with Mr Price on 1 October 2024 and a daily check-in with her tutor.",
    ),
    MergeField(
        "nti.further_support",
        "NTI 4: further support on offer, including support offered before and not taken up",
        "A referral to the school nurse, which we offered on 1 October 2024.",
    ),
    MergeField(
        "nti.warning",
        "NTI 5: the warning that a penalty notice or prosecution may follow",
        "If Amy's attendance does not improve, a penalty notice may be issued or a "
        "prosecution considered.",
    ),
    MergeField(
        "nti.period_start", "NTI 6: first day of the improvement period", dt.date(2024, 10, 21)
    ),
    MergeField(
        "nti.period_end", "NTI 6: last day of the improvement period", dt.date(2024, 11, 29)
    ),
    MergeField(
        "nti.improvement_expected",
        "NTI 7: what sufficient improvement looks like",
        "No unauthorised absence during the improvement period.",
    ),
    MergeField(
        "nti.grounds_before_end",
        "NTI 8: the grounds for a penalty notice before the period ends",
        "Any further holiday taken in term time.",
    ),
    MergeField("today", "The date of the letter", dt.date(2024, 10, 21)),
)

MERGE_FIELDS: Mapping[str, MergeField] = {merge_field.name: merge_field for merge_field in _FIELDS}
_GROUPS = frozenset(name.split(".")[0] for name in MERGE_FIELDS if "." in name)
# Inside {% for %}: what the loop helper offers (loop.index …); calls (loop.cycle()) are refused.
_LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem"}
)


def example_values() -> dict[str, object]:
    """Every merge field with its documented example: the preview letter and the tests."""
    return {name: merge_field.example for name, merge_field in MERGE_FIELDS.items()}


# --- Formatting the values ------------------------------------------------------------------

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst",
           "Medi", "Hydref", "Tachwedd", "Rhagfyr"),
}  # fmt: skip
_AND = {"en": "and", "cy": "a"}
_DAY_WORDS = {"en": ("day", "days"), "cy": ("diwrnod", "diwrnod")}  # Welsh: singular after numbers
NO_FIGURE = "\u2013"  # an en dash, as the attendance pages show "no figure"


def date_text(value: dt.date, language: str = "en") -> str:
    """A date as British letters write it: ``1 October 2024`` (``1 Hydref 2024`` in Welsh)."""
    if not isinstance(value, dt.date):
        raise TypeError(f"the date filter needs a date, not {value!r}")
    return f"{value.day} {_MONTHS[language][value.month - 1]} {value.year}"


def days_text(sessions: int, language: str = "en") -> str:
    """Sessions as school days in plain English: two sessions make a day, and a half day is
    written with the fraction sign, ``"6½ days"``, ``"½ day"``, ``"1 day"``, ``"0 days"``.
    (The house choice for letters: "6½" reads as a parent says it, where "6.5" reads as a
    statistic.)"""
    whole, half = divmod(sessions, 2)
    number = ("" if whole == 0 and half else str(whole)) + ("½" if half else "")
    singular, plural = _DAY_WORDS[language]
    return f"{number} {singular if sessions in (1, 2) else plural}"


def percent_text(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` to one decimal place, rounded as the attendance
    pages round (``interventions.rules.pct1``): ``"80.9%"``; an en dash if ``whole`` is 0."""
    rate = percentage(part, whole)
    return NO_FIGURE if rate is None else f"{pct1(rate)}%"


def and_list(values: Iterable[object], language: str = "en") -> str:
    """``["A", "B", "C"]`` → ``"A, B and C"`` (``"A, B a C"`` in Welsh)."""
    items = [str(value) for value in values]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND[language]} {items[-1]}"


# --- Problems -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateProblem:
    """Something wrong with a letter template, for the school to fix: where and what."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"Line {self.line}: {self.message}"


class TemplateProblemError(ValueError):
    """A template could not be rendered; ``problems`` says why, line by line."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


# --- The sandbox ----------------------------------------------------------------------------

_FILTER_NAMES = (
    "capitalize", "default", "first", "join", "last", "length", "lower", "title", "trim", "upper",
)  # fmt: skip
_TEST_NAMES = ("defined", "undefined", "none", "number", "string", "even", "odd")


class _Group:
    """A group of merge fields (``pupil``): attributes only, nothing else to reach."""

    def __init__(self, path: str, values: Mapping[str, object]) -> None:
        self._path = path
        for name, value in values.items():
            setattr(self, name, value)


class _MissingValue(StrictUndefined):
    """A field the template uses that this letter has no value for: fail, naming the field."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        owner = self._undefined_obj
        name = self._undefined_name
        if self._undefined_hint:  # the sandbox's "access to attribute … is unsafe"
            return super()._undefined_message
        if isinstance(owner, _Group):
            name = f"{owner._path}.{name}"
        elif not isinstance(name, str):
            return str(super()._undefined_message)
        return f'merge field "{name}" has no value for this letter'


def _finalize(language: str) -> Callable[[Any], Any]:
    def finalize(value: Any) -> Any:
        # What {{ field }} prints: dates as letters write them, lists as "A and B".
        if isinstance(value, dt.date):
            return date_text(value, language)
        if isinstance(value, list | tuple):
            if any(isinstance(item, _Group) for item in value):
                raise TypeError("a list of records (marks) prints item by item in a {% for %} loop")
            return and_list(value, language)
        return value

    return finalize


@functools.cache
def letter_environment(language: str = "en") -> SandboxedEnvironment:
    """The sandbox for one letter language: autoescaped HTML, strict about missing values, no
    globals, and only the filters and tests listed here (plus ``date`` and ``and_list``)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown letter language {language!r}")
    env = SandboxedEnvironment(
        autoescape=True,
        undefined=_MissingValue,
        finalize=_finalize(language),
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.clear()  # no range(), lipsum(), dict(), namespace(), cycler(), joiner()
    env.filters = {name: FILTERS[name] for name in _FILTER_NAMES}
    env.filters["date"] = lambda value, lang=language: date_text(value, lang)
    env.filters["and_list"] = lambda value, lang=language: and_list(value, lang)
    env.tests = {name: TESTS[name] for name in _TEST_NAMES}
    return env


# --- Checking a template --------------------------------------------------------------------

# Statements that would reach outside the template, define code, or turn autoescaping off.
_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %} is not available in letter templates",
    nodes.Include: "{% include %} is not available in letter templates",
    nodes.Import: "{% import %} is not available in letter templates",
    nodes.FromImport: "{% from … import %} is not available in letter templates",
    nodes.Block: "{% block %} is not available in letter templates",
    nodes.Macro: "{% macro %} is not available in letter templates",
    nodes.CallBlock: "{% call %} is not available in letter templates",
    nodes.EvalContextModifier: "{% autoescape %} is not available in letter templates",
    nodes.Call: "calling functions is not available in letter templates; use a filter instead",
    # 'x' * 10**9 would fill the memory of the worker: letters have no use for either.
    nodes.Mul: "multiplying is not available in letter templates",
    nodes.Pow: "powers are not available in letter templates",
}

# An address in the template text that the PDF would have to fetch. The fetcher refuses these
# too (letters.rendering); this catches them when the school saves, with the line. A link
# (<a href>) fetches nothing (it becomes a clickable link in the PDF), so links are allowed.
_LINK_TAG = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|data|poster|background|srcset)\s*=\s*["']?\s*
          |url\(\s*["']?\s*|@import\s+["']?\s*)
        (?!data:image/(?:png|jpeg|gif)[;,])
        (?P<url>[a-z][a-z0-9+.\-]*:[^\s"')>]*|//[^\s"')>]*)""",
    re.IGNORECASE | re.VERBOSE,
)

# WeasyPrint embeds <link rel=attachment> / <a rel=attachment> targets as files in the PDF.
_ATTACHMENT = re.compile(r"""<(?:link|a)\b[^>]*\brel\s*=\s*["']?\s*attachment""", re.IGNORECASE)

_Binding = tuple[str, MergeField | None]  # ("loop", None) | ("item", list field) | ("value", None)


def _suggest(name: str) -> str:
    """The nearest documented field: within the group first ("pupil.frist_name" →
    "pupil.first_name"), then among every field and group ("pupl.form" → "pupil.form")."""
    group, dot, attribute = name.partition(".")
    close: list[str] = []
    if dot and group in _GROUPS:
        in_group = [
            field.partition(".")[2] for field in MERGE_FIELDS if field.startswith(group + ".")
        ]
        close = [f"{group}.{hit}" for hit in difflib.get_close_matches(attribute, in_group, n=1)]
    if not close:
        close = difflib.get_close_matches(name, [*MERGE_FIELDS, *_GROUPS], n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


class _Checker:
    """Walks a parsed template: every name and attribute must be a documented merge field (or a
    loop variable over one), every filter and test one of ours; nothing else is allowed."""

    def __init__(self, env: SandboxedEnvironment) -> None:
        self.env = env
        self.problems: list[TemplateProblem] = []

    def report(self, node: nodes.Node, message: str) -> None:
        self.problems.append(TemplateProblem(getattr(node, "lineno", None), message))

    def visit(self, node: nodes.Node, scope: dict[str, _Binding]) -> None:
        for refused, message in _REFUSED_NODES.items():
            if isinstance(node, refused):
                self.report(node, message)
                return
        if isinstance(node, nodes.For):
            self.visit_for(node, scope)
        elif isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values, strict=True):
                self.visit(value, scope)
                self.bind(target, ("value", None), inner)
            self.visit_all(node.body, inner)
        elif isinstance(node, nodes.Assign | nodes.AssignBlock):
            if isinstance(node, nodes.Assign):
                self.visit(node.node, scope)
            else:
                self.visit_all(node.body, scope)
            self.bind(node.target, ("value", None), scope)  # visible to what follows
        elif isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            self.visit_reference(node, scope)
        elif isinstance(node, nodes.Filter | nodes.Test):  # {% filter %} holds a Filter too
            known = self.env.tests if isinstance(node, nodes.Test) else self.env.filters
            if node.name not in known:
                kind = "test" if isinstance(node, nodes.Test) else "filter"
                self.report(
                    node, f'unknown {kind} "{node.name}". Available: {", ".join(sorted(known))}'
                )
            self.visit_all(node.iter_child_nodes(), scope)
        else:
            self.visit_all(node.iter_child_nodes(), scope)

    def visit_all(self, children: Iterable[nodes.Node], scope: dict[str, _Binding]) -> None:
        for child in children:
            self.visit(child, scope)

    def visit_for(self, node: nodes.For, scope: dict[str, _Binding]) -> None:
        self.visit(node.iter, scope)
        inner = dict(scope)
        inner["loop"] = ("loop", None)
        iterated = self.list_field(node.iter, scope)
        self.bind(node.target, ("item", iterated) if iterated else ("value", None), inner)
        if node.test is not None:
            self.visit(node.test, inner)
        self.visit_all(node.body, inner)
        self.visit_all(node.else_, scope)

    def bind(self, target: nodes.Node, binding: _Binding, scope: dict[str, _Binding]) -> None:
        names = [target] if isinstance(target, nodes.Name) else target.find_all(nodes.Name)
        for name in names:
            scope[name.name] = binding

    def list_field(self, node: nodes.Node, scope: dict[str, _Binding]) -> MergeField | None:
        chain = self.chain(node)
        if chain is None or chain[0] in scope:
            return None
        merge_field = MERGE_FIELDS.get(".".join([chain[0], *map(str, chain[1])]))
        return merge_field if merge_field is not None and merge_field.is_list else None

    @staticmethod
    def chain(node: nodes.Node) -> tuple[str, list[str | int]] | None:
        """``pupil.first_name`` → ("pupil", ["first_name"]); None if it does not start at a
        name or uses a computed index."""
        steps: list[str | int] = []
        while True:
            if isinstance(node, nodes.Getattr):
                steps.insert(0, node.attr)
                node = node.node
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
                if not isinstance(node.arg.value, str | int) or isinstance(node.arg.value, bool):
                    return None
                steps.insert(0, node.arg.value)
                node = node.node
            elif isinstance(node, nodes.Name):
                return node.name, steps
            else:
                return None

    def visit_reference(self, node: nodes.Node, scope: dict[str, _Binding]) -> None:
        chain = self.chain(node)
        if chain is None:
            shown = node.attr if isinstance(node, nodes.Getattr) else "[…]"
            self.report(node, f'"{shown}" is not a merge field; only merge fields can be used')
            return
        root, steps = chain
        dotted = ".".join([root, *(str(step) for step in steps)])
        private = [step for step in [root, *steps] if isinstance(step, str) and step[:1] == "_"]
        if private:
            self.report(node, f'"{dotted}" is not a merge field (names starting "_" are private)')
        elif root in scope:
            self.check_local(node, dotted, scope[root], steps)
        else:
            self.check_field(node, root, steps)

    def check_local(
        self, node: nodes.Node, dotted: str, binding: _Binding, steps: list[str | int]
    ) -> None:
        kind, iterated = binding
        if not steps:
            return
        if kind == "loop" and len(steps) == 1 and steps[0] in _LOOP_ATTRIBUTES:
            return
        if kind == "item" and iterated is not None and iterated.item_fields:
            if len(steps) == 1 and steps[0] in iterated.item_fields:
                return
            names = ", ".join(iterated.item_fields)
            self.report(node, f'"{dotted}" is not a merge field. Each item has: {names}')
            return
        self.report(node, f'"{dotted}" is not a merge field')

    def check_field(self, node: nodes.Node, root: str, steps: list[str | int]) -> None:
        name, rest = root, list(steps)
        if root in _GROUPS:
            if not rest or not isinstance(rest[0], str):
                members = ", ".join(field for field in MERGE_FIELDS if field.startswith(f"{root}."))
                self.report(node, f'"{root}" is a group of merge fields; use one of: {members}')
                return
            name = f"{root}.{rest.pop(0)}"
        merge_field = MERGE_FIELDS.get(name)
        if merge_field is None:
            self.report(node, f'unknown merge field "{name}".{_suggest(name)}')
            return
        if not rest:
            return
        dotted = ".".join([name, *(str(step) for step in rest)])
        if merge_field.is_list and isinstance(rest[0], int):
            item_rest = rest[1:]
            item_fields = merge_field.item_fields or {}
            if not item_rest or (len(item_rest) == 1 and item_rest[0] in item_fields):
                return
        self.report(node, f'"{dotted}" is not a merge field; "{name}" has no parts')


_BLOCK_TAGS = frozenset({"if", "for", "with", "filter", "macro", "call", "block", "autoescape"})


def _innermost_unclosed_block(env: SandboxedEnvironment, source: str) -> tuple[int, str] | None:
    """The line and tag of the innermost ``{% if %}``/``{% for %}``… left open, from the tokens
    (the parser has given up by then)."""
    stack: list[tuple[int, str]] = []
    tag: tuple[int, str] | None = None
    try:
        for line, kind, value in env.lex(source):
            if kind == "block_begin":
                tag = None
                continue
            if tag is None and kind == "name" and isinstance(value, str):
                tag = (line, value)
                if value in _BLOCK_TAGS:
                    stack.append(tag)
                elif value.startswith("end") and stack and stack[-1][1] == value[3:]:
                    stack.pop()
    except TemplateSyntaxError:
        return None
    return stack[-1] if stack else None


def template_check(source: str, *, language: str = "en") -> list[TemplateProblem]:
    """Every problem in a letter template, in line order, without rendering it: a syntax error
    (then nothing else can be checked), unknown merge fields with the nearest real one, unknown
    filters, refused statements, and addresses the PDF would have to fetch. Empty if fine."""
    env = letter_environment(language)
    try:
        parsed = env.parse(source, filename=TEMPLATE_FILENAME)
    except TemplateSyntaxError as exc:
        line, message = exc.lineno, exc.message or "not a valid template"
        opened = _innermost_unclosed_block(env, source) if "end of template" in message else None
        if opened is not None:  # Jinja points at the last line; the school needs the opening
            line, tag = opened
            message = f"the {{% {tag} %}} on line {line} is never closed (add {{% end{tag} %}})"
        return [TemplateProblem(line, f"syntax error: {message}")]
    checker = _Checker(env)
    checker.visit(parsed, {})
    problems = checker.problems
    for number, text in enumerate(source.splitlines(), start=1):
        for match in _EXTERNAL_REFERENCE.finditer(_LINK_TAG.sub("", text)):
            problems.append(
                TemplateProblem(
                    number,
                    f'"{match["url"]}" is outside the letter: nothing is fetched from the '
                    "internet or the server's files; the logo and signature are added for you",
                )
            )
        if _ATTACHMENT.search(text):
            problems.append(
                TemplateProblem(number, "files cannot be attached to a letter (rel=attachment)")
            )
    return sorted(problems, key=lambda problem: (problem.line or 0, problem.message))


# --- Rendering ------------------------------------------------------------------------------


def _nest(values: Mapping[str, object]) -> dict[str, object]:
    """``{"pupil.first_name": "Amy"}`` → ``{"pupil": _Group(first_name="Amy")}``."""
    unknown = sorted(set(values) - set(MERGE_FIELDS))
    if unknown:
        raise ValueError(f"not merge fields: {', '.join(unknown)}")
    grouped: dict[str, dict[str, object]] = {}
    context: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):  # list items (marks) are read as attributes too
            value = _Group(name, value)
        elif isinstance(value, list | tuple):
            value = [_Group(name, item) if isinstance(item, Mapping) else item for item in value]
        group, dot, attribute = name.partition(".")
        if dot:
            grouped.setdefault(group, {})[attribute] = value
        else:
            context[name] = value
    context.update({group: _Group(group, members) for group, members in grouped.items()})
    return context


def _template_line(exc: BaseException) -> int | None:
    # Jinja rewrites tracebacks so the template's frames carry the template's line numbers.
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == TEMPLATE_FILENAME
    ]
    return lines[-1] if lines else None


@functools.lru_cache(maxsize=64)
def _compiled(source: str, language: str) -> Template | tuple[TemplateProblem, ...]:
    # Checked and compiled once per text and language, not once per letter: a batch renders
    # one template version many times, and parsing, walking and compiling it cost about as
    # much as a small PDF. Keyed by the text itself, so an edited template is a new entry.
    problems = template_check(source, language=language)
    if problems:
        return tuple(problems)
    return letter_environment(language).from_string(source)


def template_render(source: str, values: Mapping[str, object], *, language: str = "en") -> str:
    """Render a school's letter template with a letter's merge values (a flat mapping from
    ``MERGE_FIELDS`` names to values: dates as ``date``, counts as ``int``, lists as lists).

    Returns autoescaped HTML: a value holding ``<script>`` prints as text. Raises
    ``TemplateProblemError`` if ``template_check`` finds problems, or if rendering fails (a
    field the template uses has no value for this letter, a filter given the wrong kind of
    value), naming the line. Raises ``ValueError`` for a value that is not a merge field.
    """
    compiled = _compiled(source, language)
    if isinstance(compiled, tuple):
        raise TemplateProblemError(list(compiled))
    context = _nest(values)
    try:
        return compiled.render(context)
    except (TemplateError, TypeError, ValueError, KeyError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise TemplateProblemError([TemplateProblem(_template_line(exc), message)]) from exc
