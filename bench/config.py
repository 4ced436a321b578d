"""What one bench run measures and where, read from the environment in this one place.

BENCH_QUICK=1 keeps every row but shrinks the sizes so that a run takes a few minutes; the full
run is the one BENCHMARKS.md reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from textclf_ops.settings import EnvironSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_ROWS = 63_436  # rows of the Debian corpus; larger sizes replicate it with perturbations
TRAINING_SIZES = (1_000, 5_000, 20_000, REAL_ROWS)
SECTIONS = ("data_insert", "training", "predict_in_process", "http_predict", "batch", "data_list")


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    quick: bool
    data_csv: Path
    output: Path
    project: str
    http_port: int
    db_port: int
    keep_stack: bool
    sections: tuple[str, ...]
    linear_svc_sizes: tuple[int, ...]
    svc_sizes: tuple[int, ...]
    svc_cap_seconds: float
    insert_rows: int
    list_rows: int
    in_process_texts: int
    http_seconds: float
    http_concurrency: tuple[int, ...]
    batch_requests: int
    list_requests: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BenchConfig:
        env = BenchEnv.from_env(environ)
        quick = env.bench_quick
        return cls(
            quick=quick,
            data_csv=env.data_csv,
            output=env.bench_output,
            project=env.bench_project,
            http_port=env.bench_http_port,
            db_port=env.bench_db_port,
            keep_stack=env.bench_keep_stack,
            sections=env.bench_sections,
            linear_svc_sizes=env.bench_linear_svc_sizes
            or ((1_000, 5_000) if quick else (*TRAINING_SIZES, 600_000, 1_000_000)),
            svc_sizes=env.bench_svc_sizes or ((1_000,) if quick else TRAINING_SIZES),
            svc_cap_seconds=env.bench_svc_cap_seconds,
            insert_rows=5_000 if quick else 50_000,
            list_rows=100_000 if quick else 1_000_000,
            in_process_texts=300 if quick else 3_000,
            http_seconds=env.bench_http_seconds or (3.0 if quick else 20.0),
            http_concurrency=(1, 8, 32),
            batch_requests=10 if quick else 50,
            list_requests=10 if quick else 30,
        )

    @property
    def serving_size(self) -> int:
        """The linear_svc size whose model the predict rows use: the whole real corpus."""
        return max(size for size in self.linear_svc_sizes if size <= REAL_ROWS)


class BenchEnv(EnvironSettings):
    """The variables bench/run documents (through the services' settings library)."""

    bench_quick: bool = False
    bench_sections: tuple[str, ...] = SECTIONS
    data_csv: Path = REPO_ROOT.parent / "shared" / "data" / "debian-packages.csv.gz"
    bench_output: Path = REPO_ROOT / "bench-results" / "latest.md"
    bench_project: str = "textclf-bench"
    bench_http_port: int = Field(default=18090, ge=1, le=65535)
    bench_db_port: int = Field(default=18091, ge=1, le=65535)
    bench_keep_stack: bool = False
    # Training sizes, e.g. BENCH_LINEAR_SVC_SIZES=20000,63436 (for re-measuring a few rows);
    # empty: the run's own sizes.
    bench_linear_svc_sizes: tuple[int, ...] = ()
    bench_svc_sizes: tuple[int, ...] = ()
    bench_svc_cap_seconds: float = Field(default=600.0, gt=0)
    # None: 3 s when quick, else 20 s.
    bench_http_seconds: float | None = Field(default=None, gt=0)

    @field_validator("bench_sections", "bench_linear_svc_sizes", "bench_svc_sizes", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return tuple(item.strip() for item in value.split(",")) if isinstance(value, str) else value

    @field_validator("bench_sections")
    @classmethod
    def _known_sections(cls, sections: tuple[str, ...]) -> tuple[str, ...]:
        if unknown := set(sections) - set(SECTIONS):
            raise ValueError(f"unknown {sorted(unknown)}; choose from {SECTIONS}")
        return sections
