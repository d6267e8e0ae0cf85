"""Harvesting another CKAN portal through its Action API, with the ``ckanapi`` client.

Every package that matches the filters is listed with ``package_search`` (sorted by id, paged
with ``start``; the search results carry the whole package dicts, so no package_show per
package is needed). A package whose ``metadata_modified`` is the one stored after the last run
is reported :class:`Unchanged` without being mapped; the others are mapped to DCAT-AP.de by
:mod:`harvesters.sources.ckan_mapping`.

Filters (``filters`` of the source file), joined with AND:

- ``organization``: one organisation name or a list of them
- ``groups``: one group name or a list (any of them)
- ``tags``: one tag or a list (any of them)
- ``dataset_type``: one CKAN dataset type or a list (default: every type except ``harvest``)
- ``fq``: a Solr filter query of one's own, e.g. ``res_format:CSV``
- ``q``: a search text

Options (``options``): ``rows`` (packages per request, at most 1000; default 1000),
``get_only`` (true: send GET instead of POST, for portals behind filters that refuse POST).

Credentials: ``token`` or ``api_key`` (the name of the environment variable holding it).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import ckanapi
import requests
from ckanapi.errors import CKANAPIError, ServerIncompatibleError

from harvesters.base import Context, Harvested, Item, RecordError, SourceError, Unchanged
from harvesters.sources.ckan_mapping import MappingError, package_to_record
from harvesters.sources.dcat import int_option

# Bump when the mapping changes: packages are then mapped again although unchanged at the source.
MAPPING_VERSION = 1
MAX_ROWS = 1000
_NAME = re.compile(r"^[\w.-]+$", re.UNICODE)


def user_agent(context: Context) -> str:
    try:
        odapp, client = version("odapp"), version("ckanapi")
    except PackageNotFoundError:  # running from a source tree that is not installed
        odapp, client = "0", "0"
    return f"ODApp-Harvester/{odapp} (+{context.base_url}) ckanapi/{client}"


def search_filter(filters: dict[str, Any]) -> str:
    """The Solr ``fq`` for the filters of a source file."""
    clauses: list[str] = []
    for key in ("organization", "groups"):
        names = _names(filters.get(key), key)
        if names:
            clauses.append(f"{key}:({' OR '.join(names)})")
    tags = _list(filters.get("tags"), "tags")
    if tags:
        quoted = " OR ".join('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in tags)
        clauses.append(f"tags:({quoted})")
    types = _names(filters.get("dataset_type"), "dataset_type")
    clauses.append(f"dataset_type:({' OR '.join(types)})" if types else "-dataset_type:harvest")
    fq = filters.get("fq")
    if fq is not None and not isinstance(fq, str):
        raise _config_error("fq", "muss ein Text sein", "must be a string")
    if fq and fq.strip():
        clauses.append(f"({fq.strip()})")
    return " AND ".join(clauses)


def _list(value: Any, key: str) -> list[str]:
    if value is None or value == "":
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise _config_error(
            key, "muss ein Name oder eine Liste von Namen sein", "must be a name or a list of names"
        )
    return [v.strip() for v in values]


def _names(value: Any, key: str) -> list[str]:
    names = _list(value, key)
    for name in names:
        if not _NAME.match(name):
            raise _config_error(
                key,
                f"{name!r} ist kein CKAN-Name (Kleinbuchstaben, Ziffern, - und _)",
                f"{name!r} is no CKAN name (lower-case letters, digits, - and _)",
            )
    return names


def _config_error(key: str, de: str, en: str) -> SourceError:
    return SourceError(f"filters.{key}", f"Filter {key} {de}", f"filter {key} {en}")


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    url = (config.url or "").strip().rstrip("/")
    if not re.match(r"^https?://", url):
        raise SourceError(
            config.name,
            "Die CKAN-Quelle braucht eine http- oder https-Adresse (url)",
            "the CKAN source needs an http or https address (url)",
        )
    token = config.secret("token") or config.secret("api_key")
    ckan = ckanapi.RemoteCKAN(
        url,
        apikey=token,
        user_agent=user_agent(context),
        session=context.session,
        get_only=bool(config.options.get("get_only", False)),
    )
    rows = min(int_option(context, "rows", MAX_ROWS), MAX_ROWS)
    query: dict[str, Any] = {"fq": search_filter(config.filters), "sort": "id asc", "rows": rows}
    if config.filters.get("q"):
        query["q"] = str(config.filters["q"])
    fingerprint = _fingerprint(context)
    trust_previous = context.recall("ckan:mapping") == fingerprint
    seen: set[str] = set()
    total: int | None = None
    start = 0
    while True:
        context.heartbeat()
        result = _search(ckan, url, query | {"start": start}, config.timeout)
        count, packages = result["count"], result["results"]
        if total is None:
            total = count
        elif count != total:
            raise SourceError(
                f"{url}/api/3/action/package_search",
                f"Die Zahl der Pakete änderte sich während des Abrufs ({total} -> {count}); "
                "die Liste wäre unvollständig. Bitte später erneut versuchen.",
                f"the number of packages changed while listing ({total} -> {count}); the "
                "listing would be incomplete. Please try again later.",
            )
        for package in packages:
            item = _item(context, package, url, trust_previous)
            if item is None or item.source_id in seen:
                continue
            seen.add(item.source_id)
            yield item
        start += len(packages)
        if start >= total:
            break
        if not packages:
            raise SourceError(
                f"{url}/api/3/action/package_search",
                f"Das Portal lieferte nur {start} von {total} Paketen",
                f"the portal returned only {start} of {total} packages",
            )
    context.remember("ckan:mapping", fingerprint)


def _item(context: Context, package: Any, url: str, trust_previous: bool) -> Item | None:
    if not isinstance(package, dict) or not isinstance(package.get("id"), str):
        return RecordError(
            "?",
            f"{url}/api/3/action/package_search",
            "Suchergebnis ohne Paket-id",
            "search result without a package id",
        )
    package_id = package["id"]
    modified = package.get("metadata_modified") or None
    previous = context.previous(package_id)
    if (
        trust_previous
        and modified
        and previous is not None
        and previous.active
        and previous.source_modified == modified
    ):
        return Unchanged(package_id)
    origin = f"{url}/dataset/{package.get('name') or package_id}"
    try:
        record, notes = package_to_record(package, url)
    except MappingError as exc:
        return RecordError(
            package_id,
            origin,
            f"Paket nicht übernommen: {exc.de}",
            f"package not taken over: {exc.en}",
        )
    report = {"mapping_notes": notes} if notes else {}
    return Harvested(
        source_id=package_id,
        record=record,
        origin=origin,
        source_modified=modified,
        report=report,
    )


def _search(ckan: ckanapi.RemoteCKAN, url: str, query: dict[str, Any], timeout: float) -> Any:
    where = f"{url}/api/3/action/package_search"
    try:
        result = ckan.call_action("package_search", query, requests_kwargs={"timeout": timeout})
    except requests.Timeout as exc:
        raise SourceError(
            where,
            f"Zeitüberschreitung: {url} antwortete nicht innerhalb von {timeout:g} s",
            f"timeout: {url} did not answer within {timeout:g} s",
        ) from exc
    except requests.RequestException as exc:
        raise SourceError(
            where,
            f"Verbindung zu {url} fehlgeschlagen: {_short(exc)}",
            f"connection to {url} failed: {_short(exc)}",
        ) from exc
    except ckanapi.NotAuthorized as exc:
        raise SourceError(
            where,
            f"{url} verweigert den Zugriff (API-Token prüfen): {_short(exc)}",
            f"{url} refused access (check the API token): {_short(exc)}",
        ) from exc
    except ckanapi.NotFound as exc:
        raise SourceError(
            where,
            f"{url} kennt package_search nicht; ist das ein CKAN-Portal? {_short(exc)}",
            f"{url} does not know package_search; is it a CKAN portal? {_short(exc)}",
        ) from exc
    except (ckanapi.ValidationError, ckanapi.SearchQueryError, ckanapi.SearchError) as exc:
        raise SourceError(
            where,
            f"{url} lehnt die Suchanfrage ab (Filter prüfen): {_short(exc)}",
            f"{url} refused the search query (check the filters): {_short(exc)}",
        ) from exc
    except (CKANAPIError, ServerIncompatibleError) as exc:
        raise SourceError(
            where,
            f"{url} antwortete nicht wie eine CKAN-API: {_short(exc)}",
            f"{url} did not answer like a CKAN API: {_short(exc)}",
        ) from exc
    if (
        not isinstance(result, dict)
        or not isinstance(result.get("count"), int)
        or not isinstance(result.get("results"), list)
    ):
        raise SourceError(
            where,
            f"{url}: package_search lieferte kein Ergebnis mit count und results",
            f"{url}: package_search returned no result with count and results",
        )
    return result


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:300] + " …"


def _fingerprint(context: Context) -> str:
    """What a mapped record depends on besides the package: if it changes, map everything."""
    config = context.config
    data = {
        "version": MAPPING_VERSION,
        "url": config.url,
        "organization": config.organization,
        "defaults": repr(config.defaults),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
