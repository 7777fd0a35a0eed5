"""The sources, one module each: `collectors.base.registry()` finds every collector defined here.

A new source is a module here (its collector with a `read_page`, a `fetch` and a `Demo`),
a saved response to test it on, and a test file.
"""
