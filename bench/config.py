"""What one bench run measures and where, read from the environment in this one place.

BENCH_QUICK=1 keeps every row but shrinks the sizes so that a run takes a few minutes; the full
run is the one BENCHMARKS.md reports.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
        env = os.environ if environ is None else environ
        quick = env.get("BENCH_QUICK", "0") == "1"
        sections = tuple(env.get("BENCH_SECTIONS", ",".join(SECTIONS)).split(","))
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            raise ValueError(f"BENCH_SECTIONS: unknown {sorted(unknown)}; choose from {SECTIONS}.")
        return cls(
            quick=quick,
            data_csv=Path(
                env.get("DATA_CSV", REPO_ROOT.parent / "shared" / "data" / "debian-packages.csv.gz")
            ),
            output=Path(env.get("BENCH_OUTPUT", REPO_ROOT / "bench-results" / "latest.md")),
            project=env.get("BENCH_PROJECT", "textclf-bench"),
            http_port=int(env.get("BENCH_HTTP_PORT", "18090")),
            db_port=int(env.get("BENCH_DB_PORT", "18091")),
            keep_stack=env.get("BENCH_KEEP_STACK", "0") == "1",
            sections=sections,
            linear_svc_sizes=_sizes(
                env,
                "BENCH_LINEAR_SVC_SIZES",
                (1_000, 5_000) if quick else (*TRAINING_SIZES, 600_000),
            ),
            svc_sizes=_sizes(env, "BENCH_SVC_SIZES", (1_000,) if quick else TRAINING_SIZES),
            svc_cap_seconds=float(env.get("BENCH_SVC_CAP_SECONDS", "600")),
            insert_rows=5_000 if quick else 50_000,
            list_rows=100_000 if quick else 1_000_000,
            in_process_texts=300 if quick else 3_000,
            http_seconds=float(env.get("BENCH_HTTP_SECONDS", "3" if quick else "20")),
            http_concurrency=(1, 8, 32),
            batch_requests=10 if quick else 50,
            list_requests=10 if quick else 30,
        )

    @property
    def serving_size(self) -> int:
        """The linear_svc size whose model the predict rows use: the whole real corpus."""
        return max(size for size in self.linear_svc_sizes if size <= REAL_ROWS)


def _sizes(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Training sizes from e.g. BENCH_LINEAR_SVC_SIZES=20000,63436 (for re-measuring a few rows)."""
    raw = env.get(name, "").strip()
    return tuple(int(size) for size in raw.split(",")) if raw else default
