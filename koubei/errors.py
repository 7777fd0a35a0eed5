"""One named exception per kind of failure, so runners can record and carry on."""

from __future__ import annotations


class KoubeiError(Exception):
    """Base class: a failure that koubei reports to the user with its message."""


class Stopped(Exception):
    """A stop was asked for (SIGTERM in `koubei watch`) while work was under way: it ended at a
    safe point, nothing half-written. Not a failure: the next run goes on from what is stored."""


class ConfigError(KoubeiError):
    """koubei.toml or an environment variable is missing or wrong."""


class ImportFileError(KoubeiError):
    """A file to import is malformed; the message names the file, row and column."""


class CollectorError(KoubeiError):
    """A source failed; `source` names it."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class SourceBlocked(CollectorError):
    """The site refused us (403, 412, captcha, login wall)."""


class SourceUnavailable(CollectorError):
    """Timeouts, 5xx, connection errors that outlasted the retries."""


class ParseError(CollectorError):
    """A body that is not the format the source is known to send."""


class LayoutChanged(ParseError):
    """A non-empty page yielded zero items: the site changed its markup or schema."""
