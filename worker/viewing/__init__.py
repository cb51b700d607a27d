"""What people watch and rate, both ways: Plex plays, resume points and ratings into Stash, and Stash plays back to
Plex as watched."""
