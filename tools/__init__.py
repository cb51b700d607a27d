"""Maintainers' tools: building a release (``tools/make_release.py``)."""
