"""Tests of bot/providers, against the local fake model server."""
