"""The Stash emulator: a GraphQL server on Stash's real schema (of a chosen release), its image routes, plugin
operations, tasks and the ``ui:`` harness."""
