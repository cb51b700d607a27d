"""The fault matrix: hostile input, misbehaving Plex and Stash, concurrent runs, and what each leaves a user with."""
