"""The agent desktop's backend: the REST API (``/api/v1``) used by agents, supervisors, units and
administrators."""
