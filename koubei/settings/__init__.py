"""The model of koubei.toml: one typed table (a msgspec Struct) per section.

types.py holds what the tables are made of (durations, time zones, quiet hours,
environment variable names), sections.py and alerts.py the tables, errors.py
turns a value that does not fit into one line naming the file, the table, the
key, the value and what is expected. The option tables of [sources.NAME] are
declared by each source module (collectors/options.py has their shared base).
koubei/config.py finds and reads the file.
"""
