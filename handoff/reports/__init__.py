"""Supervisor reports: KPIs over a date range, the traffic pattern, and the staff plan, from the call records."""
