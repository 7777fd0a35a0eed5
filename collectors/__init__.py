"""Collectors: one module per source, a shared polite HTTP layer, file import."""
