"""Images PlexSync gives Plex beside a scene's own cover: collection posters and performer photos."""
