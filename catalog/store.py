"""The catalogue store: records in SQLite (default) or PostgreSQL + PostGIS, written only after
validation, in one transaction per write, with their RDF cached for fast export."""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import shapely
from alembic import command
from alembic.config import Config
from slugify import slugify
from sqlalchemy import Engine, create_engine, event, func, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from catalog import model, sqlite_spatial
from catalog.errors import NotFound, Problem, ValidationError, problem
from catalog.record_render import Rendered, render_many
from catalog.schema import CatalogInfo, DataCollection, Organization, ResourceRow
from catalog.search_index import write_index
from catalog.validation import check_resource

_UMLAUTS = [
    ("ä", "ae"),
    ("ö", "oe"),
    ("ü", "ue"),
    ("Ä", "Ae"),
    ("Ö", "Oe"),
    ("Ü", "Ue"),
    ("ß", "ss"),
]


def engine_for(url: str) -> Engine:
    """An engine for ``url``; plain postgresql:// URLs use psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # psycopg prepares a statement after 5 runs; PostgreSQL's generic plan for full-text
    # queries then evaluates to_tsquery per row, so search statements are never prepared
    connect_args = {"prepare_threshold": None} if url.startswith("postgresql+psycopg") else {}
    engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()
            sqlite_spatial.register(dbapi_connection)

    return engine


def slug(text: str, max_length: int = 90) -> str:
    return (
        slugify(text, replacements=_UMLAUTS, max_length=max_length, word_boundary=True)
        or "datensatz"
    )


@dataclass
class StoredResource:
    """A resource as stored: its keys, its record and its cached RDF."""

    id: int
    uuid: str
    name: str
    uri: str
    kind: str
    title: str
    organization: str | None
    issued: str | None
    modified: str | None
    record_json: str
    nt: str
    ttl: str
    bbox: tuple[float, float, float, float] | None
    updated_at: datetime
    created_at: datetime | None = None
    rdfxml: str = ""
    jsonld: str = ""

    @property
    def record(self) -> model.Resource:
        cls = model.RESOURCE_CLASSES[self.kind]
        return cls.from_dict(json.loads(self.record_json))

    @classmethod
    def from_row(cls, row: ResourceRow) -> StoredResource:
        bbox = None
        if row.min_x is not None:
            bbox = (row.min_x, row.min_y, row.max_x, row.max_y)
        return cls(
            row.id,
            row.uuid,
            row.name,
            row.uri,
            row.kind,
            row.title,
            row.organization.name if row.organization else None,
            row.issued,
            row.modified,
            row.record,
            row.nt,
            row.ttl,
            bbox,
            row.updated_at,
            row.created_at,
            row.rdfxml,
            row.jsonld,
        )


@dataclass(frozen=True)
class OrganizationView:
    id: int
    name: str
    title: str
    uri: str | None
    record: dict  # type: ignore[type-arg]

    @property
    def agent(self) -> model.Agent:
        return model.Agent.from_dict(self.record)


@dataclass
class SaveResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    incomplete: list[Problem] = field(default_factory=list)  # kept with strict=False
    refused: dict[int, list[Problem]] = field(default_factory=dict)  # with skip_invalid

    @property
    def names(self) -> list[str]:
        return self.created + self.updated


class Store:
    """All reads and writes of the catalogue go through here."""

    def __init__(self, database_url: str, base_url: str = "http://127.0.0.1:8080") -> None:
        self.database_url = database_url
        self.base_url = base_url.rstrip("/")
        self.engine = engine_for(database_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # --- schema -------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("catalog") / "migrations"))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def is_current(self) -> bool:
        return inspect(self.engine).has_table("resources")

    # --- writes -------------------------------------------------------------------------

    def save(
        self,
        items: Sequence[model.Resource],
        catalog: model.Catalog | None = None,
        *,
        strict: bool = True,
        skip_invalid: bool = False,
        known_problems: dict[int, list[Problem]] | None = None,
        also: Callable[[Session, SaveResult], None] | None = None,
    ) -> SaveResult:
        """Validate every record, then store them all in one transaction, or none of them.

        ``strict=False`` (imports of other catalogues) stores records that miss a mandatory
        property with the problems attached; records that cannot be written as valid RDF
        (bad IRIs, unreadable geometry) are refused in every mode. ``skip_invalid`` (harvests)
        stores the others and lists the refused ones by index instead of raising. ``also`` runs
        in the same transaction after the records are written (harvest bookkeeping).
        ``known_problems`` (by ``id(item)``) holds what the caller's own check of a record
        just found, so it is not checked twice.
        """
        problems, kept, refused = [], {}, {}
        for i, item in enumerate(items):
            _normalise(item)
            where = (
                item.uri or f"record {i + 1} ({model.preferred_text(item.title) or 'ohne Titel'})"
            )
            known = (known_problems or {}).get(id(item))
            found = list(known) if known is not None else check_resource(item, where)
            if not strict:
                kept[id(item)] = [p for p in found if p.rule.startswith("mandatory:")]
                found = [p for p in found if not p.rule.startswith("mandatory:")]
            if found and skip_invalid:
                refused[i] = found
            problems.extend(found)
        if problems and not skip_invalid:
            raise ValidationError(problems)
        items = [item for i, item in enumerate(items) if i not in refused]
        result = SaveResult(refused=refused)
        now = datetime.now(UTC)
        with self.sessions.begin() as session, session.no_autoflush:
            existing = self._rows_by_uri(session, [i.uri for i in items if i.uri])
            taken = self._names_taken(
                session, [_name_candidate(i) for i in items if i.uri not in existing]
            )
            orgs: dict[tuple[str | None, str], Organization] = {}
            written: list[tuple[ResourceRow, model.Resource]] = []
            planned: list[tuple[ResourceRow, model.Resource, bool]] = []
            for item in items:  # keys first: new records need their name (and IRI)
                row = existing.get(item.uri) if item.uri else None
                new = row is None
                if row is None:
                    name = self._free_name(session, _name_candidate(item), taken)
                    if item.uri is None:  # blank-node resources get an IRI of ours
                        item.uri = f"{self.base_url}/dataset/{name}"
                    row = ResourceRow(
                        uuid=str(uuidlib.uuid4()), name=name, uri=item.uri, created_at=now
                    )
                    existing[item.uri] = row
                taken.add(row.name)
                planned.append((row, item, new))
            rendered = render_many([item for _, item, _ in planned])
            restored = [row.uri for row, _, new in planned if not new and row.deleted]
            added: set[int] = set()
            for n, ((row, item, new), render) in enumerate(zip(planned, rendered, strict=True)):
                if n and n % 500 == 0:
                    session.flush()  # the database writes while the workers still render
                self._fill(session, row, item, render, now, orgs)
                if new and id(row) not in added:
                    session.add(row)  # after filling: an organisation lookup may flush
                    added.add(id(row))
                    result.created.append(row.name)
                elif not new:
                    result.updated.append(row.name)
                row.problems = json.dumps(
                    [p.to_dict() for p in kept.get(id(item), [])], ensure_ascii=False
                )
                result.incomplete.extend(kept.get(id(item), []))
                written.append((row, item))
            session.flush()
            if restored:
                _touch_collections(session, restored, now)
            write_index(session, written)
            if catalog is not None:
                self._set_catalog(session, catalog, now)
            if also is not None:
                also(session, result)
        return result

    @staticmethod
    def _rows_by_uri(session: Session, uris: list[str]) -> dict[str, ResourceRow]:
        rows: dict[str, ResourceRow] = {}
        for start in range(0, len(uris), 500):
            chunk = uris[start : start + 500]
            rows.update(
                (r.uri, r)
                for r in session.scalars(select(ResourceRow).where(ResourceRow.uri.in_(chunk)))
            )
        return rows

    @staticmethod
    def _names_taken(session: Session, candidates: list[str]) -> set[str]:
        """Names among the candidates that exist already (one query per 500, not one each)."""
        taken: set[str] = set()
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            taken.update(
                session.scalars(select(ResourceRow.name).where(ResourceRow.name.in_(chunk)))
            )
        return taken

    def _fill(
        self,
        session: Session,
        row: ResourceRow,
        item: model.Resource,
        render: Rendered,
        now: datetime,
        orgs: dict[tuple[str | None, str], Organization],
    ) -> None:
        row.kind = render.kind
        row.title = render.title
        row.issued, row.modified = item.issued, item.modified
        row.record = render.record
        row.nt, row.ttl, row.rdfxml, row.jsonld = (
            render.nt,
            render.ttl,
            render.rdfxml,
            render.jsonld,
        )
        row.organization = (
            self._organization(session, item.publisher, now, orgs) if item.publisher else None
        )
        if render.bounds is None:
            row.min_x = row.min_y = row.max_x = row.max_y = None
        else:
            row.min_x, row.min_y, row.max_x, row.max_y = render.bounds
        row.geom_wkb = render.geom_wkb
        row.search_title, row.search_keywords, row.search_text = render.search
        row.temporal_start, row.temporal_end = render.temporal
        row.deleted = False
        row.updated_at = now

    def _organization(
        self,
        session: Session,
        agent: model.Agent,
        now: datetime,
        cache: dict[tuple[str | None, str], Organization],
    ) -> Organization:
        title = model.preferred_text(agent.name)
        key = (agent.uri, "" if agent.uri else title)
        if key in cache:
            return cache[key]
        if agent.uri:
            org = session.scalar(select(Organization).where(Organization.uri == agent.uri))
        else:
            org = session.scalar(
                select(Organization).where(Organization.uri.is_(None), Organization.title == title)
            )
        if org is None:
            org = Organization(
                name=self._free_org_name(session, slug(title)), uri=agent.uri, created_at=now
            )
            session.add(org)
        org.title = title
        org.record = json.dumps(agent.to_dict(), ensure_ascii=False, sort_keys=True)
        org.updated_at = now
        session.flush()
        cache[key] = org
        return org

    def _free_name(self, session: Session, candidate: str, taken: set[str]) -> str:
        """``taken`` already holds the stored names among the batch's candidates, so only
        numbered variants need a look at the table."""
        name, n = candidate, 1
        while name in taken or (
            n > 1 and session.scalar(select(ResourceRow.id).where(ResourceRow.name == name))
        ):
            n += 1
            name = f"{candidate[:90]}-{n}"
        return name

    def _free_org_name(self, session: Session, candidate: str) -> str:
        name, n = candidate, 1
        while session.scalar(select(Organization.id).where(Organization.name == name)):
            n += 1
            name = f"{candidate[:90]}-{n}"
        return name

    def _set_catalog(self, session: Session, catalog: model.Catalog, now: datetime) -> None:
        row = session.get(CatalogInfo, 1) or CatalogInfo(id=1)
        row.record = json.dumps(catalog.to_dict(), ensure_ascii=False, sort_keys=True)
        row.updated_at = now
        session.add(row)

    @staticmethod
    def withdraw_in(session: Session, uris: Sequence[str]) -> list[str]:
        """Mark the resources with these IRIs deleted inside a caller's transaction (harvests);
        returns their names. Saving a record again restores it."""
        names: list[str] = []
        now = datetime.now(UTC)
        for start in range(0, len(uris), 500):
            chunk = list(uris[start : start + 500])
            for row in session.scalars(select(ResourceRow).where(ResourceRow.uri.in_(chunk))):
                if not row.deleted:
                    row.deleted = True
                    row.updated_at = now
                    names.append(row.name)
        _touch_collections(session, list(uris), now)
        return names

    def delete(self, name: str) -> None:
        """Withdraw a resource: it is kept, marked deleted, and no longer published."""
        with self.sessions.begin() as session:
            row = session.scalar(select(ResourceRow).where(ResourceRow.name == name))
            if row is None:
                raise _not_found(name)
            row.deleted = True
            row.updated_at = datetime.now(UTC)
            _touch_collections(session, [row.uri], row.updated_at)

    # --- reads --------------------------------------------------------------------------

    def catalog(self) -> model.Catalog | None:
        with self.sessions() as session:
            row = session.get(CatalogInfo, 1)
            return model.Catalog.from_dict(json.loads(row.record)) if row else None

    def get(self, key: str) -> StoredResource:
        """By name, IRI or uuid: one lookup per unique index (an OR of the three made SQLite
        scan the table through the index on ``deleted``)."""
        with self.sessions() as session:
            for column in (ResourceRow.name, ResourceRow.uuid, ResourceRow.uri):
                row = session.scalar(select(ResourceRow).where(column == key))
                if row is not None and not row.deleted:
                    return StoredResource.from_row(row)
            raise _not_found(key)

    def count(self, kind: str | None = None) -> int:
        with self.sessions() as session:
            query = select(func.count(ResourceRow.id)).where(ResourceRow.deleted.is_(False))
            if kind:
                query = query.where(ResourceRow.kind == kind)
            return session.scalar(query) or 0

    def iter_resources(
        self,
        *,
        offset: int = 0,
        limit: int | None = None,
        modified_since: datetime | None = None,
        chunk: int = 500,
    ) -> Iterator[StoredResource]:
        """Resources in a stable order (by id), streamed in chunks so exports need little memory."""
        last_id, seen = 0, 0
        if offset:
            last_id = self._id_at(offset, modified_since)
            if last_id is None:
                return
        while limit is None or seen < limit:
            size = chunk if limit is None else min(chunk, limit - seen)
            with self.sessions() as session:
                query = (
                    select(ResourceRow)
                    .where(ResourceRow.deleted.is_(False), ResourceRow.id > last_id)
                    .order_by(ResourceRow.id)
                    .limit(size)
                )
                if modified_since is not None:
                    query = query.where(ResourceRow.updated_at >= modified_since)
                rows = session.scalars(query).all()
            if not rows:
                return
            for row in rows:
                yield StoredResource.from_row(row)
            seen += len(rows)
            last_id = rows[-1].id
            if len(rows) < size:
                return

    def _id_at(self, offset: int, modified_since: datetime | None) -> int | None:
        with self.sessions() as session:
            query = select(ResourceRow.id).where(ResourceRow.deleted.is_(False))
            if modified_since is not None:
                query = query.where(ResourceRow.updated_at >= modified_since)
            query = query.order_by(ResourceRow.id).offset(offset - 1).limit(1)
            return session.scalar(query)

    def count_since(self, modified_since: datetime | None) -> int:
        with self.sessions() as session:
            query = select(func.count(ResourceRow.id)).where(ResourceRow.deleted.is_(False))
            if modified_since is not None:
                query = query.where(ResourceRow.updated_at >= modified_since)
            return session.scalar(query) or 0

    def last_modified(self) -> datetime | None:
        with self.sessions() as session:
            return session.scalar(select(func.max(ResourceRow.updated_at)))

    def organizations(self) -> list[tuple[str, str, str | None, int]]:
        """(name, title, IRI, number of published resources) of every organisation."""
        with self.sessions() as session:
            counts = (
                select(ResourceRow.organization_id, func.count(ResourceRow.id).label("n"))
                .where(ResourceRow.deleted.is_(False))
                .group_by(ResourceRow.organization_id)
                .subquery()
            )
            rows = session.execute(
                select(Organization.name, Organization.title, Organization.uri, counts.c.n)
                .outerjoin(counts, counts.c.organization_id == Organization.id)
                .order_by(Organization.title)
            ).all()
            return [(r[0], r[1], r[2], r[3] or 0) for r in rows]

    def organization(self, key: str) -> OrganizationView:
        """An organisation by name or IRI."""
        with self.sessions() as session:
            org = session.scalar(
                select(Organization).where((Organization.name == key) | (Organization.uri == key))
            )
            if org is None:
                raise NotFound(
                    [
                        problem(
                            key,
                            "not-found",
                            f"Keine Organisation {key!r}",
                            f"no organization {key!r}",
                        )
                    ]
                )
            return OrganizationView(org.id, org.name, org.title, org.uri, json.loads(org.record))

    def save_organization(self, name: str, agent: model.Agent, *, create: bool) -> OrganizationView:
        """Create (``create=True``) or update an organisation without touching its datasets."""
        title = model.preferred_text(agent.name)
        if not title:
            raise ValidationError(
                [
                    problem(
                        "title",
                        "mandatory:foaf:name",
                        "Name der Organisation fehlt",
                        "Missing value: title",
                    )
                ]
            )
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            org = session.scalar(select(Organization).where(Organization.name == name))
            if create and org is not None:
                raise ValidationError(
                    [
                        problem(
                            "name",
                            "unique",
                            f"Organisation {name!r} gibt es schon",
                            f"Group name already exists in database: {name}",
                        )
                    ]
                )
            if not create and org is None:
                raise NotFound(
                    [
                        problem(
                            name,
                            "not-found",
                            f"Keine Organisation {name!r}",
                            f"no organization {name!r}",
                        )
                    ]
                )
            if org is None:
                org = Organization(name=name, created_at=now)
                session.add(org)
            org.uri, org.title = agent.uri, title
            org.record = json.dumps(agent.to_dict(), ensure_ascii=False, sort_keys=True)
            org.updated_at = now
            session.flush()
            return OrganizationView(org.id, org.name, org.title, org.uri, agent.to_dict())

    def names_in_bbox(self, min_x: float, min_y: float, max_x: float, max_y: float) -> list[str]:
        """Names of resources whose spatial coverage intersects the box (index, then exact test)."""
        with self.sessions() as session:
            if self.dialect == "postgresql":
                rows = session.execute(
                    text(
                        "SELECT name FROM resources WHERE NOT deleted AND geom && "
                        "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) AND ST_Intersects(geom, "
                        "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)) ORDER BY name"
                    ),
                    {"x0": min_x, "y0": min_y, "x1": max_x, "y1": max_y},
                ).all()
                return [r[0] for r in rows]
            rows = session.execute(
                text(
                    "SELECT r.name, r.geom_wkb FROM resources_bbox b "
                    "JOIN resources r ON r.id = b.id "
                    "WHERE NOT r.deleted AND b.max_x >= :x0 AND b.min_x <= :x1 "
                    "AND b.max_y >= :y0 AND b.min_y <= :y1 ORDER BY r.name"
                ),
                {"x0": min_x, "y0": min_y, "x1": max_x, "y1": max_y},
            ).all()
            window = shapely.box(min_x, min_y, max_x, max_y)
            return [name for name, wkb in rows if shapely.from_wkb(wkb).intersects(window)]

    def explain_bbox_query(self) -> str:
        """The query plan of the bounding-box lookup, to show the index is used."""
        with self.sessions() as session:
            if self.dialect == "postgresql":
                session.execute(text("SET LOCAL enable_seqscan = off"))
                rows = session.execute(
                    text(
                        "EXPLAIN SELECT name FROM resources "
                        "WHERE geom && ST_MakeEnvelope(13, 51, 14, 52, 4326)"
                    )
                ).all()
            else:
                rows = session.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT id FROM resources_bbox "
                        "WHERE max_x >= 13 AND min_x <= 14"
                    )
                ).all()
            return "\n".join(" ".join(str(c) for c in r) for r in rows)


def _touch_collections(session: Session, uris: list[str], now: datetime) -> None:
    """A dataset withdrawn or restored changes what OGC API serves: mark its collections so
    the served configuration is rebuilt."""
    for start in range(0, len(uris), 500):
        session.execute(
            update(DataCollection)
            .where(DataCollection.dataset_uri.in_(uris[start : start + 500]))
            .values(updated_at=now)
        )


def _not_found(key: str) -> NotFound:
    from catalog.errors import problem

    return NotFound([problem(key, "not-found", f"Kein Datensatz {key!r}", f"no dataset {key!r}")])


def _name_candidate(item: model.Resource) -> str:
    for ident in item.identifier:
        if ident and "/" not in ident and len(ident) <= 90:
            return slug(ident)
    if item.uri:
        tail = item.uri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]
        if tail and len(tail) <= 90 and not tail.startswith("?"):
            return slug(tail)
    return slug(model.preferred_text(item.title))


def _normalise(item: model.Node) -> None:
    """Small fixes that make records valid DCAT without changing their meaning (mailto: IRIs)."""
    import dataclasses

    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if f.metadata.get("email") and value and ":" not in value:
            setattr(item, f.name, "mailto:" + value)
        elif f.metadata.get("kind") == model.NODE and value is not None:
            _normalise(value)
        elif f.metadata.get("kind") == model.NODES:
            for child in value:
                _normalise(child)
