"""Benchmarks. ``make bench`` runs them all and merges the figures into ``bench/results.json``."""
