"""OGC API (Features, Part 2 CRS, Part 3 CQL2 filtering, Records) through pygeoapi, mounted at
``/ogc/``: the configuration is built from the catalogue and the data store, the providers read
the store directly."""
