"""What every renderer needs to know about where it renders: the environment, the second time zone, the
dashboard link, and who is on call."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderContext:
    environment: str = "local"
    display_time_zone: str = "Asia/Tokyo"
    dashboard_url: str | None = None
    # the dashboard link is our dashboard's console page, which takes a time range (facts.dashboard_window_url)
    dashboard_in_console: bool = False
    oncall: str | None = None  # the on-call handle a critical alert mentions: <!subteam^S...> or <@U...>
