"""The pure council core: sessions, formats, prompts and tallies. No Discord, HTTP or SQL."""
