"""Call records: one per call, the history supervisors read."""
