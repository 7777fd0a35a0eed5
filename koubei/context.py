"""What every CLI command gets: the settings and a way to open the store."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a command reads them: `koubei --help` needs neither
    from koubei.config import Settings  # the settings' model, msgspec
    from storage import Store  # duckdb and pyarrow


@dataclass
class AppContext:
    config_path: Path | None = None
    db: Path | None = None
    _settings: Settings | None = None
    # Set to ask long work to end at its next safe point (`koubei watch` on SIGTERM): whole batches only.
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from koubei.settings.effective import load_effective_settings  # koubei.toml and the saved settings

            self._settings = load_effective_settings(self.config_path, self.db)
        return self._settings

    def reload_settings(self) -> Settings:
        """Read the settings again (`koubei watch`, each pass: a setting saved meanwhile takes effect);
        when they do not load, the ones read before stay."""
        from koubei.settings.effective import load_effective_settings

        self._settings = load_effective_settings(self.config_path, self.db)
        return self._settings

    def open_store(self, read_only: bool = False) -> Store:
        """A short-lived connection; see storage/db.py for why."""
        from storage import open_store

        return open_store(self.settings.location, read_only=read_only)
