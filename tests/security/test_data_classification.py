"""Every stored field has a data class (security GDPR-01)."""

from __future__ import annotations

from django.apps import apps

from schools.data_classification import FIELD_CLASSES, MODEL_CLASSES, DataClass, data_class

OUR_APPS = ("schools", "registers", "interventions", "letters")


def test_every_model_of_ours_is_classified_and_nothing_else_is():
    ours = {m._meta.label for m in apps.get_models() if m._meta.app_label in OUR_APPS}
    assert ours - set(MODEL_CLASSES) == set(), "classify these in schools/data_classification.py"
    assert set(MODEL_CLASSES) - ours == set(), "these models no longer exist"


def test_every_field_override_names_a_real_field():
    for key in FIELD_CLASSES:
        label, field = key.rsplit(".", 1)
        names = {f.name for f in apps.get_model(label)._meta.concrete_fields}
        assert field in names, key


def test_the_sensitive_pupil_flags_are_special_category():
    for field in ("sen_status", "child_protection_plan", "looked_after", "ethnicity"):
        assert data_class("schools.Pupil", field) == DataClass.SPECIAL
    assert data_class("schools.Pupil", "upn") == DataClass.PERSONAL
    assert data_class("registers.MarkChange", "reason") == DataClass.FREE_TEXT
    assert data_class("registers.AttendanceMark", "code") == DataClass.REGISTER
