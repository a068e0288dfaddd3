"""Minhu's composition root: settings, logging, persistence, services and the command line."""
