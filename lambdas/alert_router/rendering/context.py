"""What every renderer needs to know about where it renders: the environment, the second time zone, the
dashboard link."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderContext:
    environment: str = "local"
    display_time_zone: str = "Asia/Tokyo"
    dashboard_url: str | None = None
