"""HTTP client for the internal ML service (the `algorithm` Flask API)."""
