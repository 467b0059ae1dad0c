"""Pure silence logic: recurring maintenance windows (config) and ad-hoc silences (stored), matched by name.

- A maintenance window repeats on some weekdays between two wall-clock times in a time zone; an end
  before the start crosses midnight (the window starts on the listed day).
- An ad-hoc silence has a shell-style `match` on the alarm name (case-insensitive, like routing
  overrides), a start, an `until`, a reason and who created it.
- While a silence (or a window occurrence) is active a matching alert is not posted; what it suppressed is
  counted per channel and alarm, and summarised once the silence has ended (`summary_due`). The incident
  keys it suppressed are kept too: one still in ALARM when it ends is announced then.
- `new_silence` refuses a pattern that would silence every critical alarm unless `allow_all_critical` is set:
  silencing the pager by a typo (`*`) must be a deliberate act.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)
# Names no real alarm has: a pattern matching all of them matches everything.
_PROBES = ("", "a", "zz-unrelated-0", "peoplebooster-production-alb-5xx", "x" * 40)
MAX_SILENCE = timedelta(days=14)  # a forgotten silence must end on its own


class SilenceError(ValueError):
    """A silence (or a maintenance window in config) is invalid; the message says why."""


@dataclass(frozen=True)
class MaintenanceWindow:
    name: str
    match: str
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time
    time_zone: str = "UTC"

    def occurrence(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence active at `now` as (start, end) in UTC, or None."""
        zone = ZoneInfo(self.time_zone)
        local = now.astimezone(zone)
        for days_back in (0, 1):  # an occurrence crossing midnight started yesterday
            day = local.date() - timedelta(days=days_back)
            if day.weekday() not in self.days:
                continue
            start = datetime.combine(day, self.start, tzinfo=zone)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            end = datetime.combine(end_day, self.end, tzinfo=zone)
            if start <= local < end:
                return start.astimezone(UTC), end.astimezone(UTC)
        return None


@dataclass(frozen=True)
class Silence:
    """An ad-hoc silence, or one occurrence of a maintenance window (kind "window") once it suppressed."""

    id: str
    match: str
    starts_at: float  # epoch seconds
    until: float
    reason: str
    created_by: str
    kind: str = "adhoc"  # adhoc | window
    # channel -> alarm name -> suppressed count
    suppressed: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    keys: tuple[str, ...] = ()  # incident keys suppressed, checked for "still in ALARM" at the end
    summarised: bool = False
    incident_key: str | None = None  # set from this incident's buttons (Slack): told in its thread when it ends
    until_resolved: bool = False  # ends when that incident resolves (`until` is then only the longest it lasts)
    version: int = 0

    def matches(self, alarm_name: str | None) -> bool:
        return alarm_name is not None and fnmatchcase(alarm_name.lower(), self.match.lower())

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.until

    @property
    def suppressed_total(self) -> int:
        return sum(sum(names.values()) for names in self.suppressed.values())

    def summary_due(self, now: float) -> bool:
        return not self.summarised and now >= self.until

    def with_suppressed(self, channel: str, alarm_name: str, key: str) -> Silence:
        counts = {ch: dict(names) for ch, names in self.suppressed.items()}
        per_channel = counts.setdefault(channel, {})
        per_channel[alarm_name] = per_channel.get(alarm_name, 0) + 1
        keys = self.keys if key in self.keys else (*self.keys, key)
        return replace(self, suppressed=counts, keys=keys)

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match": self.match,
            "starts_at": self.starts_at,
            "until": self.until,
            "reason": self.reason,
            "created_by": self.created_by,
            "kind": self.kind,
            "suppressed": {ch: dict(names) for ch, names in self.suppressed.items()},
            "keys": list(self.keys),
            "summarised": self.summarised,
            "incident_key": self.incident_key,
            "until_resolved": self.until_resolved,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], version: int) -> Silence:
        return cls(
            id=str(data["id"]),
            match=str(data["match"]),
            starts_at=float(data["starts_at"]),
            until=float(data["until"]),
            reason=str(data.get("reason", "")),
            created_by=str(data.get("created_by", "")),
            kind=str(data.get("kind", "adhoc")),
            suppressed={
                str(ch): {str(n): int(c) for n, c in names.items()} for ch, names in data["suppressed"].items()
            },
            keys=tuple(str(key) for key in data.get("keys", ())),
            summarised=bool(data.get("summarised", False)),
            incident_key=str(data["incident_key"]) if data.get("incident_key") else None,
            until_resolved=bool(data.get("until_resolved", False)),
            version=version,
        )


def parse_duration(text: str) -> timedelta:
    """ "2h", "90m", "1d", "1h30m" -> timedelta; at most MAX_SILENCE."""
    found = _DURATION.match(text or "")
    if not found or not any(found.groups()):
        raise SilenceError(f"duration {text!r} is not like 2h, 90m, 1d or 1h30m")
    days, hours, minutes = (int(part or 0) for part in found.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0) or duration > MAX_SILENCE:
        raise SilenceError(f"duration must be between 1 minute and {MAX_SILENCE.days} days")
    return duration


def silences_everything(match: str, critical_alarm_names: Collection[str] = ()) -> bool:
    """True when `match` covers every critical alarm we know of, or (whatever we know) any name at all."""
    pattern = match.lower()
    if all(fnmatchcase(probe, pattern) for probe in _PROBES):
        return True
    return bool(critical_alarm_names) and all(fnmatchcase(name.lower(), pattern) for name in critical_alarm_names)


def new_silence(
    *,
    match: str,
    duration: timedelta,
    reason: str,
    created_by: str,
    now: datetime,
    critical_alarm_names: Collection[str] = (),
    allow_all_critical: bool = False,
    silence_id: str | None = None,
) -> Silence:
    """Validate and build an ad-hoc silence starting now."""
    if not match.strip():
        raise SilenceError("a silence needs a non-empty match pattern")
    if not reason.strip():
        raise SilenceError("a silence needs a reason")
    if duration <= timedelta(0) or duration > MAX_SILENCE:
        raise SilenceError(f"duration must be between 1 minute and {MAX_SILENCE.days} days")
    if silences_everything(match, critical_alarm_names) and not allow_all_critical:
        raise SilenceError(
            f"pattern {match!r} silences every critical alarm; pass the explicit flag (allow_all_critical) to do so"
        )
    start = now.timestamp()
    return Silence(
        id=silence_id or uuid.uuid4().hex[:12],
        match=match.strip(),
        starts_at=start,
        until=start + duration.total_seconds(),
        reason=reason.strip(),
        created_by=created_by.strip() or "unknown",
    )


def expired(silence: Silence, now: datetime) -> Silence:
    """The silence ended now (its summary becomes due); an already ended silence is unchanged."""
    return replace(silence, until=min(silence.until, now.timestamp()))


def window_silence(window: MaintenanceWindow, occurrence: tuple[datetime, datetime]) -> Silence:
    """The record kept for one occurrence of a maintenance window (created at its first suppression)."""
    start, end = occurrence
    return Silence(
        id=f"window:{window.name}:{start:%Y-%m-%dT%H:%MZ}",
        match=window.match,
        starts_at=start.timestamp(),
        until=end.timestamp(),
        reason=f"maintenance window {window.name}",
        created_by="config",
        kind="window",
    )


@dataclass(frozen=True)
class SilenceHit:
    silence: Silence  # for a window: the occurrence record (not stored yet when version == 0)
    window: MaintenanceWindow | None = None


def find_silence(
    alarm_name: str | None,
    silences: Collection[Silence],
    windows: Collection[MaintenanceWindow],
    now: datetime,
) -> SilenceHit | None:
    """The first active ad-hoc silence, else the first active maintenance window, matching the alarm name."""
    if alarm_name is None:
        return None
    stamp = now.timestamp()
    for silence in silences:
        if silence.kind == "adhoc" and silence.active(stamp) and silence.matches(alarm_name):
            return SilenceHit(silence)
    for window in windows:
        occurrence = window.occurrence(now) if fnmatchcase(alarm_name.lower(), window.match.lower()) else None
        if occurrence is not None:
            record = window_silence(window, occurrence)
            stored = next((s for s in silences if s.id == record.id), None)
            return SilenceHit(stored or record, window)
    return None


def active_window(
    alarm_name: str | None, windows: Collection[MaintenanceWindow], now: datetime
) -> MaintenanceWindow | None:
    """The first maintenance window active at `now` whose pattern matches the alarm name (webhook mode checks
    this before posting: windows are config, they need no state)."""
    hit = find_silence(alarm_name, (), windows, now)
    return hit.window if hit is not None else None


def parse_windows(items: Any) -> tuple[MaintenanceWindow, ...]:
    """MAINTENANCE_WINDOWS: [{"name", "match", "days": ["sun", ...], "start": "02:00", "end": "04:00",
    "time_zone": "Asia/Tokyo"}]."""
    if not isinstance(items, list):
        raise SilenceError("MAINTENANCE_WINDOWS must be a JSON list")
    windows = []
    for index, item in enumerate(items):
        where = f"MAINTENANCE_WINDOWS[{index}]"
        if not isinstance(item, dict):
            raise SilenceError(f"{where} must be an object")
        try:
            days = tuple(WEEKDAYS.index(str(day).lower()[:3]) for day in item["days"])
            start, end = time.fromisoformat(str(item["start"])), time.fromisoformat(str(item["end"]))
            zone = str(item.get("time_zone") or "UTC")
            ZoneInfo(zone)
            window = MaintenanceWindow(
                name=str(item["name"]), match=str(item["match"]), days=days, start=start, end=end, time_zone=zone
            )
        except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as error:
            raise SilenceError(f"{where}: {type(error).__name__} {error}") from None
        if not window.name or not window.match or not days or start == end:
            raise SilenceError(f"{where} needs a name, a match, days and distinct start/end")
        windows.append(window)
    return tuple(windows)
