"""The worker process in process: settings refresh, notices, resources, log events."""
