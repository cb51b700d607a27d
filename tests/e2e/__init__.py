"""End to end: the plugin run as Stash runs it against both emulators, by sync, viewing, tasks, cli and install."""
