"""A source's default metadata, applied where a harvested record has none."""

from __future__ import annotations

from catalog import model
from catalog.namespaces import EU
from harvesters.base import Defaults, SourceConfig

GEOCODING_LEVEL = "http://dcat-ap.de/def/politicalGeocoding/Level/"
DE = f"{EU}language/DEU"


def apply_defaults(record: model.Resource, config: SourceConfig) -> None:
    """Fill what the record lacks from ``config.defaults`` and the owning organisation."""
    d: Defaults = config.defaults
    if record.publisher is None:
        agent = d.publisher or config.organization
        record.publisher = model.Agent(
            uri=agent.get("uri"),
            name={"de": agent["name"]} if agent.get("name") else {},
            email=_mailto(agent.get("email")),
            homepage=agent.get("homepage"),
        )
    if not record.contact_points and d.contact_point:
        c = d.contact_point
        record.contact_points = [
            model.ContactPoint(
                fn={"de": c["name"]} if c.get("name") else {},
                email=_mailto(c.get("email")),
                url=c.get("url"),
                telephone=_tel(c.get("telephone")),
            )
        ]
    if not record.themes and d.themes:
        record.themes = list(d.themes)
    if not record.contributor_ids and d.contributor_id:
        record.contributor_ids = [d.contributor_id]
    if not record.languages and d.languages:
        record.languages = list(d.languages)
    if record.access_rights is None and d.access_rights:
        record.access_rights = d.access_rights
    if d.keywords:
        have = {k.value.lower() for k in record.keywords}
        record.keywords = sorted(
            record.keywords + [model.LangStr(k, "de") for k in d.keywords if k.lower() not in have]
        )
    if isinstance(record, model.Dataset):
        if record.political_geocoding_level is None and d.political_geocoding_level:
            record.political_geocoding_level = d.political_geocoding_level
        if d.political_geocoding:  # DCAT-AP.de 3.0: the regional key goes to dct:spatial
            have = {loc.uri for loc in record.spatial}
            record.spatial += [
                model.Location(uri=iri) for iri in d.political_geocoding if iri not in have
            ]
        if d.license:
            for dist in record.distributions:
                if dist.license is None:
                    dist.license = d.license
    if record.license is None and d.license and not isinstance(record, model.Dataset):
        record.license = d.license


def _tel(number: str | int | None) -> str | None:
    if number is None or str(number).strip() == "":
        return None
    return "tel:" + "".join(str(number).split())


def _mailto(email: str | None) -> str | None:
    if not email:
        return None
    return email if email.startswith("mailto:") else f"mailto:{email}"
