"""The `koubei` commands, one module per group, each with its help text; koubei/cli.py mounts them.

A command module imports only typer, the standard library and light koubei modules at import
time; everything heavy (duckdb, pandas, numpy, rich tables, the models ...) is imported inside
the command that uses it, so `koubei --help` and the light commands start fast.
"""
