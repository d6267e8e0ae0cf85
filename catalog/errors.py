"""Errors that name what is wrong and where, in German and English."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (file, line, record, field), which rule, and why."""

    where: str
    rule: str
    de: str
    en: str

    def __str__(self) -> str:
        return f"{self.where}: {self.de} / {self.en} [{self.rule}]"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class CatalogError(Exception):
    """Base class; ``status`` is the HTTP status an API answers with."""

    status = 400

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def one(cls, where: str, rule: str, de: str, en: str) -> CatalogError:
        """The error for a single problem."""
        return cls([Problem(where, rule, de, en)])

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.problems[0].en if self.problems else "",
            "problems": [p.to_dict() for p in self.problems],
        }


class InputError(CatalogError):
    """The input document cannot be read (syntax, size, forbidden XML constructs)."""


class InputTooLarge(InputError):
    status = 413


class ValidationError(CatalogError):
    """A record breaks a mandatory rule of DCAT-AP.de; nothing was stored."""

    status = 422


class NotFound(CatalogError):
    status = 404


def problem(where: str, rule: str, de: str, en: str) -> Problem:
    return Problem(where, rule, de, en)
