"""Progress bars measured in audio seconds (as faster-whisper does)."""

from __future__ import annotations

import math
import sys
from typing import Any

from tqdm import tqdm


class AudioBar:
    """A tqdm bar over a recording's duration; ``update_to(t)`` moves it to ``t`` seconds."""

    def __init__(self, total_s: float, desc: str, *, enabled: bool = True, **kw: Any) -> None:
        self.total = round(total_s, 1)
        self.bar = tqdm(
            total=self.total,
            desc=desc,
            unit="s",
            unit_scale=False,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s audio "
            "[{elapsed}<{remaining}]",
            disable=not enabled,
            file=sys.stderr,
            dynamic_ncols=True,
            **kw,
        )

    def update_to(self, t: float) -> None:
        t = self.total if math.isinf(t) else min(round(t, 1), self.total)
        if t > self.bar.n:
            self.bar.update(t - self.bar.n)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> AudioBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
