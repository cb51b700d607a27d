"""One worker process: what a run is built from (settings, store, clients), the lease it holds, and the detached
worker a hook starts."""
