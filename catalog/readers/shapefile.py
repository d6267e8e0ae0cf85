"""Shapefiles, zipped or as a bare .shp: integrity checks before GDAL reads them (a valid zip,
a .shx and .dbf next to every .shp, a .shp header whose stated length matches the file, index
records that stay inside it), because GDAL reads a truncated Shapefile without complaint and
hands back features without geometry. A zip with several Shapefiles gives one layer each.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path, PurePosixPath

from catalog.errors import InputError
from catalog.readers import SourceData
from catalog.readers.gdal import read_layer, vsizip
from catalog.readers.problems import ProblemList, unreadable


def read_shapefile(path: Path, where: str) -> list[SourceData]:
    if path.suffix.lower() == ".shp":
        _check_shapefile_parts(path, where)
        return [read_layer(str(path), None, path.stem, "shapefile", where)]
    shps = _shapefiles_in_zip(path, where)
    out = []
    for shp in shps:
        gdal_path = vsizip(path, shp)
        inner_where = where if len(shps) == 1 else f"{where}/{shp}"
        out.append(read_layer(gdal_path, None, PurePosixPath(shp).stem, "shapefile", inner_where))
    return out


def _shapefiles_in_zip(path: Path, where: str) -> list[str]:
    """Paths of the .shp files inside a zip, after checking their companions are there."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise unreadable(
            where,
            "zip",
            "kein gültiges Zip-Archiv; ein Shapefile wird als Zip mit .shp, .shx, .dbf und "
            ".prj erwartet",
            "not a valid zip archive; a Shapefile is expected as a zip holding .shp, .shx, "
            ".dbf and .prj",
        ) from exc
    if broken is not None:
        raise unreadable(
            where,
            "zip",
            f"Zip-Archiv beschädigt ({broken})",
            f"zip archive is damaged ({broken})",
        )
    lower = {n.lower(): n for n in names}
    shps = sorted(n for n in names if n.lower().endswith(".shp"))
    if not shps:
        listed = ", ".join(names[:10]) or "-"
        raise unreadable(
            where,
            "shapefile",
            f"das Zip-Archiv enthält keine .shp-Datei (Inhalt: {listed})",
            f"the zip archive contains no .shp file (contents: {listed})",
        )
    problems = ProblemList(where)
    for shp in shps:
        stem = shp[:-4]
        missing = [ext for ext in (".shx", ".dbf") if (stem + ext).lower() not in lower]
        if missing:
            problems.add(
                f"{where}, {shp}",
                "shapefile",
                f"{where}: zu {shp} fehlt {' und '.join(missing)} im Zip-Archiv",
                f"{where}: {shp} lacks {' and '.join(missing)} in the zip archive",
            )
    if problems:
        raise InputError(problems.problems())
    with zipfile.ZipFile(path) as archive:
        for shp in shps:
            shx = lower[(shp[:-4] + ".shx").lower()]
            with archive.open(shp) as handle:
                head = handle.read(100)
            inner = where if len(shps) == 1 else f"{where}/{shp}"
            _check_shp_structure(head, archive.getinfo(shp).file_size, archive.read(shx), inner)
    return shps


def _check_shapefile_parts(shp: Path, where: str) -> None:
    parts = {ext: shp.with_suffix(ext) for ext in (".shx", ".dbf")}
    parts = {ext: p if p.exists() else p.with_suffix(ext.upper()) for ext, p in parts.items()}
    missing = [ext for ext, p in parts.items() if not p.exists()]
    if missing:
        raise unreadable(
            where,
            "shapefile",
            f"neben der .shp-Datei fehlt {' und '.join(missing)}",
            f"{' and '.join(missing)} missing next to the .shp file",
        )
    with shp.open("rb") as handle:
        head = handle.read(100)
    _check_shp_structure(head, shp.stat().st_size, parts[".shx"].read_bytes(), where)


def _check_shp_structure(head: bytes, size: int, shx: bytes, where: str) -> None:
    """Catch truncated or damaged .shp/.shx files, which GDAL reads without complaint (a cut-off
    record just comes back without geometry): the header states the file length, the index
    states where every record lies."""
    problem = None
    if len(head) < 4 or struct.unpack(">i", head[:4])[0] != 9994:
        problem = ("die .shp-Datei hat keinen gültigen Kopf", "the .shp file has no valid header")
    elif len(head) < 100:
        problem = (
            f"die .shp-Datei ist unvollständig ({size} Bytes)",
            f"the .shp file is truncated ({size} bytes)",
        )
    elif struct.unpack(">i", head[24:28])[0] * 2 != size:
        stated = struct.unpack(">i", head[24:28])[0] * 2
        problem = (
            f"die .shp-Datei ist unvollständig oder beschädigt ({size} Bytes, laut Kopf {stated})",
            f"the .shp file is truncated or damaged ({size} bytes, its header says {stated})",
        )
    elif len(shx) < 100 or (len(shx) - 100) % 8:
        problem = ("die .shx-Datei ist beschädigt", "the .shx file is damaged")
    else:
        for number, at in enumerate(range(100, len(shx), 8), start=1):
            offset, length = struct.unpack(">ii", shx[at : at + 8])
            if offset * 2 + 8 + length * 2 > size:
                problem = (
                    f"Datensatz {number} reicht über das Ende der .shp-Datei hinaus",
                    f"record {number} extends beyond the end of the .shp file",
                )
                break
    if problem:
        raise unreadable(where, "shapefile", *problem)
