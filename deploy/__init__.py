"""Packaging and deployment helpers (make package / make deploy)."""
