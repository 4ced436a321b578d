"""Training: job records (single flight, lease, fencing), reading the rows, progress, and the run
that composes them (`run`: queued by the API, executed by the worker)."""
