"""`python -m koubei` is the `koubei` command."""

from koubei.cli import run

run()
