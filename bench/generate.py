"""Synthetic DCAT-AP.de 3.0 catalogues of a German municipality, for benchmarks.

``generate_catalog(n, seed, start)`` returns one Turtle document (built as text, no rdflib) with
one dcat:Catalog and the datasets ``start`` .. ``start + n - 1``. Every dataset depends only on
``(seed, index)``, so a catalogue can be produced in chunks that together equal the whole one.

    python bench/generate.py 10000 out.ttl [--seed 1] [--start 0]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

BASE = "https://opendata.example-stadt.de"
CATALOG_IRI = f"{BASE}/catalog"
CITY = "Landeshauptstadt Beispielstadt"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
LICENSES = "http://dcat-ap.de/def/licenses/"

PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "dcatde": "http://dcat-ap.de/def/dcatde/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "locn": "http://www.w3.org/ns/locn#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# (German title, English title, slug, EU data themes, keywords, typical columns)
TOPICS: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("Straßenbäume", "Street trees", "strassenbaeume", ("ENVI",),
     ("Straßenbäume", "Baumkataster", "Stadtbäume", "Grünflächen"),
     ("Baumart", "Pflanzjahr", "Stammumfang", "Kronendurchmesser", "Straßenname")),
    ("Haltestellen des ÖPNV", "Public transport stops", "haltestellen", ("TRAN",),
     ("Haltestellen", "ÖPNV", "Straßenbahn", "Busverkehr", "Mobilität"),
     ("Haltestellenname", "Linie", "Steig", "Barrierefreiheit", "Koordinaten")),
    ("Luftqualität", "Air quality", "luftqualitaet", ("ENVI", "HEAL"),
     ("Luftqualität", "Stickstoffdioxid", "Feinstaub", "Ozon", "Luftschadstoffe"),
     ("Messstation", "Messwert in µg/m³", "Schadstoff", "Zeitstempel")),
    ("Einwohner nach Stadtteilen", "Residents by district", "einwohner", ("SOCI", "REGI"),
     ("Einwohner", "Bevölkerung", "Demografie", "Statistik", "Altersstruktur"),
     ("Stadtteil", "Altersgruppe", "Geschlecht", "Staatsangehörigkeit", "Anzahl")),
    ("Wahlergebnisse der Stadtratswahl", "City council election results", "wahlergebnisse",
     ("GOVE",), ("Wahlergebnisse", "Wahlen", "Stadtrat", "Wahlbeteiligung", "Wahlbezirke"),
     ("Wahlbezirk", "Wahlberechtigte", "Wähler", "Stimmen je Partei", "ungültige Stimmen")),
    ("Schulen", "Schools", "schulen", ("EDUC",),
     ("Schulen", "Bildung", "Grundschulen", "Oberschulen", "Gymnasien"),
     ("Schulname", "Schulart", "Schülerzahl", "Träger", "Adresse")),
    ("Radverkehrszählungen", "Cycle traffic counts", "radverkehr", ("TRAN",),
     ("Radverkehr", "Fahrradverkehr", "Zählstellen", "Mobilität", "Verkehrswende"),
     ("Zählstelle", "Fahrräder je Stunde", "Richtung", "Wochentag", "Witterung")),
    ("Kindertageseinrichtungen", "Day-care centres", "kitas", ("EDUC", "SOCI"),
     ("Kita", "Kindertagesbetreuung", "Krippe", "Hort", "Familie"),
     ("Einrichtung", "Träger", "Plätze", "Öffnungszeiten", "Betreuungsform")),
    ("Parkplätze und Parkhäuser", "Car parks", "parkplaetze", ("TRAN",),
     ("Parken", "Parkhäuser", "Parkleitsystem", "Stellplätze"),
     ("Parkhaus", "Stellplätze gesamt", "freie Stellplätze", "Tarif", "Zeitstempel")),
    ("Baustellen im Straßennetz", "Road works", "baustellen", ("TRAN",),
     ("Baustellen", "Straßensperrungen", "Verkehr", "Umleitungen"),
     ("Straße", "Beginn", "Ende", "Art der Maßnahme", "Einschränkung")),
    ("Spielplätze", "Playgrounds", "spielplaetze", ("SOCI",),
     ("Spielplätze", "Freizeit", "Familie", "Grünflächen"),
     ("Name", "Fläche in m²", "Spielgeräte", "Altersgruppe", "Barrierefreiheit")),
    ("Grünflächen und Parkanlagen", "Green spaces and parks", "gruenflaechen", ("ENVI",),
     ("Grünflächen", "Parks", "Stadtgrün", "Erholung", "Klimaanpassung"),
     ("Name", "Fläche in m²", "Pflegeklasse", "Gemarkung", "Flurstück")),
    ("Lärmkartierung", "Noise mapping", "laermkartierung", ("ENVI", "HEAL"),
     ("Lärm", "Umgebungslärm", "Lärmaktionsplan", "Straßenverkehrslärm"),
     ("Pegelklasse", "LDEN in dB(A)", "LNight in dB(A)", "Lärmquelle")),
    ("Hochwassergefahrenkarten", "Flood hazard maps", "hochwasser", ("ENVI",),
     ("Hochwasser", "Hochwasserschutz", "Überschwemmungsgebiete", "Elbe"),
     ("Jährlichkeit", "Wassertiefe", "Überflutungsfläche", "Gewässer")),
    ("Bebauungspläne", "Development plans", "bebauungsplaene", ("REGI",),
     ("Bebauungspläne", "Stadtplanung", "Bauleitplanung", "Baurecht"),
     ("Plannummer", "Planname", "Rechtskraft", "Verfahrensstand", "Geltungsbereich")),
    ("Denkmalliste", "List of monuments", "denkmale", ("EDUC", "REGI"),
     ("Denkmalschutz", "Kulturdenkmale", "Baudenkmale", "Stadtgeschichte"),
     ("Objekt", "Adresse", "Datierung", "Denkmalart", "Schutzgrund")),
    ("Haushaltsplan", "Budget", "haushalt", ("ECON", "GOVE"),
     ("Haushalt", "Finanzen", "Haushaltsplan", "Erträge", "Aufwendungen"),
     ("Produktbereich", "Ertrag", "Aufwand", "Planansatz", "Haushaltsjahr")),
    ("Gewerbeanmeldungen", "Business registrations", "gewerbe", ("ECON",),
     ("Gewerbe", "Wirtschaft", "Gewerbeanmeldungen", "Unternehmen"),
     ("Monat", "Wirtschaftszweig", "Anmeldungen", "Abmeldungen", "Stadtteil")),
    ("Arbeitslosigkeit", "Unemployment", "arbeitslosigkeit", ("ECON", "SOCI"),
     ("Arbeitsmarkt", "Arbeitslose", "Statistik", "Beschäftigung"),
     ("Stadtteil", "Arbeitslose", "Quote", "Geschlecht", "Altersgruppe")),
    ("Energieverbrauch städtischer Gebäude", "Energy consumption of municipal buildings",
     "energieverbrauch", ("ENER",), ("Energie", "Strom", "Wärme", "Klimaschutz", "Gebäude"),
     ("Gebäude", "Stromverbrauch in kWh", "Wärmeverbrauch in kWh", "Wasserverbrauch in m³")),
    ("Ladesäulen für Elektrofahrzeuge", "EV charging stations", "ladesaeulen", ("ENER", "TRAN"),
     ("Elektromobilität", "Ladesäulen", "Ladeinfrastruktur", "Energie"),
     ("Standort", "Betreiber", "Ladepunkte", "Leistung in kW", "Steckertyp")),
    ("Bibliotheksausleihen", "Library loans", "bibliothek", ("EDUC",),
     ("Bibliotheken", "Ausleihen", "Medien", "Kultur", "Lesen"),
     ("Zweigstelle", "Medienart", "Ausleihen", "Monat")),
    ("Verkehrsunfälle", "Traffic accidents", "verkehrsunfaelle", ("TRAN", "JUST"),
     ("Verkehrsunfälle", "Verkehrssicherheit", "Unfallatlas", "Verkehr"),
     ("Unfallkategorie", "Unfallart", "Beteiligte", "Lichtverhältnisse", "Straßenzustand")),
    ("Abfuhrtermine der Müllabfuhr", "Waste collection dates", "abfuhrtermine", ("ENVI",),
     ("Abfall", "Müllabfuhr", "Biotonne", "Gelbe Tonne", "Papiertonne"),
     ("Straße", "Hausnummer", "Tonnenart", "Abfuhrtag", "Turnus")),
    ("Wertstoffhöfe und Glascontainer", "Recycling centres and bottle banks", "wertstoffe",
     ("ENVI",), ("Wertstoffe", "Glascontainer", "Recycling", "Abfallwirtschaft"),
     ("Standort", "Containerart", "Öffnungszeiten", "Koordinaten")),
    ("Straßenverzeichnis", "Street directory", "strassenverzeichnis", ("REGI",),
     ("Straßen", "Straßennamen", "Adressen", "Geodaten"),
     ("Straßenschlüssel", "Straßenname", "Stadtteil", "Postleitzahl", "Benennungsdatum")),
    ("Hausnummern und Adressen", "House numbers and addresses", "adressen", ("REGI",),
     ("Adressen", "Hausnummern", "Hauskoordinaten", "Geodaten"),
     ("Straßenname", "Hausnummer", "Zusatz", "Postleitzahl", "Rechtswert", "Hochwert")),
    ("Öffentliche Toiletten", "Public toilets", "toiletten", ("HEAL", "SOCI"),
     ("Toiletten", "Barrierefreiheit", "Öffentlicher Raum"),
     ("Standort", "Öffnungszeiten", "Gebühr", "barrierefrei", "Wickeltisch")),
    ("Sportstätten", "Sports facilities", "sportstaetten", ("EDUC", "HEAL"),
     ("Sport", "Sporthallen", "Sportplätze", "Vereine", "Freizeit"),
     ("Anlage", "Art", "Größe", "Belegung", "Träger")),
    ("Bäder und Schwimmhallen", "Swimming pools", "baeder", ("HEAL",),
     ("Bäder", "Schwimmhallen", "Freibäder", "Sport", "Freizeit"),
     ("Bad", "Besucher", "Wassertemperatur", "Öffnungszeiten")),
    ("Gewässergüte", "Water quality", "gewaesserguete", ("ENVI",),
     ("Gewässer", "Wasserqualität", "Gewässergüte", "Umwelt"),
     ("Messstelle", "Parameter", "Messwert", "Einheit", "Probenahmedatum")),
    ("Pegelstände der Elbe", "Water levels of the Elbe", "pegelstaende", ("ENVI",),
     ("Pegel", "Elbe", "Hochwasser", "Wasserstand"),
     ("Pegel", "Wasserstand in cm", "Abfluss in m³/s", "Zeitstempel")),
    ("Geburten und Sterbefälle", "Births and deaths", "geburten-sterbefaelle", ("SOCI", "HEAL"),
     ("Geburten", "Sterbefälle", "Bevölkerung", "Statistik"),
     ("Jahr", "Monat", "Geburten", "Sterbefälle", "Stadtteil")),
    ("Wanderungsbewegungen", "Migration flows", "wanderungen", ("SOCI",),
     ("Zuzüge", "Fortzüge", "Umzüge", "Bevölkerung"),
     ("Herkunft", "Ziel", "Altersgruppe", "Anzahl")),
    ("Mietspiegel", "Rent index", "mietspiegel", ("ECON", "SOCI"),
     ("Mietspiegel", "Wohnen", "Mieten", "Wohnungsmarkt"),
     ("Baujahresklasse", "Wohnfläche", "Nettokaltmiete je m²", "Wohnlage")),
    ("Bodenrichtwerte", "Standard land values", "bodenrichtwerte", ("ECON",),
     ("Bodenrichtwerte", "Grundstücke", "Gutachterausschuss", "Immobilien"),
     ("Zone", "Bodenrichtwert in €/m²", "Nutzungsart", "Stichtag")),
    ("Digitale Orthophotos", "Digital orthophotos", "orthophotos", ("REGI",),
     ("Luftbilder", "Orthophotos", "Geodaten", "Befliegung"),
     ("Kachel", "Bodenauflösung", "Aufnahmedatum")),
    ("Fußgängerzählungen in der Innenstadt", "Pedestrian counts in the city centre",
     "fussgaenger", ("TRAN", "ECON"), ("Fußgänger", "Passantenfrequenz", "Innenstadt", "Handel"),
     ("Zählstelle", "Passanten je Stunde", "Wochentag", "Wetter")),
    ("Sitzungen des Stadtrats", "City council meetings", "ratsinfo", ("GOVE",),
     ("Stadtrat", "Ratsinformationssystem", "Beschlüsse", "Ausschüsse"),
     ("Gremium", "Sitzungsdatum", "Tagesordnungspunkt", "Beschluss")),
    ("Veranstaltungskalender", "Event calendar", "veranstaltungen", ("EDUC",),
     ("Veranstaltungen", "Kultur", "Termine", "Freizeit"),
     ("Titel", "Beginn", "Ende", "Veranstaltungsort", "Kategorie")),
    ("Einsätze der Feuerwehr", "Fire brigade operations", "feuerwehr", ("JUST", "GOVE"),
     ("Feuerwehr", "Brandschutz", "Rettungsdienst", "Einsätze"),
     ("Einsatzart", "Alarmzeit", "Stadtteil", "Dauer")),
    ("Stadtteil- und Stadtbezirksgrenzen", "District boundaries", "stadtteilgrenzen",
     ("REGI", "GOVE"), ("Stadtteile", "Stadtbezirke", "Verwaltungsgrenzen", "Geodaten"),
     ("Stadtteilnummer", "Stadtteilname", "Stadtbezirk", "Fläche in km²")),
    ("Wochenmärkte", "Weekly markets", "wochenmaerkte", ("AGRI", "ECON"),
     ("Märkte", "Wochenmarkt", "Regionale Produkte", "Einkaufen"),
     ("Markt", "Wochentag", "Uhrzeit", "Anzahl Stände")),
]

# ~30 Ämter: (name, slug); topics pick one by index, with some randomness
AEMTER: list[tuple[str, str]] = [
    ("Amt für Stadtgrün und Abfallwirtschaft", "stadtgruen-abfall"),
    ("Straßen- und Tiefbauamt", "strassen-tiefbau"),
    ("Umweltamt", "umweltamt"),
    ("Kommunale Statistikstelle", "statistik"),
    ("Bürgeramt", "buergeramt"),
    ("Schulverwaltungsamt", "schulverwaltung"),
    ("Amt für Kindertagesbetreuung", "kindertagesbetreuung"),
    ("Stadtplanungsamt", "stadtplanung"),
    ("Amt für Geodaten und Kataster", "geodaten-kataster"),
    ("Ordnungsamt", "ordnungsamt"),
    ("Brand- und Katastrophenschutzamt", "brandschutz"),
    ("Gesundheitsamt", "gesundheitsamt"),
    ("Sozialamt", "sozialamt"),
    ("Amt für Wirtschaftsförderung", "wirtschaftsfoerderung"),
    ("Stadtkämmerei", "kaemmerei"),
    ("Amt für Kultur und Denkmalschutz", "kultur-denkmalschutz"),
    ("Eigenbetrieb Sportstätten", "sportstaetten"),
    ("Städtische Bibliotheken", "bibliotheken"),
    ("Amt für Hochbau und Immobilienverwaltung", "hochbau-immobilien"),
    ("Bauaufsichtsamt", "bauaufsicht"),
    ("Amt für Stadtentwicklung und Stadterneuerung", "stadtentwicklung"),
    ("Wahlbehörde", "wahlbehoerde"),
    ("Amt für Presse- und Öffentlichkeitsarbeit", "presseamt"),
    ("Jugendamt", "jugendamt"),
    ("Amt für Mobilität und Verkehrsplanung", "mobilitaet"),
    ("Amt für Wohnen und Liegenschaften", "wohnen-liegenschaften"),
    ("Gutachterausschuss für Grundstückswerte", "gutachterausschuss"),
    ("Ratsbüro und Gremiendienst", "ratsbuero"),
    ("Amt für Digitalisierung und Organisation", "digitalisierung"),
    ("Eigenbetrieb Märkte und Veranstaltungen", "maerkte-veranstaltungen"),
]
_TOPIC_AMT = [0, 24, 2, 3, 21, 5, 24, 6, 24, 1, 0, 0, 2, 2, 7, 15, 14, 13, 3, 18, 24, 17, 9,
              0, 0, 8, 8, 4, 16, 16, 2, 2, 4, 3, 25, 26, 8, 13, 27, 29, 10, 8, 29]

DISTRICTS = [
    "Altstadt", "Neustadt", "Blasewitz", "Loschwitz", "Pieschen", "Klotzsche", "Prohlis",
    "Leuben", "Cotta", "Plauen", "Striesen", "Löbtau", "Gorbitz", "Weißig", "Hellerau",
    "Südvorstadt", "Johannstadt", "Friedrichstadt", "Mickten", "Laubegast", "Großzschachwitz",
    "Bühlau", "Gruna", "Seidnitz", "Trachau", "Übigau", "Kaditz", "Räcknitz", "Strehlen",
    "Weißer Hirsch", "Langebrück", "Schönfeld", "Cossebaude", "Gompitz", "Mobschatz",
]
MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
GENERIC_KEYWORDS = [
    "Open Data", "Stadtverwaltung", "Statistik", "Geodaten", "Umwelt", "Verkehr", "Mobilität",
    "Bevölkerung", "Bildung", "Klimaschutz", "Stadtplanung", "Öffentlicher Raum", "Gesundheit",
    "Kultur", "Freizeit", "Wirtschaft", "Soziales", "Infrastruktur", "Karten", "Zeitreihe",
]
FREQUENCIES = [
    ("ANNUAL", "jährlich", "annually"), ("MONTHLY", "monatlich", "monthly"),
    ("QUARTERLY", "vierteljährlich", "quarterly"), ("WEEKLY", "wöchentlich", "weekly"),
    ("DAILY", "täglich", "daily"), ("IRREG", "unregelmäßig", "irregularly"),
    ("UPDATE_CONT", "laufend", "continuously"), ("BIENNIAL", "alle zwei Jahre", "every two years"),
]
LICENSE_CHOICES = [
    ("dl-by-de/2.0", "Datenlizenz Deutschland – Namensnennung – Version 2.0"),
    ("dl-zero-de/2.0", "Datenlizenz Deutschland – Zero – Version 2.0"),
    ("cc-by/4.0", "Creative Commons Namensnennung 4.0 International"),
    ("cc-zero", "Creative Commons CC Zero"),
    ("cc-by-sa/4.0", "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0"),
]
# EU file type, IANA media type, extension
FORMATS = [
    ("CSV", "text/csv", "csv"), ("JSON", "application/json", "json"),
    ("GEOJSON", "application/geo+json", "geojson"),
    ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("PDF", "application/pdf", "pdf"), ("XML", "application/xml", "xml"),
    ("ZIP", "application/zip", "zip"), ("SHP", "application/vnd.shp", "shp.zip"),
    ("KML", "application/vnd.google-earth.kml+xml", "kml"),
    ("GPKG", "application/geopackage+sqlite3", "gpkg"),
    ("ODS", "application/vnd.oasis.opendocument.spreadsheet", "ods"),
]
_FORMAT_WEIGHTS = [30, 14, 10, 10, 8, 6, 5, 5, 3, 4, 5]

DE_SENTENCES = [
    "Der Datensatz enthält {topic} für {where} mit Stand {month} {year}.",
    "Die Daten werden von der Dienststelle „{amt}“ erhoben, geprüft und {freq} aktualisiert.",
    "Erfasst werden unter anderem die Merkmale {cols}.",
    "Die Spalte „{col}“ ist für alle Einträge gefüllt; fehlende Werte sind leer gelassen.",
    "Grundlage der Veröffentlichung ist ein Beschluss des Stadtrats über offene Verwaltungsdaten.",
    "Bei Weiterverwendung nennen Sie bitte die {city} als Quelle; die Lizenz gilt für alle "
    "Dateien des Datensatzes.",
    "Die Geometrien liegen ursprünglich in ETRS89 / UTM Zone 33N (EPSG:25833) vor und wurden "
    "für die Veröffentlichung nach WGS 84 umgerechnet.",
    "Hinweis: Einzelne Werte können durch Rundung oder nachträgliche Korrekturen von früher "
    "veröffentlichten Zahlen abweichen.",
    "Personenbezogene Daten wurden vor der Veröffentlichung entfernt oder so weit "
    "zusammengefasst, dass kein Rückschluss auf einzelne Personen möglich ist.",
    "Für Fragen zu Inhalt und Aktualität wenden Sie sich bitte an: {amt}.",
    "Die Zeitreihe beginnt im Jahr {start} und wird seitdem ohne Unterbrechung fortgeschrieben.",
    "Im Stadtteil {district} liegt der Schwerpunkt der Erhebung, da dort besonders viele "
    "Straßen und Plätze umgestaltet werden.",
    "Ältere Jahrgänge stehen auf Anfrage im Stadtarchiv zur Verfügung.",
    "Die Maßzahlen beziehen sich auf den Gebietsstand vom 1. Januar {year}.",
    "Größere Änderungen der Methodik sind in der beigefügten Beschreibung dokumentiert.",
    "Die Übernahme in Fachverfahren ist über die maschinenlesbaren Formate möglich; die "
    "PDF-Fassung dient nur der Ansicht.",
    "Insgesamt umfasst der Datensatz rund {count} Einträge aus {n_districts} Stadtteilen.",
    "Die Daten stammen aus einem Fachverfahren ({amt}) und werden nächtlich exportiert.",
    "Die Qualitätssicherung erfolgt nach dem Vier-Augen-Prinzip; Auffälligkeiten werden mit "
    "den Fachämtern geklärt, bevor die Daten veröffentlicht werden.",
    "Straßennamen werden in der amtlichen Schreibweise mit ß und Umlauten geführt, z. B. "
    "Königsbrücker Straße oder Große Meißner Straße.",
]
EN_SENTENCES = [
    "This dataset contains {topic} for {where} as of {month} {year}.",
    "The data are collected by the {amt_en} and updated {freq}.",
    "Among other things it records {n_cols} attributes per entry.",
    "Please credit the city as the source when reusing the data.",
    "Geometries were transformed from ETRS89 / UTM zone 33N to WGS 84 for publication.",
    "Personal data were removed or aggregated before publication.",
    "The time series starts in {start} and is continued without interruption.",
    "Older years are available from the city archive on request.",
    "In total the dataset holds about {count} records from {n_districts} districts.",
]


def _esc(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r"))


def _lit(text: str, lang: str | None = None) -> str:
    return f'"{_esc(text)}"' + (f"@{lang}" if lang else "")


def _polygon(rnd: random.Random) -> str:
    """A simple (star-shaped) polygon inside 13.5–14.0 E / 50.9–51.2 N."""
    rx, ry = rnd.uniform(0.002, 0.12), rnd.uniform(0.002, 0.08)
    cx = rnd.uniform(13.5 + rx, 14.0 - rx)
    cy = rnd.uniform(50.9 + ry, 51.2 - ry)
    k = rnd.randint(4, 12)
    angles = sorted(rnd.uniform(0, 2 * math.pi) for _ in range(k))
    points = []
    for a in angles:
        f = rnd.uniform(0.45, 1.0)
        x = min(14.0, max(13.5, cx + rx * f * math.cos(a)))
        y = min(51.2, max(50.9, cy + ry * f * math.sin(a)))
        points.append(f"{x:.5f} {y:.5f}")
    points.append(points[0])
    return "POLYGON((" + ", ".join(points) + "))"


def _date(rnd: random.Random, first: int, last: int) -> tuple[int, int, int]:
    return rnd.randint(first, last), rnd.randint(1, 12), rnd.randint(1, 28)


def _datetime(rnd: random.Random, year: int) -> str:
    y, m, d = _date(rnd, year, 2025)
    tz = "+02:00" if 4 <= m <= 9 else "+01:00"
    return f"{y:04d}-{m:02d}-{d:02d}T{rnd.randint(6, 19):02d}:{rnd.randint(0, 59):02d}:00{tz}"


def dataset_slug(seed: int, index: int) -> str:
    rnd = random.Random(seed * 1_000_003 + index)
    return TOPICS[rnd.randrange(len(TOPICS))][2] + f"-{index}"


def _dataset(seed: int, index: int, used_amts: set[int]) -> tuple[str, str]:
    """(IRI, Turtle text) of dataset ``index``; depends only on (seed, index)."""
    rnd = random.Random(seed * 1_000_003 + index)
    t = rnd.randrange(len(TOPICS))
    de_topic, en_topic, slug, themes, topic_kw, cols = TOPICS[t]
    iri = f"{BASE}/dataset/{slug}-{index}"
    amt = _TOPIC_AMT[t] if rnd.random() < 0.8 else rnd.randrange(len(AEMTER))
    used_amts.add(amt)
    amt_name, amt_slug = AEMTER[amt]
    year = rnd.randint(2012, 2025)
    month = rnd.randrange(12)
    freq_code, freq_de, freq_en = rnd.choice(FREQUENCIES)
    district = rnd.choice(DISTRICTS)
    where_kind = rnd.random()
    if where_kind < 0.5:
        where_de, where_en, title_where = "das gesamte Stadtgebiet", "the whole city", ""
    else:
        where_de, where_en = f"den Stadtteil {district}", f"the district of {district}"
        title_where = f" in {district}"
    title_de = f"{de_topic}{title_where} {year}"
    title_en = f"{en_topic}{' in ' + district if title_where else ''} {year}"
    start_year = rnd.randint(1990, year)
    values = {
        "topic": de_topic, "where": where_de, "month": MONTHS[month], "year": year,
        "amt": amt_name, "freq": freq_de, "cols": ", ".join(rnd.sample(cols, min(3, len(cols)))),
        "col": rnd.choice(cols), "city": CITY, "start": start_year, "district": district,
        "count": f"{rnd.randint(12, 250_000):,}".replace(",", "."),
        "n_districts": rnd.randint(3, 64),
    }
    long_text = rnd.random() < 0.04
    n_sent = rnd.randint(12, 19) if long_text else rnd.randint(2, 6)
    picks = [0] + rnd.sample(range(1, len(DE_SENTENCES)), n_sent - 1)
    desc_de = " ".join(DE_SENTENCES[i].format(**values) for i in picks)
    values_en = {
        "topic": en_topic[0].lower() + en_topic[1:], "where": where_en,
        "month": MONTHS_EN[month], "year": year,
        "amt_en": f"municipal office ({amt_name})", "freq": freq_en, "n_cols": len(cols),
        "start": start_year, "count": values["count"].replace(".", ","),
        "n_districts": values["n_districts"],
    }
    n_en = min(len(EN_SENTENCES), rnd.randint(8, 9) if long_text else rnd.randint(1, 4))
    picks_en = [0] + rnd.sample(range(1, len(EN_SENTENCES)), n_en - 1)
    desc_en = " ".join(EN_SENTENCES[i].format(**values_en) for i in picks_en)
    kw_pool = list(dict.fromkeys(topic_kw + tuple(rnd.sample(GENERIC_KEYWORDS, 4)) + (district,)))
    keywords = rnd.sample(kw_pool, min(len(kw_pool), rnd.randint(3, 8)))
    n_themes = 2 if len(themes) > 1 and rnd.random() < 0.6 else 1
    iy, im, idd = _date(rnd, 2012, year)
    issued = f"{iy:04d}-{im:02d}-{idd:02d}"
    modified = _datetime(rnd, max(iy, year))
    t_start = f"{start_year:04d}-01-01"
    t_end = f"{year:04d}-12-31"
    availability = "STABLE" if rnd.random() < 0.8 else "AVAILABLE"
    contact_email = f"mailto:opendata.{amt_slug}@example-stadt.de"

    lines = [
        f"<{iri}> a dcat:Dataset ;",
        f"    dcterms:title {_lit(title_de, 'de')}, {_lit(title_en, 'en')} ;",
        f"    dcterms:description {_lit(desc_de, 'de')},",
        f"        {_lit(desc_en, 'en')} ;",
        f'    dcterms:identifier "{slug}-{index}" ;',
        "    dcat:keyword " + ", ".join(_lit(k, "de") for k in keywords) + " ;",
        "    dcat:theme " + ", ".join(f"<{EU}data-theme/{th}>" for th in themes[:n_themes]) + " ;",
        f"    dcterms:publisher <{BASE}/organization/{amt_slug}> ;",
        "    dcat:contactPoint [ a vcard:Organization ;",
        f"        vcard:fn {_lit(amt_name)} ;",
        f"        vcard:hasEmail <{contact_email}> ] ;",
        f'    dcterms:issued "{issued}"^^xsd:date ;',
        f'    dcterms:modified "{modified}"^^xsd:dateTime ;',
        f"    dcterms:accrualPeriodicity <{EU}frequency/{freq_code}> ;",
        f"    dcterms:language <{EU}language/DEU> ;",
        f"    dcterms:accessRights <{EU}access-right/PUBLIC> ;",
        f"    dcatap:availability <{EU}planned-availability/{availability}> ;",
        "    dcatde:politicalGeocodingLevelURI "
        "<http://dcat-ap.de/def/politicalGeocoding/Level/municipality> ;",
        "    dcatde:politicalGeocodingURI "
        "<http://dcat-ap.de/def/politicalGeocoding/municipalityKey/14612000> ;",
        "    dcatde:contributorID <http://dcat-ap.de/def/contributors/freistaatSachsen> ;",
        f"    dcat:landingPage <{iri}.html> ;",
        "    dcterms:temporal [ a dcterms:PeriodOfTime ;",
        f'        dcat:startDate "{t_start}"^^xsd:date ;',
        f'        dcat:endDate "{t_end}"^^xsd:date ] ;',
        "    dcterms:spatial [ a dcterms:Location ;",
        f'        locn:geometry "{_polygon(rnd)}"^^gsp:wktLiteral ] ;',
    ]
    n_dist = rnd.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
    formats = []
    while len(formats) < n_dist:
        f = rnd.choices(FORMATS, weights=_FORMAT_WEIGHTS)[0]
        if f not in formats:
            formats.append(f)
    dist_iris = [f"{iri}/distribution/{k + 1}" for k in range(n_dist)]
    lines.append("    dcat:distribution " + ", ".join(f"<{d}>" for d in dist_iris) + " .")
    lic, _lic_name = rnd.choice(LICENSE_CHOICES)
    for d_iri, (code, media, ext) in zip(dist_iris, formats, strict=True):
        file_url = f"{BASE}/files/{slug}-{index}/{slug}-{year}.{ext}"
        lines += [
            "",
            f"<{d_iri}> a dcat:Distribution ;",
            f"    dcterms:title {_lit(f'{de_topic}{title_where} {year} ({code})', 'de')} ;",
            f"    dcat:accessURL <{iri}.html#download> ;",
            f"    dcat:downloadURL <{file_url}> ;",
            f"    dcterms:license <{LICENSES}{lic}> ;",
            f"    dcatde:licenseAttributionByText {_lit(f'{CITY}, {amt_name}')} ;",
            f"    dcterms:format <{EU}file-type/{code}> ;",
            f"    dcat:mediaType <{IANA}{media}> ;",
            f'    dcat:byteSize "{rnd.randint(800, 250_000_000)}"^^xsd:nonNegativeInteger ;',
            f'    dcterms:modified "{_datetime(rnd, max(iy, year))}"^^xsd:dateTime .',
        ]
    return iri, "\n".join(lines) + "\n"


def _publisher(amt: int) -> str:
    name, slug = AEMTER[amt]
    return (
        f"<{BASE}/organization/{slug}> a foaf:Organization ;\n"
        f"    foaf:name {_lit(name, 'de')} ;\n"
        "    dcterms:type <http://purl.org/adms/publishertype/LocalAuthority> .\n"
    )


def generate_catalog(n: int, seed: int = 1, start: int = 0) -> str:
    """A Turtle catalogue with datasets ``start`` .. ``start + n - 1`` (deterministic)."""
    used: set[int] = set()
    datasets = [_dataset(seed, i, used) for i in range(start, start + n)]
    parts = [f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items()]
    parts.append(
        f"\n<{CATALOG_IRI}> a dcat:Catalog ;\n"
        f"    dcterms:title {_lit(f'Open-Data-Portal der {CITY}', 'de')},"
        f" {_lit('Open data portal of the city', 'en')} ;\n"
        f"    dcterms:description {_lit(f'Offene Daten der Ämter und Eigenbetriebe der {CITY}.', 'de')} ;\n"  # noqa: E501
        f"    dcterms:publisher <{BASE}/organization/stadt> ;\n"
        f"    dcterms:language <{EU}language/DEU> ;\n"
        f"    foaf:homepage <{BASE}/> "
    )
    if datasets:
        parts.append(";\n    dcat:dataset " + ",\n        ".join(f"<{i}>" for i, _ in datasets))
    parts.append(" .\n\n")
    parts.append(
        f"<{BASE}/organization/stadt> a foaf:Organization ;\n"
        f"    foaf:name {_lit(CITY, 'de')} ;\n"
        "    dcterms:type <http://purl.org/adms/publishertype/LocalAuthority> .\n"
    )
    parts += ["\n" + _publisher(a) for a in sorted(used)]
    parts += ["\n" + text for _, text in datasets]
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write a synthetic DCAT-AP.de 3.0 catalogue.")
    ap.add_argument("n", type=int, help="number of datasets")
    ap.add_argument("out", type=Path, help="output Turtle file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="index of the first dataset")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    text = generate_catalog(args.n, args.seed, args.start)
    args.out.write_text(text, encoding="utf-8")
    took = time.perf_counter() - t0
    size = len(text.encode("utf-8"))
    print(f"{args.n} datasets, {size / 1e6:.1f} MB -> {args.out} in {took:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
