"""The store's copy of Plex: the path index of the synced libraries, and what the gap report reads beside it."""
