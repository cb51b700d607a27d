"""The PlexSync page, the gaps section and the scene badge in a real headless browser."""
