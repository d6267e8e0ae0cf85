"""CKAN Action API v3: every action is a plain function ``(context, data_dict) -> result``,
as in CKAN's own action layer; catalog.ckan_web exposes them over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from catalog import model
from catalog.auth import (
    User,
    members,
    memberships,
    require_editor,
    require_sysadmin,
    set_membership,
)
from catalog.ckan_dicts import (
    group_dict,
    organization_dict,
    package_dict,
    record_from_package,
)
from catalog.ckan_query import package_search_query
from catalog.errors import NotFound, ValidationError, problem
from catalog.search import SearchQuery, SearchService
from catalog.search_expr import Term
from catalog.search_index import resource_id
from catalog.store import Store, StoredResource, slug
from catalog.vocabularies import LICENCES, THEMES, concepts

CKAN_VERSION = "2.10.4"
Action = Callable[["Context", dict[str, Any]], Any]
ACTIONS: dict[str, Action] = {}


@dataclass
class Context:
    store: Store
    search: SearchService
    user: User | None = None
    lang: str = "de"
    site_title: str = "ODApp"
    organizations: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # per request


def action(fn: Action) -> Action:
    ACTIONS[fn.__name__] = fn
    return fn


# --- helpers --------------------------------------------------------------------------------


def _invalid(field: str, de: str, en: str) -> ValidationError:
    return ValidationError([problem(field, "Validation Error", de, en)])


def _check_name(name: str) -> None:
    if slug(name) != name:
        raise _invalid(
            "name",
            "Name: nur Kleinbuchstaben, Ziffern, - und _",
            "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_",
        )


def _required(data: dict[str, Any], key: str) -> Any:
    value = data.get(key)
    if value in (None, ""):
        raise _invalid(key, f"Pflichtfeld fehlt: {key}", "Missing value")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _invalid(key, f"{key}: Text erwartet", f"{key}: expected a string")
    return str(value)


def _int(
    data: dict[str, Any], key: str, default: int | None, minimum: int = 0, maximum: int = 100_000
) -> int | None:
    value = data.get(key, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = minimum - 1
    if not minimum <= number <= maximum:
        raise _invalid(
            key,
            f"{key}: ganze Zahl von {minimum} bis {maximum} erwartet",
            f"Invalid integer (must be {minimum}–{maximum})",
        )
    return number


def _bool(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes", "on")
    return bool(value)


def _org(ctx: Context, name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    if name not in ctx.organizations:  # a result page names few organisations, often
        org = ctx.store.organization(name)
        ctx.organizations[name] = organization_dict(org.name, org.title, org.uri, agent=org.record)
    return ctx.organizations[name]


def _package(ctx: Context, stored: StoredResource) -> dict[str, Any]:
    return package_dict(stored, _org(ctx, stored.organization), ctx.lang)


def _find(ctx: Context, key: str) -> StoredResource:
    return ctx.store.get(key)


def _not_found(what: str, key: str) -> NotFound:
    return NotFound(
        [problem(key, "Not Found Error", f"{what} nicht gefunden: {key}", f"{what} not found")]
    )


# --- read -----------------------------------------------------------------------------------


@action
def status_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "site_title": ctx.site_title,
        "site_url": ctx.store.base_url,
        "site_description": "",
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "de",
        "extensions": ["dcat", "dcatde", "odapp"],
    }


@action
def site_read(ctx: Context, data: dict[str, Any]) -> bool:
    return True


@action
def package_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    limit = _int(data, "limit", None, 0, 1_000_000)
    offset = _int(data, "offset", 0, 0, 10_000_000) or 0
    names = sorted(r.name for r in ctx.store.iter_resources())
    return names[offset : None if limit is None else offset + limit]


@action
def package_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return _package(ctx, _find(ctx, _required(data, "id")))


@action
def package_search(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    query = package_search_query(data)
    result = ctx.search.search(query)
    facets = {f: dict(values) for f, values in result.facets.items()}
    return {
        "count": result.count,
        "results": [_package(ctx, r) for r in result.results],
        "facets": facets,
        "search_facets": {
            f: {
                "title": f,
                "items": [
                    {"name": v, "display_name": _facet_label(f, v, ctx.lang), "count": n}
                    for v, n in values
                ],
            }
            for f, values in result.facets.items()
        },
        "sort": data.get("sort") or "score desc, metadata_modified desc",
        "next_cursor": result.next_cursor,
        "corrected_q": result.corrected_q,
        "suggestions": result.suggestions,
    }


def _facet_label(facet: str, value: str, lang: str) -> str:
    if facet == "groups":
        return group_dict(value, lang)["title"]
    return value


@action
def current_package_list_with_resources(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    limit = _int(data, "limit", 10, 1, 1000) or 10
    offset = _int(data, "offset", 0, 0, 10_000_000) or 0
    page = ctx.search.search(SearchQuery(sort="metadata_modified", offset=offset, limit=limit))
    return [_package(ctx, r) for r in page.results]


@action
def resource_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    rid = _required(data, "id")
    found = ctx.search.search(SearchQuery(expr=Term("resource_id", rid), limit=1))
    if not found.results:
        raise _not_found("Ressource", rid)
    package = _package(ctx, found.results[0])
    return next(r for r in package["resources"] if r["id"] == rid)


@action
def organization_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    orgs = ctx.store.organizations()
    if data.get("organizations"):
        wanted = set(_as_list(data["organizations"]))
        orgs = [o for o in orgs if o[0] in wanted]
    sort = str(data.get("sort") or "title asc")
    key, _, direction = sort.partition(" ")
    index = {"name": 0, "title": 1, "package_count": 3}.get(key, 1)
    orgs = sorted(
        orgs, key=lambda o: o[index] if index != 1 else o[1].lower(), reverse=direction == "desc"
    )
    offset = _int(data, "offset", 0) or 0
    limit = _int(data, "limit", None, 0, 10_000)
    orgs = orgs[offset : None if limit is None else offset + limit]
    if _bool(data, "all_fields"):
        return [organization_dict(n, t, u, c) for n, t, u, c in orgs]
    return [o[0] for o in orgs]


@action
def organization_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    org = ctx.store.organization(_required(data, "id"))
    count = next((c for n, _, _, c in ctx.store.organizations() if n == org.name), 0)
    out = organization_dict(org.name, org.title, org.uri, count, org.record)
    if _bool(data, "include_datasets"):
        page = ctx.search.search(
            SearchQuery(filters={"organization": [org.name]}, sort="name", limit=1000)
        )
        out["packages"] = [_package(ctx, r) for r in page.results]
    out["users"] = [{"name": n, "capacity": c} for n, c in members(ctx.store, org.name)]
    return out


@action
def group_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    counts = dict(
        ctx.search.search(SearchQuery(facets=("groups",), facet_limit=100, limit=0)).facets[
            "groups"
        ]
    )
    codes = sorted(c.code.lower() for c in concepts(THEMES).values() if c.code != "OP_DATPRO")
    if _bool(data, "all_fields"):
        return [group_dict(c, ctx.lang, counts.get(c, 0)) for c in codes]
    return codes


@action
def group_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    code = str(_required(data, "id")).lower()
    if code not in {c.code.lower() for c in concepts(THEMES).values()}:
        raise _not_found("Gruppe", code)
    page = ctx.search.search(SearchQuery(filters={"groups": [code]}, sort="name", limit=1000))
    out = group_dict(code, ctx.lang, page.count)
    if _bool(data, "include_datasets", True):
        out["packages"] = [_package(ctx, r) for r in page.results]
    return out


@action
def tag_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    tags = ctx.search.search(SearchQuery(facets=("tags",), facet_limit=100_000, limit=0)).facets[
        "tags"
    ]
    query = str(data.get("query") or data.get("q") or "").lower()
    names = sorted(v for v, _ in tags if query in v.lower())
    if _bool(data, "all_fields"):
        return [{"id": n, "name": n, "vocabulary_id": None} for n in names]
    return names


@action
def license_list(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for concept in sorted(concepts(LICENCES).values(), key=lambda c: c.code):
        out.append(
            {
                "id": concept.code,
                "title": concept.label(ctx.lang),
                "url": concept.iri,
                "status": "active",
                "od_conformance": "approved" if "closed" not in concept.code else "not reviewed",
                "domain_content": True,
                "domain_data": True,
            }
        )
    return out


@action
def package_autocomplete(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    q = str(data.get("q") or data.get("incomplete") or "")
    limit = _int(data, "limit", 10, 1, 100) or 10
    if not q.strip():
        return []
    result = ctx.search.search(SearchQuery(q=q, limit=limit, correct_typos=False, prefix=True))
    return [
        {"name": r.name, "title": r.title, "match_field": "title", "match_displayed": r.title}
        for r in result.results
    ]


# --- write ----------------------------------------------------------------------------------


def _owner(
    ctx: Context, data: dict[str, Any], current: StoredResource | None
) -> tuple[str, model.Agent]:
    name = data.get("owner_org") or (current.organization if current else None)
    if not name:
        raise _invalid(
            "owner_org", "Organisation (owner_org) fehlt", "An organization must be provided"
        )
    org = ctx.store.organization(str(name))
    require_editor(ctx.store, ctx.user, org.name)
    return org.name, org.agent


def _save(ctx: Context, record: model.Resource) -> dict[str, Any]:
    result = ctx.store.save([record])
    return _package(ctx, ctx.store.get(result.names[0]))


@action
def package_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    name = _required(data, "name")
    _check_name(name)
    try:
        ctx.store.get(name)
    except NotFound:
        pass
    else:
        raise _invalid("name", "Diese URL ist bereits vergeben", "That URL is already in use.")
    _, publisher = _owner(ctx, data, None)
    record = record_from_package(data, base=None, publisher=publisher, base_url=ctx.store.base_url)
    return _save(ctx, record)


def _update(ctx: Context, data: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    current = _find(ctx, _required(data, "id") if "id" in data else _required(data, "name"))
    base = current.record
    if not isinstance(base, model.Dataset):
        raise _invalid(
            "id",
            "Nur Datensätze sind über die CKAN-API änderbar",
            "only datasets can be changed through the CKAN API",
        )
    _, publisher = _owner(ctx, data, current)
    if not patch:
        # package_update replaces the CKAN-visible fields it is given and clears those it omits
        for key, empty in (
            ("tags", []),
            ("groups", []),
            ("resources", []),
            ("url", ""),
            ("version", ""),
        ):
            data.setdefault(key, empty)
    data = {**data, "name": current.name}
    record = record_from_package(data, base=base, publisher=publisher, base_url=ctx.store.base_url)
    return _save(ctx, record)


@action
def package_update(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return _update(ctx, data, patch=False)


@action
def package_patch(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return _update(ctx, data, patch=True)


@action
def package_delete(ctx: Context, data: dict[str, Any]) -> None:
    current = _find(ctx, _required(data, "id"))
    require_editor(ctx.store, ctx.user, current.organization or "")
    ctx.store.delete(current.name)
    return None


def _resource_parent(ctx: Context, rid: str) -> tuple[StoredResource, int]:
    found = ctx.search.search(SearchQuery(expr=Term("resource_id", rid), limit=1))
    if not found.results:
        raise _not_found("Ressource", rid)
    stored = found.results[0]
    record = stored.record
    assert isinstance(record, model.Dataset)
    for i, dist in enumerate(record.distributions):
        if resource_id(stored.uri, dist, i) == rid:
            return stored, i
    raise _not_found("Ressource", rid)


@action
def resource_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    current = _find(ctx, _required(data, "package_id"))
    package = _package(ctx, current)
    resources = [{"id": r["id"]} for r in package["resources"]]
    new = {k: v for k, v in data.items() if k != "package_id"}
    new.setdefault("url", "")
    resources.append(new)
    updated = _update(ctx, {"id": current.uuid, "resources": resources}, patch=True)
    return updated["resources"][-1]


@action
def resource_update(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    rid = _required(data, "id")
    stored, position = _resource_parent(ctx, rid)
    package = _package(ctx, stored)
    resources: list[dict[str, Any]] = [{"id": r["id"]} for r in package["resources"]]
    resources[position] = {**data, "id": rid}
    updated = _update(ctx, {"id": stored.uuid, "resources": resources}, patch=True)
    return updated["resources"][position]


@action
def resource_patch(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return resource_update(ctx, data)


@action
def resource_delete(ctx: Context, data: dict[str, Any]) -> None:
    rid = _required(data, "id")
    stored, position = _resource_parent(ctx, rid)
    package = _package(ctx, stored)
    resources = [{"id": r["id"]} for i, r in enumerate(package["resources"]) if i != position]
    _update(ctx, {"id": stored.uuid, "resources": resources}, patch=True)
    return None


def _agent_from(data: dict[str, Any], base: model.Agent | None) -> model.Agent:
    agent = (
        replace(base)
        if base
        else model.Agent(type="http://purl.org/adms/publishertype/LocalAuthority")
    )
    if "title" in data:
        agent.name = {"de": data["title"]} if data["title"] else {}
    if data.get("uri"):
        agent.uri = data["uri"]
    if "email" in data:
        agent.email = f"mailto:{data['email']}" if data["email"] else None
    if "homepage" in data:
        agent.homepage = data["homepage"] or None
    return agent


@action
def organization_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    require_sysadmin(ctx.user)
    name = _required(data, "name")
    _check_name(name)
    data.setdefault("title", name)
    org = ctx.store.save_organization(name, _agent_from(data, None), create=True)
    return organization_dict(org.name, org.title, org.uri, 0, org.record)


@action
def organization_update(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    org = ctx.store.organization(_required(data, "id"))
    require_editor(ctx.store, ctx.user, org.name)
    saved = ctx.store.save_organization(org.name, _agent_from(data, org.agent), create=False)
    return organization_dict(saved.name, saved.title, saved.uri, None, saved.record)


@action
def organization_patch(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return organization_update(ctx, data)


@action
def organization_member_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    org = ctx.store.organization(_required(data, "id"))
    is_admin = (
        ctx.user is not None and memberships(ctx.store, ctx.user.name).get(org.name) == "admin"
    )
    if not is_admin:  # organisation admins manage their members; otherwise sysadmins only
        require_sysadmin(ctx.user)
    username = _required(data, "username")
    role = data.get("role") or "member"
    set_membership(ctx.store, username, org.name, role)
    return {
        "group_id": org.name,
        "table_name": "user",
        "table_id": username,
        "capacity": role,
        "state": "active",
    }


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("["):
        return [str(v) for v in json.loads(text)]
    return [v.strip() for v in text.split(",") if v.strip()]
