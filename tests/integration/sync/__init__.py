"""The sync engine against both emulators in process: the index, write safety, routing, limits."""
