"""The Plex Media Server emulator: an XML server on loopback that plexapi talks to as to a real PMS."""
