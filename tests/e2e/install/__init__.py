"""Installing PlexSync as a user does: the release zip, Stash's package manager, missing packages, Stash releases."""
