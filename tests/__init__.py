"""PlexSync's tests, in folders by what they prove; conftest.py holds the shared Plex emulator fixture."""
