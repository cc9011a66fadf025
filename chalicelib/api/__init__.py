"""HTTP routes that are more than one line of wiring, as Chalice blueprints."""
