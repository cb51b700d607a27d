"""Emulators of Plex, Stash and the way Stash runs and installs a plugin, for the tests, the demo and the
benchmarks: the real plexapi and stashapi clients talk to them over HTTP."""
