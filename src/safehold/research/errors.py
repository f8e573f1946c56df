"""The one error a study raises for bad input: it names the input and the fix."""

from __future__ import annotations


class StudyError(ValueError):
    """The study cannot start or go on; nothing has been written."""
