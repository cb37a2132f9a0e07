"""Pure rendering: message splitting, summaries and transcripts."""
