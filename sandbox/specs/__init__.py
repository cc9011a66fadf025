"""Vendored API specifications and contract-check helpers for the stand-ins."""
