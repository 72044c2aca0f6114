"""API routes for social value reports (to be filled in by the reports work)."""
