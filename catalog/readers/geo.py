"""Entry point for geodata (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ): :func:`read_geo`
hands each format to its reader (:mod:`~catalog.readers.geojson`,
:mod:`~catalog.readers.shapefile`) and itself reads the multi-layer containers, GeoPackage (one
SourceData per table) and KML/KMZ (one per non-empty folder), layer by layer through
:mod:`~catalog.readers.gdal`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from catalog.readers import SourceData
from catalog.readers.gdal import list_layers, read_layer, vsizip
from catalog.readers.geojson import read_geojson
from catalog.readers.problems import unreadable
from catalog.readers.shapefile import read_shapefile


def read_geo(path: Path, fmt: str, where: str) -> list[SourceData]:
    if fmt == "geojson":
        return read_geojson(path, where)
    if fmt == "shapefile":
        return read_shapefile(path, where)
    if fmt in ("geopackage", "kml"):
        return _read_multi(path, fmt, where)
    raise ValueError(f"not a geodata format: {fmt}")


def _read_multi(path: Path, fmt: str, where: str) -> list[SourceData]:
    """GeoPackage (one SourceData per table) and KML/KMZ (one per non-empty folder)."""
    gdal_path = str(path)
    if fmt == "kml" and zipfile.is_zipfile(path):
        # KMZ: read the KML inside (GDAL would only recognise the archive by its extension).
        with zipfile.ZipFile(path) as archive:
            kmls = sorted(n for n in archive.namelist() if n.lower().endswith(".kml"))
        if not kmls:
            raise unreadable(
                where, "kml", "das Zip-Archiv enthält keine .kml-Datei", "no .kml file in the zip"
            )
        gdal_path = vsizip(path, kmls[0])
    layers = list_layers(gdal_path, where)
    out = []
    for layer in layers:
        named = f"{where}, layer {layer}" if fmt == "geopackage" or len(layers) > 1 else where
        data = read_layer(gdal_path, layer, layer, fmt, named)
        if fmt == "kml" and not data.rows and len(layers) > 1:
            continue  # LIBKML lists empty folders as layers
        out.append(data)
    if not out:
        raise unreadable(
            where, "empty", "die Datei enthält keine Ebenen", "the file contains no layers"
        )
    if fmt == "kml" and len(out) == 1:
        out[0].name = path.stem  # one layer: named like every single-layer file
    return out
