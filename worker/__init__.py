"""Everything after intake: syncing scenes to Plex (sync), reading Stash (stash), plays and ratings back
(viewing), collection and actor art (artwork), the tasks, the command line, and the worker process."""
