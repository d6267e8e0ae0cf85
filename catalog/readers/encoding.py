"""Byte-level character encoding detection for CSV files.

Department CSV files come as UTF-8 (often with the BOM Excel writes) or as Windows-1252
(Excel's "CSV (Trennzeichen-getrennt)" on German Windows). Statistical detectors (chardet,
charset-normalizer) guess wrong on short German files, so we decide from the bytes: UTF-8 is
self-validating, and a file that is *partly* valid UTF-8 has been assembled from pieces saved in
different encodings, which no single codec decodes correctly.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from catalog.errors import InputError, Problem

# A well-formed UTF-8 multibyte sequence (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]"
    rb"|\xE0[\xA0-\xBF][\x80-\xBF]"
    rb"|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}"
    rb"|\xED[\x80-\x9F][\x80-\xBF]"
    rb"|\xF0[\x90-\xBF][\x80-\xBF]{2}"
    rb"|[\xF1-\xF3][\x80-\xBF]{3}"
    rb"|\xF4[\x80-\x8F][\x80-\xBF]{2}"
)


@dataclass(frozen=True)
class Decoded:
    encoding: str  # codec name as reported: "utf-8", "utf-8-sig", "windows-1252", "utf-16"
    text: str


def line_of(data: bytes, offset: int) -> int:
    """1-based line number of the byte at ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def detect_encoding(data: bytes, where: str) -> Decoded:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252.

    Raises InputError when the file mixes UTF-8 with another encoding (naming the first line
    with bytes that are not UTF-8) or when the bytes are neither UTF-8 nor Windows-1252.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode-Text" export; the BOM is unambiguous.
        try:
            return Decoded("utf-16", data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise _undecodable(where, "UTF-16", line_of(data, exc.start)) from exc

    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        return Decoded("utf-8-sig" if bom else "utf-8", body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        first_bad = exc.start + (len(codecs.BOM_UTF8) if bom else 0)

    # A BOM or any valid multibyte sequence means somebody saved (part of) the file as UTF-8.
    if bom or _UTF8_MULTIBYTE.search(data):
        line = line_of(data, first_bad)
        raise InputError(
            [
                Problem(
                    f"{where}, line {line}",
                    "mixed-encodings",
                    f"{where}: Zeile {line} enthält Bytes, die kein gültiges UTF-8 sind, andere "
                    "Stellen der Datei sind aber UTF-8: die Datei mischt Zeichenkodierungen. "
                    "Bitte die Datei einheitlich als UTF-8 speichern.",
                    f"{where}: line {line} has bytes that are not valid UTF-8 while other parts "
                    "of the file are UTF-8: the file mixes encodings. Please save it as UTF-8.",
                )
            ]
        )
    try:
        return Decoded("windows-1252", data.decode("cp1252"))
    except UnicodeDecodeError as exc:
        # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in Windows-1252: not a text file we know.
        raise _undecodable(where, "UTF-8 / Windows-1252", line_of(data, exc.start)) from exc


def _undecodable(where: str, tried: str, line: int) -> InputError:
    return InputError(
        [
            Problem(
                f"{where}, line {line}",
                "encoding",
                f"{where}: Zeile {line} lässt sich nicht als {tried} lesen. "
                "Bitte die Datei als UTF-8 speichern.",
                f"{where}: line {line} cannot be decoded as {tried}. "
                "Please save the file as UTF-8.",
            )
        ]
    )
