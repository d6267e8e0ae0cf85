"""Loading a catalogue's distributions and describing the result in the catalogue, on both
backends; and the pygeoapi provider, which must be cheap to build."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from catalog import model
from catalog.data_loading import OGC_FEATURES, CatalogueLoader
from catalog.data_store import DataStore
from catalog.store import Store
from ogc_api import registry
from ogc_api.provider import StoreProvider

LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
EU = "http://publications.europa.eu/resource/authority/file-type/"


def _dataset(uri: str, url: str, fmt: str = "CSV") -> model.Dataset:
    return model.Dataset(
        uri=uri,
        identifier=[uri.rsplit("/", 1)[-1]],
        title={"de": "Messungen"},
        description={"de": "Messwerte an drei Orten"},
        publisher=model.Agent(uri="https://www.dresden.de/umweltamt", name={"de": "Umweltamt"}),
        distributions=[
            model.Distribution(
                uri=f"{uri}#csv",
                access_urls=[url],
                download_urls=[url],
                format=f"{EU}{fmt}",
                license=LICENCE,
            )
        ],
    )


def test_sync_adds_the_ogc_distribution_and_coverage_from_the_data(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "messungen.csv"
    path.write_text(
        "datum,ort,wert,lat,lon\n"
        "2023-03-01,A,1.5,51.00,13.70\n"
        "2023-05-31,B,2.5,51.10,13.80\n"
        "2023-04-15,C,,51.05,13.75\n",
        encoding="utf-8",
    )
    uri = f"{store.base_url}/dataset/messungen"
    store.save([_dataset(uri, path.as_uri())])
    loader = CatalogueLoader(store, tmp_path, f"{store.base_url}/ogc")
    outcomes = loader.run()
    assert [(o.collection, o.changed, o.problems) for o in outcomes] == [("messungen", True, [])]

    record = store.get("messungen").record
    assert isinstance(record, model.Dataset)
    ogc = [d for d in record.distributions if OGC_FEATURES in d.conforms_to]
    assert len(ogc) == 1
    assert ogc[0].access_urls == [f"{store.base_url}/ogc/collections/messungen"]
    assert ogc[0].access_services == [f"{store.base_url}/dataset/ogc-api"]
    assert ogc[0].license == LICENCE  # the source distribution's licence
    assert record.temporal[0].start == "2023-03-01" and record.temporal[0].end == "2023-05-31"
    box = record.spatial[0].bbox
    assert box and "13.7 51" in box and "13.8 51.1" in box
    service = store.get("ogc-api").record
    assert isinstance(service, model.DataService) and uri in service.serves_datasets

    # a second run changes nothing: the file is not loaded again, the record not rewritten
    before = store.get("messungen").updated_at
    assert [o.changed for o in loader.run()] == [False]
    assert store.get("messungen").updated_at == before
    assert len([d for d in store.get("messungen").record.distributions if OGC_FEATURES in d.conforms_to]) == 1


def test_a_broken_distribution_is_reported_and_the_others_load(
    store: Store, tmp_path: Path
) -> None:
    good = tmp_path / "gut.csv"
    good.write_text("name,wert\nA,1\n", encoding="utf-8")
    bad = tmp_path / "kaputt.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    base = store.base_url
    store.save([
        _dataset(f"{base}/dataset/gut", good.as_uri()),
        _dataset(f"{base}/dataset/kaputt", bad.as_uri(), "GEOJSON"),
    ])
    outcomes = {o.collection: o for o in CatalogueLoader(store, tmp_path, f"{base}/ogc").run()}
    assert not outcomes["gut"].problems
    assert outcomes["kaputt"].problems and "kaputt.geojson" in outcomes["kaputt"].problems[0].where
    info = DataStore(store.engine).collection("kaputt")
    assert info.table_name is None and info.error is not None


def test_the_provider_is_built_without_touching_the_database(store: Store) -> None:
    registry.register(store)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    definition = {
        "type": "feature",
        "name": "ogc_api.provider.StoreProvider",
        "data": "nosuch",
        "database": store.database_url,
        "columns": [{"name": "wert", "type": "number", "sql": "c0"}],
    }
    for _ in range(100):
        provider = StoreProvider(definition)
    assert statements == []
    assert provider.fields == {"wert": {"type": "number"}}
