"""ServiceState: what the service manager says about BRENT's service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceState:
    installed: bool
    running: bool
    pid: int | None = None
    detail: str = ""
