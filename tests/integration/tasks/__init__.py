"""Tasks in process: Sync All, preview, gaps, drift, counts and figures."""
