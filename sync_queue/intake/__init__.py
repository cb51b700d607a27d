"""What a hook does with its event and who may act on it: into the store or, when it is busy, a spool file; then
start or wake the one worker; one Stash per data folder."""
