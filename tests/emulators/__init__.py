"""Fidelity of the Plex and Stash emulators and the plugin runner, checked through the real clients."""
