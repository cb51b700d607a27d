"""The plugin's tasks and page as Stash runs them: preview, gaps, summaries, settings, log events."""
