"""Call quality: the scorecard checked automatically at the end of each call and filled in by supervisors."""
