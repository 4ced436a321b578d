"""HTTP layer: blueprints that validate, call one function, and shape JSON."""
