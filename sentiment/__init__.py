"""Sentiment: scoring models, training, evaluation, aspects, triage."""
