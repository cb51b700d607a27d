"""Exactly-once ledgers: plays and ratings put into Stash, and the posters given to collections."""
