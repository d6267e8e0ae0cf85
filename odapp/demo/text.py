"""Text helpers for the descriptions: German and English dates and numbers, percentages,
numbered area names and the note on files without a stated licence."""

from __future__ import annotations

from datetime import date

GERMAN_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_de(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day}. {GERMAN_MONTHS[d.month - 1]} {d.year}"


def date_en(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day} {ENGLISH_MONTHS[d.month - 1]} {d.year}"


def num_de(n: float, decimals: int = 0) -> str:
    """German number format (1.234,5)."""
    text = f"{n:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def num_en(n: float, decimals: int = 0) -> str:
    return f"{n:,.{decimals}f}"


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f}" if whole else ""


def split_code(text: str) -> tuple[str, str]:
    """'11 Äußere Neustadt (Antonstadt)' -> ('11', 'Äußere Neustadt (Antonstadt)')."""
    code, _, name = text.partition(" ")
    return (code, name) if code.isdigit() else ("", text)


def split_district(text: str) -> tuple[str, str]:
    """'StB 1 Neustadt' -> ('1', 'Neustadt')."""
    return split_code(text.removeprefix("StB "))


NOT_STATED_DE = (
    "Lizenz: Für die Originaldaten ist keine Lizenz angegeben; die Datei steht hier nur zur "
    "Demonstration. Vor einer Weiterverwendung die Nutzungsbedingungen {who} prüfen."
)
NOT_STATED_EN = (
    "Licence: no licence is stated for the original data; the file is here for demonstration "
    "only. Check the terms of {who} before any reuse."
)


def not_stated_note(who_de: str, who_en: str) -> tuple[str, str]:
    """The licence note (German, English) for the data of ``who`` (genitive / plain)."""
    return NOT_STATED_DE.format(who=who_de), NOT_STATED_EN.format(who=who_en)
