"""Tests for bot/store against a real SQLite file."""
