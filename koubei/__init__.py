"""koubei: social listening and review monitoring."""

__version__ = "0.1.0"
