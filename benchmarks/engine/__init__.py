"""The attendance engine at local-authority scale: ``run.py`` generates and measures."""

from __future__ import annotations
