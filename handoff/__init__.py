"""Skill queues, routing and the agent desk: built in the handoff issue; plugs into ``bot.core.handoff_port``."""
