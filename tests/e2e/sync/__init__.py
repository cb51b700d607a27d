"""The plugin as Stash runs it: hooks, the worker, kills and outages, what reaches Plex."""
