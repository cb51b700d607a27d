"""The command line and the demo as a person runs them in a terminal."""
