"""Tests of sync_queue/: the durable store, its spool, recovery, figures and the owner of a data folder."""
