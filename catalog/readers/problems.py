"""Problem collection shared by all readers: :class:`ProblemList` gathers the warnings (or errors)
of one file and caps each rule at ``MAX_PROBLEMS`` entries, :func:`unreadable` builds the
InputError for a file that cannot be read at all, and :func:`one_line` squeezes a library's
exception text (GDAL, pyproj, openpyxl) into one line for a user-facing message.
"""

from __future__ import annotations

from collections import Counter

from catalog.errors import InputError, Problem

MAX_PROBLEMS = 100  # per rule, in warnings and in errors; the rest is summarised


class ProblemList:
    """Problems of one rule beyond MAX_PROBLEMS are counted, not listed (a broken file with
    100,000 bad rows must not produce a 100,000-entry report)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[Problem] = []
        self.counts: Counter[str] = Counter()

    def add(self, where: str, rule: str, de: str, en: str) -> None:
        self.counts[rule] += 1
        if self.counts[rule] <= MAX_PROBLEMS:
            self.items.append(Problem(where, rule, de, en))

    def __bool__(self) -> bool:
        return bool(self.items)

    def problems(self) -> list[Problem]:
        extra = [
            Problem(
                self.where,
                rule,
                f"{self.where}: {count - MAX_PROBLEMS} weitere Meldungen der Art {rule!r}",
                f"{self.where}: {count - MAX_PROBLEMS} more of {rule!r}",
            )
            for rule, count in self.counts.items()
            if count > MAX_PROBLEMS
        ]
        return self.items + extra

    def to_dicts(self) -> list[dict[str, str]]:
        return [p.to_dict() for p in self.problems()]


def one_line(exc: BaseException, limit: int = 400) -> str:
    """An exception's text on one line, cut at ``limit`` characters (GDAL messages may span
    lines and repeat the path; one line is enough for a user)."""
    return " ".join(str(exc).split())[:limit]


def gdal_message(exc: BaseException) -> str:
    """:func:`one_line`, or the exception's type name when it has no text."""
    return one_line(exc) or type(exc).__name__


def unreadable(where: str, rule: str, de: str, en: str) -> InputError:
    """The error for a file that cannot be read; ``de``/``en`` get the ``where:`` prefix."""
    return InputError([Problem(where, rule, f"{where}: {de}", f"{where}: {en}")])
