"""The store on both backends: writes, reads, names, organisations, paging, the bbox index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from catalog import model
from catalog.errors import NotFound
from catalog.store import Store

LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"


def make(
    i: int, *, geometry: str | None = None, publisher: str = "Umweltamt", **kw: object
) -> model.Dataset:
    return model.Dataset(
        uri=f"http://x.test/dataset/{i}",
        identifier=[f"datensatz-{i}"],
        title={"de": f"Straßenbäume {i}", "en": f"Street trees {i}"},
        description={"de": "Bäume an Straßen", "en": "Trees along streets"},
        publisher=model.Agent(uri=f"https://www.dresden.de/{publisher}", name={"de": publisher}),
        keywords=[model.LangStr("Bäume", "de"), model.LangStr("Grün", "de")],
        spatial=[model.Location(geometry=geometry)] if geometry else [],
        distributions=[
            model.Distribution(
                uri=f"http://x.test/dataset/{i}/csv",
                access_urls=["http://x.test/f.csv"],
                license=LICENCE,
            )
        ],
        **kw,  # type: ignore[arg-type]
    )


def test_save_and_get_by_name_uri_and_uuid(store: Store) -> None:
    result = store.save([make(1), make(2)])
    assert result.created == ["datensatz-1", "datensatz-2"] and result.updated == []
    stored = store.get("datensatz-1")
    assert stored.uri == "http://x.test/dataset/1"
    assert store.get(stored.uri).name == store.get(stored.uuid).name == "datensatz-1"
    assert stored.record == make(1)
    assert stored.organization == "umweltamt"
    assert stored.title == "Straßenbäume 1"
    with pytest.raises(NotFound):
        store.get("datensatz-3")


def test_update_by_iri_keeps_name_and_uuid(store: Store) -> None:
    store.save([make(1)])
    before = store.get("datensatz-1")
    changed = make(1)
    changed.title = {"de": "Neuer Titel"}
    result = store.save([changed])
    after = store.get("datensatz-1")
    assert result.updated == ["datensatz-1"]
    assert (after.uuid, after.name) == (before.uuid, before.name)
    assert after.title == "Neuer Titel" and "Neuer Titel" in after.ttl
    assert store.count() == 1


def test_names_are_unique_and_ascii(store: Store) -> None:
    a, b = make(1), make(2)
    a.identifier = b.identifier = ["Größe & Maß"]
    store.save([a, b])
    names = sorted(r.name for r in store.iter_resources())
    assert names == ["groesse-mass", "groesse-mass-2"]


def test_blank_node_resources_get_an_iri_of_ours(store: Store) -> None:
    item = make(1)
    item.uri = None
    store.save([item])
    (stored,) = list(store.iter_resources())
    assert stored.uri == f"{store.base_url}/dataset/datensatz-1"


def test_organisations_are_counted(store: Store) -> None:
    store.save([make(1), make(2), make(3, publisher="Stadtplanungsamt")])
    orgs = {name: (title, count) for name, title, _uri, count in store.organizations()}
    assert orgs == {"umweltamt": ("Umweltamt", 2), "stadtplanungsamt": ("Stadtplanungsamt", 1)}


def test_delete_withdraws_but_keeps(store: Store) -> None:
    store.save([make(1), make(2)])
    store.delete("datensatz-1")
    assert store.count() == 1
    with pytest.raises(NotFound):
        store.get("datensatz-1")
    store.save([make(1)])  # saving it again restores it
    assert store.count() == 2


def test_paging_is_stable_and_complete(store: Store) -> None:
    store.save([make(i) for i in range(1, 24)])
    seen = []
    for offset in range(0, 30, 5):
        seen += [r.name for r in store.iter_resources(offset=offset, limit=5, chunk=2)]
    assert len(seen) == 23 == len(set(seen))
    assert [r.name for r in store.iter_resources(chunk=4)] == seen


def test_modified_since(store: Store) -> None:
    store.save([make(1)])
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert store.count_since(None) == 1
    assert store.count_since(later) == 0
    assert list(store.iter_resources(modified_since=later)) == []


DRESDEN = "POLYGON((13.58 50.97, 13.97 50.97, 13.97 51.18, 13.58 51.18, 13.58 50.97))"
LEIPZIG = '{"type": "Point", "coordinates": [12.37, 51.34]}'
L_SHAPE = "POLYGON((13.0 50.0, 14.0 50.0, 14.0 50.1, 13.1 50.1, 13.1 51.0, 13.0 51.0, 13.0 50.0))"


def test_spatial_coverage_is_indexed_and_exact(store: Store) -> None:
    store.save(
        [
            make(1, geometry=DRESDEN),
            make(2, geometry=LEIPZIG),
            make(3, geometry=L_SHAPE),
            make(4),
        ]
    )
    stored = store.get("datensatz-1")
    assert stored.bbox == pytest.approx((13.58, 50.97, 13.97, 51.18))
    assert store.names_in_bbox(13.7, 51.0, 13.8, 51.1) == ["datensatz-1"]
    assert store.names_in_bbox(12.0, 51.0, 12.5, 51.5) == ["datensatz-2"]
    assert store.names_in_bbox(10.0, 45.0, 15.0, 55.0) == [
        "datensatz-1",
        "datensatz-2",
        "datensatz-3",
    ]
    # inside the L's bounding box but outside the L itself: the exact test drops it
    assert store.names_in_bbox(13.5, 50.5, 13.6, 50.6) == []
    assert "datensatz-4" not in store.names_in_bbox(-180, -90, 180, 90)


def test_bbox_index_follows_updates_and_deletes(store: Store) -> None:
    store.save([make(1, geometry=DRESDEN)])
    store.save([make(1, geometry=LEIPZIG)])
    assert store.names_in_bbox(13.7, 51.0, 13.8, 51.1) == []
    assert store.names_in_bbox(12.0, 51.0, 12.5, 51.5) == ["datensatz-1"]
    store.delete("datensatz-1")
    assert store.names_in_bbox(12.0, 51.0, 12.5, 51.5) == []


def test_bbox_query_uses_the_spatial_index(store: Store) -> None:
    plan = store.explain_bbox_query()
    if store.dialect == "postgresql":
        assert "ix_resources_geom" in plan
    else:
        assert "VIRTUAL TABLE INDEX" in plan


def newest_migration() -> str:
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("catalog") / "migrations"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_schema_is_made_by_alembic_and_upgrade_is_idempotent(store: Store) -> None:
    store.upgrade()
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == newest_migration()
    tables = set(inspect(store.engine).get_table_names())
    assert {"resources", "organizations", "catalog_info"} <= tables
    if store.dialect == "postgresql":
        columns = {c["name"] for c in inspect(store.engine).get_columns("resources")}
        assert "geom" in columns


def test_catalog_record_is_kept(store: Store) -> None:
    assert store.catalog() is None
    catalog = model.Catalog(
        uri="http://x.test/catalog", title={"de": "Katalog"}, description={"de": "D"}
    )
    store.save([make(1)], catalog=catalog)
    assert store.catalog() == catalog
