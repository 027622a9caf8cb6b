"""Helpline's composition root: the CLI and the app that wire bot, voice gateway and handoff together."""
