"""Fault-matrix fixtures: the shared emulators, the in-process world and the plugin-run harness."""

from tests.e2e.conftest import harness, plex, stash  # noqa: F401  (plugin runs as Stash does them)
from tests.integration.conftest import world  # noqa: F401  (tasks in-process, for the fast paths)
