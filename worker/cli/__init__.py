"""``python PlexSync.py <command>``: the tasks outside Stash, and what the command line shows a person."""
