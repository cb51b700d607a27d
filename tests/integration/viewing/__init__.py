"""Plex to Stash in process: plays, ratings, and Stash plays that never loop back."""
