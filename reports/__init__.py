"""Review-summary reports and complete exports.

facts.py reads everything a report states from storage (storage/reports.py) into plain
dataclasses; changes.py turns the stored counts into "what changed" sentences; html.py
renders one Jinja2 template (templates/report.html.j2) with plotly's charts inline; pdf.py
prints that same HTML with headless Chromium; exports.py streams every matching row to
CSV, XLSX or JSONL; schedule.py decides when a configured report is due.
"""
