"""Tests of hooks/: Stash's hook contexts turned into intake events."""
