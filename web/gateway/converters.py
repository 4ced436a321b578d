VERSION_RE = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,99}$"


class ModelVersionConverter:
    """A model version id, e.g. "20261127T010203Z-3fa2c1": one path segment, no leading dot,
    so nothing that reaches the ML service can name another directory."""

    regex = VERSION_RE.strip("^$")

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
