"""What PlexSync asks of Stash: the reader over stashapi's transport, every GraphQL document, the release it talks to,
and scene titles for messages."""
