"""Info dicts shaped like yt-dlp's real answers (YouTube, SoundCloud), standing in for the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

INFODICTS = Path(__file__).parent


def load_info(name: str) -> dict[str, Any]:
    return json.loads((INFODICTS / f"{name}.json").read_text(encoding="utf-8"))
