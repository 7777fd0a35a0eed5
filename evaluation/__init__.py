"""Measuring koubei: accuracy harnesses, NAB scoring and synthetic streams. Not imported at run time."""
