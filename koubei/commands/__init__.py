"""The `koubei` commands, one module per group, each with its help text; koubei/cli.py mounts them.

A module defines `app = typer.Typer()` and its commands as module-level functions decorated with
`@app.command("name")`; a sub-group is a Typer of its own with `name=` and `help=` (`eval`,
`incidents`). At import time a module imports only typer, the standard library and light koubei
modules; everything heavy (duckdb, pandas, numpy, rich, the models, storage ...) is imported
inside the command that uses it, so `koubei --help` and each command start fast
(tests/test_startup.py checks this, benchmarks/bench_cli.py measures it).
"""
