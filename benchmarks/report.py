"""One line per figure: name, value, unit, and where it has one the ceiling and the ratio."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    ceiling: float | None = None
    ratio: float | None = None
    note: str = ""

    def line(self) -> str:
        text = f"{self.name:44} {_number(self.value):>12} {self.unit}"
        if self.ceiling is not None:
            text += f"   ceiling {_number(self.ceiling)} {self.unit}"
        if self.ratio is not None:
            text += f"   ratio {self.ratio:.3f}"
        if self.note:
            text += f"   ({self.note})"
        return text


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == int(value) and abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


@dataclass
class Report:
    """What a run found; printed as it comes in, so a long run shows its progress."""

    out: TextIO = sys.stdout
    figures: list[Figure] = field(default_factory=list)
    # EXPLAIN output and other text that is not a number, by name
    texts: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        ceiling: float | None = None,
        note: str = "",
    ) -> Figure:
        ratio = value / ceiling if ceiling else None
        figure = Figure(name, float(value), unit, ceiling, ratio, note)
        self.figures.append(figure)
        self.out.write(figure.line() + "\n")
        self.out.flush()
        return figure

    def text(self, name: str, body: str) -> None:
        self.texts[name] = body
        indented = "\n".join("    " + line for line in body.splitlines())
        self.out.write(f"{name}:\n{indented}\n")
        self.out.flush()

    def write_json(self, path: Path, meta: dict[str, Any]) -> None:
        figures = {
            f.name: {k: v for k, v in asdict(f).items() if k != "name"} for f in self.figures
        }
        body = {"meta": meta, "figures": figures, "texts": self.texts}
        # NaN is not JSON: a figure that could not be measured is null, with its note
        text = json.dumps(body, indent=2, default=str).replace("NaN", "null")
        path.write_text(text + "\n", encoding="utf-8")
