"""The plugin as Stash runs it, Plex to Stash: plays, resume points, ratings, Stash plays sent to Plex."""
