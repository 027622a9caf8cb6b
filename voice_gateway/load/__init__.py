"""Load generation against a running gateway (`helpline load`): scripted callers, latency, server CPU and memory."""
