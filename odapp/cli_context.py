"""What every ``odapp`` command gets: the settings and, on first use, the upgraded store."""

from __future__ import annotations

import click

from catalog.store import Store
from odapp.settings import Settings, SettingsError, load_settings


class Context:
    def __init__(self) -> None:
        try:
            self.settings: Settings = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.database_url, self.settings.base_url)
            self._store.upgrade()
        return self._store


pass_ctx = click.make_pass_decorator(Context, ensure=True)
