"""Stash → Plex, one batch at a time: the drain loop, the engine that matches and writes each scene (after the
write-safety read), the push pool, the Plex index refresh, and what holds work back (backoff, breaker, pauses)."""
