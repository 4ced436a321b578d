"""textclf: a command-line client for the textclf API."""
