"""Everything handoff gives the composition root: the bot's port, the gateway's bridge, the desk routes."""
from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.core.escalation import EscalationPolicy
from handoff.acd import ACD
from handoff.bridge import ACDAgentBridge
from handoff.config import HandoffConfig, HandoffSettings, load_handoff_settings
from handoff.desk import Desk, DeskHub
from handoff.kpis import LiveKpis
from handoff.records.base import CallRecordStore
from handoff.records.journal import RecordJournal
from handoff.port import ACDHandoffPort
from handoff.store import create_store
from handoff.store.base import ACDStore


@dataclass
class HandoffService:
    settings: HandoffSettings
    acd: ACD
    port: ACDHandoffPort
    bridge: ACDAgentBridge
    desk: Desk
    journal: RecordJournal | None = None    # the call records, where kept

    def attach(self, app: web.Application) -> None:
        """Serve the desk and supervisor pages and run the distribution loop with the app."""
        self.desk.add_routes(app)
        app.cleanup_ctx.append(self._run)

    async def start(self) -> asyncio.Task:
        for agent in self.settings.agents:
            await self.acd.register_agent(agent)
        return asyncio.create_task(self.acd.run())

    async def _run(self, app: web.Application):
        task = await self.start()
        yield
        self.acd.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            task.cancel()
        await self.bridge.close()
        await self.acd.store.close()
        if self.journal is not None:
            await self.journal.store.close()


def build_handoff(config: HandoffConfig | Mapping | None, data_dir: Path, sensitive_slots: set[str],
                  policy: EscalationPolicy | None = None, store: ACDStore | None = None,
                  records: CallRecordStore | None = None) -> HandoffService:
    """From config.yml's ``helpline: handoff:`` and the escalation policy; HELPLINE_HANDOFF_STORE overrides
    the store (e.g. ``redis://127.0.0.1:6379/0`` for every gateway process of a site). With ``records`` the
    ACD's calls are written to the call records and the supervisor's KPIs come from them."""
    settings = load_handoff_settings(config)
    settings.store = os.environ.get("HELPLINE_HANDOFF_STORE", settings.store)
    policy = policy or EscalationPolicy.from_config(None)
    config = settings.config
    acd = ACD(store or create_store(settings.store, data_dir), config.queues, max_no_answer=config.max_no_answer,
              presence_timeout=config.presence_timeout, default_handle_time=config.default_handle_time)
    hub = DeskHub()
    bridge = ACDAgentBridge(acd, hub, data_dir / "voicemail")
    port = ACDHandoffPort(acd, policy, sensitive_slots, config.vip_priority, config.webhook)
    desk = Desk(acd, hub, bridge, config.alerts.model_dump(), kpi_window=config.kpi_window_hours * 3600)
    journal = None
    if records is not None:
        journal = RecordJournal(records, config.scorecard, acd.clock)
        acd.watchers.append(journal.acd_changed)
        kpis = LiveKpis(records, desk.kpi_window, config.service_level_seconds, acd.clock)
        journal.on_closed.append(kpis.call_closed)
        desk.kpis = kpis.current
    return HandoffService(settings, acd, port, bridge, desk, journal)
