"""Source type ``csw``: the ISO 19139 records of an OGC Catalogue Service for the Web (CSW 2.0.2:
GeoNetwork, pycsw, the GDI-DE and Länder geoportals) mapped to DCAT-AP.de
(:mod:`harvesters.sources.iso19139`).

``url`` is the CSW endpoint. Filters: ``constraint`` (a full-text search over the records,
``csw:AnyText``; all records when missing) and ``max_records`` (stop after that many records:
a partial listing, so nothing is withdrawn). Option ``page_size`` (records per GetRecords
request, default 50; servers may send fewer). The client is OWSLib's ``CatalogueServiceWeb``;
each record is parsed on its own, so one broken record is reported and the rest goes on.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import requests
from owslib.catalogue.csw2 import CatalogueServiceWeb
from owslib.fes import PropertyIsLike
from owslib.iso import MD_Metadata
from owslib.namespaces import Namespaces

from harvesters.base import Context, Harvested, Item, RecordError, SourceError
from harvesters.sources import geo_common as gc
from harvesters.sources.iso19139 import MappingError, to_resource

GMD = "http://www.isotc211.org/2005/gmd"
GMI = "http://www.isotc211.org/2005/gmi"
MAX_PAGES = 100_000


class _Catalogue(CatalogueServiceWeb):
    """OWSLib's CSW client, parsing every ISO record on its own (OWSLib would stop the whole
    page at the first record it cannot read)."""

    parsed: list[tuple[Any, Any, BaseException | None]]

    def _parserecords(self, outputschema: str, esn: str) -> None:
        self.parsed = []
        root = self._exml
        elements = list(root.iterfind(f".//{{{GMD}}}MD_Metadata")) + list(
            root.iterfind(f".//{{{GMI}}}MI_Metadata")
        )
        for element in elements:
            try:
                self.parsed.append((element, MD_Metadata(element), None))
            except Exception as exc:  # noqa: BLE001 - reported as this record's error
                self.parsed.append((element, None, exc))


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    if not config.url:
        raise SourceError(
            config.name,
            "Für csw fehlt „url“ (die Adresse des CSW).",
            "csw needs 'url' (the address of the CSW).",
        )
    url = config.url
    catalogue = _open(context, url)
    text = str(config.filters.get("constraint") or "").strip()
    constraints = [PropertyIsLike("csw:AnyText", f"%{text}%", wildCard="%")] if text else []
    page_size = gc.positive_int(config, "page_size", 50) or 50
    limit = gc.positive_int(config, "max_records", None)
    lang = gc.text_language(config)
    position, delivered, counted, matched = 1, 0, 0, 0
    for _ in range(MAX_PAGES):
        context.heartbeat()
        wanted = page_size if limit is None else min(page_size, limit - delivered)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                catalogue.getrecords2(
                    constraints=constraints,
                    typenames="gmd:MD_Metadata",
                    esn="full",
                    outputschema=GMD,
                    startposition=position,
                    maxrecords=wanted,
                )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise gc.source_error(url, exc, "CSW nicht erreichbar", "CSW not reachable") from None
        except Exception as exc:  # HTTP status, OWS exception report, XML that is no answer
            raise gc.source_error(
                url,
                exc,
                f"GetRecords ab Position {position} fehlgeschlagen",
                f"GetRecords from position {position} failed",
            ) from None
        results = catalogue.results
        matched = int(results.get("matches") or 0)
        returned = int(results.get("returned") or 0)
        counted += returned
        for element, md, problem in catalogue.parsed:
            yield _item(catalogue.url, element, md, problem, lang, position + delivered)
            delivered += 1
            if limit is not None and delivered >= limit:
                return
        if returned > len(catalogue.parsed):
            yield RecordError(
                f"{url}#{position}",
                url,
                f"{returned - len(catalogue.parsed)} Einträge ab Position {position} sind kein "
                "ISO 19139 und werden übergangen.",
                f"{returned - len(catalogue.parsed)} records from position {position} are not "
                "ISO 19139 and are skipped.",
            )
        following = results.get("nextrecord")
        if returned == 0 or not following or following > matched:
            break
        position = following if following > position else position + returned
    if counted < matched:
        raise SourceError(
            url,
            f"Der CSW meldet {matched} Einträge, geliefert hat er {counted}.",
            f"The CSW reports {matched} records but delivered {counted}.",
        )


def _open(context: Context, url: str) -> _Catalogue:
    config = context.config
    basic, headers = gc.credentials(config)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _Catalogue(
                url,
                timeout=int(max(1, config.timeout)),
                username=basic[0] if basic else None,
                password=basic[1] if basic else None,
                headers=dict(headers) or None,
            )
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise gc.source_error(url, exc, "CSW nicht erreichbar", "CSW not reachable") from None
    except Exception as exc:  # HTTP status, OWS exception, not XML, XML that is no CSW
        raise gc.source_error(
            url,
            exc,
            "Die Capabilities des CSW sind nicht lesbar",
            "The CSW capabilities cannot be read",
        ) from None


def record_url(base: str, identifier: str) -> str:
    """The GetRecordById request that returns this one record as ISO 19139."""
    query = urlencode(
        {
            "service": "CSW",
            "version": "2.0.2",
            "request": "GetRecordById",
            "id": identifier,
            "outputSchema": GMD,
            "elementSetName": "full",
        }
    )
    return f"{base}{'&' if '?' in base else '?'}{query}"


def _item(
    base: str,
    element: Any,
    md: Any,
    problem: BaseException | None,
    lang: str,
    position: int,
) -> Item:
    identifier = (md.identifier or "").strip() if md is not None else _file_identifier(element)
    source_id = identifier or f"{base}#{position}"
    where = record_url(base, identifier) if identifier else f"{base} (Position {position})"
    if problem is not None:
        return RecordError(
            source_id,
            where,
            f"ISO-19139-Eintrag nicht lesbar: {gc.describe(problem)}",
            f"ISO 19139 record not readable: {gc.describe(problem)}",
        )
    if not identifier:
        return RecordError(
            source_id,
            where,
            "Der Eintrag hat keine fileIdentifier.",
            "The record has no fileIdentifier.",
        )
    try:
        record = to_resource(md, lang)
    except MappingError as exc:
        return RecordError(source_id, where, exc.message_de, exc.message_en)
    except (AttributeError, TypeError, ValueError) as exc:
        return RecordError(
            source_id,
            where,
            f"ISO-19139-Eintrag nicht abbildbar: {gc.describe(exc)}",
            f"ISO 19139 record cannot be mapped: {gc.describe(exc)}",
        )
    return Harvested(
        source_id=identifier,
        record=record,
        origin=where,
        source_modified=gc.iso_date(md.datestamp),
    )


_NS = Namespaces().get_namespaces(["gmd", "gco"])


def _file_identifier(element: Any) -> str:
    found = element.find("gmd:fileIdentifier/gco:CharacterString", _NS)
    return (found.text or "").strip() if found is not None else ""
