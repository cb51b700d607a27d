"""The tasks a user runs (from Stash's Tasks page, PlexSync's page or the command line) and what they report in words."""
