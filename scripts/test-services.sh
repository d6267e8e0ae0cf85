#!/usr/bin/env bash
# Make sure the services the tests talk to are installed and running: PostgreSQL 15 with PostGIS
# from Debian's packages, GDAL's command-line tools (ogrinfo, ogr2ogr, for the OGC API tests) and
# Mosquitto (the MQTT tests start brokers of their own on free ports).
# As root it installs and starts them; otherwise it says what is missing.
set -u
as_root() { [ "$(id -u)" = 0 ]; }
missing=()
for pkg in postgresql-15 postgresql-15-postgis-3 gdal-bin cgi-mapserver mosquitto; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if as_root; then
    echo "installing ${missing[*]} (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  fi
fi
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -q; then
  if as_root && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect 15 main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
  fi
fi
if command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -q; then
  echo "PostgreSQL is ready on 127.0.0.1:5432"
else
  echo "PostgreSQL is not running on 127.0.0.1:5432; its tests will be skipped (or fail in CI)" >&2
fi
exit 0
