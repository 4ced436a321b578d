"""Models on disk and in memory: signed, versioned artifacts and the model an API process serves."""
