"""Shared fixtures. Keep helpers for one area in that area's conftest."""
