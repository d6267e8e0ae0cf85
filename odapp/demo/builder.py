"""The builder: writes the demo files and makes the records, every one with the same mandatory
DCAT-AP.de frame."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from catalog import model
from odapp.demo.geometry import DRESDEN_WKT
from odapp.demo.organisations import Org
from odapp.demo.sources import DEMO_DATA, Terms
from odapp.demo.vocab import (
    AVAILABLE,
    COMPLETED,
    CONTRIBUTOR_ID,
    DEU,
    FORMATS,
    GEOCODING_LEVEL,
    GEODCATAP_ORIGINATOR,
    LICENCE_NOT_STATED,
    PUBLIC,
    REGIONAL_KEY_DRESDEN,
    SHA256,
    STABLE,
    dataset_type,
    theme,
)


class Builder:
    """Writes the files and makes the records; every record gets the same mandatory frame."""

    def __init__(self, base_url: str, files_dir: Path) -> None:
        self.base = base_url.rstrip("/")
        self.files_dir = files_dir
        self.resources: list[model.Resource] = []

    def iri(self, slug: str) -> str:
        return f"{self.base}/dataset/{slug}"

    # files

    def _target(self, rel: str) -> Path:
        path = self.files_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def copy(self, name: str, folder: str) -> str:
        rel = f"{folder}/{name}"
        self._target(rel).write_bytes((DEMO_DATA / name).read_bytes())
        return rel

    def write_csv(self, rel: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
        # UTF-8, comma, CRLF line ends: RFC 4180, as the city's own exports
        with self._target(rel).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)
        return rel

    def write_geojson(self, rel: str, features: list[dict]) -> str:
        doc = {"type": "FeatureCollection", "features": features}
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._target(rel).write_text(text, encoding="utf-8")
        return rel

    # records

    def _frame(
        self,
        slug: str,
        title: tuple[str, str],
        description: tuple[str, str],
        org: Org,
        keywords: Sequence[str],
        modified: str,
    ) -> dict[str, Any]:
        """The fields every dataset, series and data service has in the same way."""
        return {
            "uri": self.iri(slug),
            "identifier": [slug],
            "title": {"de": title[0], "en": title[1]},
            "description": {"de": description[0], "en": description[1]},
            "publisher": org.agent(),
            "contact_points": [org.contact()],
            "keywords": [model.LangStr(k, "de") for k in keywords],
            "issued": modified,
            "modified": modified,
            "access_rights": PUBLIC,
            "languages": [DEU],
            "contributor_ids": [CONTRIBUTOR_ID],
            "landing_pages": [self.iri(slug)],
        }

    def dist(
        self,
        rel: str,
        title: tuple[str, str],
        description: tuple[str, str],
        terms: Terms,
        *,
        conforms_to: Sequence[str] = (),
        temporal_resolution: str | None = None,
    ) -> model.Distribution:
        path = self.files_dir / rel
        data = path.read_bytes()
        file_type, media_type = FORMATS[path.suffix]
        url = f"{self.base}/files/{rel}"
        return model.Distribution(
            access_urls=[url],
            download_urls=[url],
            title={"de": title[0], "en": title[1]},
            description={"de": description[0], "en": description[1]},
            format=file_type,
            media_type=media_type,
            byte_size=len(data),
            checksum=model.Checksum(algorithm=SHA256, value=hashlib.sha256(data).hexdigest()),
            license=terms.licence,
            license_attribution=terms.attribution,
            issued=terms.modified,
            modified=terms.modified,
            availability=STABLE if terms.licence != LICENCE_NOT_STATED else AVAILABLE,
            status=COMPLETED,
            languages=[DEU],
            conforms_to=list(conforms_to),
            temporal_resolution=temporal_resolution,
        )

    def dataset(
        self,
        slug: str,
        *,
        title: tuple[str, str],
        description: tuple[str, str],
        org: Org,
        keywords: Sequence[str],
        themes: Sequence[str],
        modified: str,
        periodicity: str,
        period: tuple[str, str],
        distributions: Sequence[model.Distribution] = (),
        spatial_wkt: str = DRESDEN_WKT,
        kind: str = "STATISTICAL",
        availability: str = STABLE,
        sources: Sequence[str] = (),
        originators: Sequence[model.Agent] = (),
        in_series: Sequence[str] = (),
        relations: Sequence[str] = (),
        conforms_to: Sequence[str] = (),
        pages: Sequence[str] = (),
        geocoding: tuple[str, Sequence[str]] | None = None,
        temporal_resolution: str | None = None,
        cls: type[model.Dataset] = model.Dataset,
    ) -> model.Dataset:
        # DCAT-AP.de 3.0 deprecates dcatde:politicalGeocodingURI and dcatde:originator: the
        # regional key goes into dcterms:spatial, the originator is dcterms:creator plus
        # geodcatap:originator (not modelled, so kept as an extra triple)
        level, keys = geocoding or (f"{GEOCODING_LEVEL}municipality", [REGIONAL_KEY_DRESDEN])
        for dist in distributions:  # named by their file, inside the dataset's document
            dist.uri = dist.uri or f"{self.iri(slug)}#{dist.download_urls[0].rsplit('/', 1)[1]}"
        record = cls(
            **self._frame(slug, title, description, org, keywords, modified),
            themes=list(themes),
            type=dataset_type(kind),
            availability=availability,
            distributions=list(distributions),
            political_geocoding_level=level,
            spatial=[
                model.Location(geometry=spatial_wkt, bbox=spatial_wkt),
                *(model.Location(uri=key) for key in keys),
            ],
            temporal=[model.PeriodOfTime(start=period[0], end=period[1])],
            accrual_periodicity=periodicity,
            sources=list(sources),
            creators=list(originators),
            extra="".join(
                sorted(
                    f"<urn:odapp:self> <{GEODCATAP_ORIGINATOR}> <{a.uri}> .\n" for a in originators
                )
            ),
            in_series=list(in_series),
            relations=list(relations),
            conforms_to=list(conforms_to),
            pages=list(pages),
            temporal_resolution=temporal_resolution,
        )
        self.resources.append(record)
        return record

    def service(
        self,
        slug: str,
        *,
        title: tuple[str, str],
        description: tuple[str, str],
        org: Org,
        keywords: Sequence[str],
        modified: str,
        endpoint: str,
        endpoint_description: str,
        conforms_to: Sequence[str],
        formats: Sequence[str],
        serves: Sequence[str],
        licence: str,
    ) -> model.DataService:
        record = model.DataService(
            **self._frame(slug, title, description, org, keywords, modified),
            themes=[theme("GOVE")],
            availability=STABLE,
            license=licence,
            conforms_to=list(conforms_to),
            endpoint_urls=[endpoint],
            endpoint_descriptions=[endpoint_description],
            serves_datasets=list(serves),
            formats=list(formats),
        )
        self.resources.append(record)
        return record
