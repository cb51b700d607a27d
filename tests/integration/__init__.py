"""In-process integration against both emulators, by sync, viewing, tasks and worker."""
