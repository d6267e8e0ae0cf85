"""ogc_api: built in a later issue; see ../shared/ARCHITECTURE.md."""
