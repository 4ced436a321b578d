"""`make bench`: bring up the bench's stack, measure every row of issue 5, print one table.

The sections run in a fixed order that each relies on: the bulk insert starts from an empty
table, the training rows leave the whole-corpus linear_svc model serving for the predict rows,
and the 1M-row listing comes last because it fills the table. A section that crashes becomes a
FAIL row and the run goes on; the stack is removed (down -v) whatever happens, unless
BENCH_KEEP_STACK=1.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
import traceback
from collections.abc import Callable

from bench import database, dataset, report
from bench.config import BenchConfig
from bench.context import Context
from bench.report import Row
from bench.sections import (
    batch,
    data_insert,
    data_list,
    http_predict,
    predict_in_process,
    training,
)
from bench.service_api import PublicApi
from bench.stack import BenchStack

SECTIONS: dict[str, Callable[[Context], list[Row]]] = {
    "data_insert": data_insert.run,
    "training": training.run,
    "predict_in_process": predict_in_process.run,
    "http_predict": http_predict.run,
    "batch": batch.run,
    "data_list": data_list.run,
}

log = logging.getLogger("bench")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so that `finally` removes the stack
    config = BenchConfig.from_env()
    stack = BenchStack.from_config(config)
    started = time.perf_counter()
    log.info("Starting compose project %s (quick=%s)", config.project, config.quick)
    with stack.running(keep=config.keep_stack):
        rows, crashed = _measure(config, stack)

    title = f"make bench{' (BENCH_QUICK=1)' if config.quick else ''}"
    table = report.render(rows, title=title)
    table += f"Run time: {(time.perf_counter() - started) / 60:.1f} min.\n"
    config.output.parent.mkdir(parents=True, exist_ok=True)
    config.output.write_text(table, encoding="utf-8")
    print(table)
    log.info("Wrote %s", config.output)
    return 1 if crashed else 0


def _measure(config: BenchConfig, stack: BenchStack) -> tuple[list[Row], bool]:
    api = PublicApi(stack.base_url)
    api.log_in()
    with database.connect(stack.database_url) as db:
        ctx = Context(
            config=config, stack=stack, api=api, db=db, corpus=dataset.read_corpus(config.data_csv)
        )
        rows: list[Row] = []
        crashed = False
        for name, run_section in SECTIONS.items():
            if name not in config.sections:
                continue
            log.info("Section %s", name)
            section_started = time.perf_counter()
            try:
                section_rows = run_section(ctx)
            except Exception as exc:  # one broken section must not cost the others' rows
                log.error("Section %s crashed:\n%s", name, traceback.format_exc())
                section_rows = [
                    Row(name, "crashed", f"{type(exc).__name__}: {exc}"[:300], "", False)
                ]
                crashed = True
            rows += section_rows
            # Logged as they come, so that an interrupted run still leaves its figures.
            log.info(
                "Section %s took %.0f s:\n%s",
                name,
                time.perf_counter() - section_started,
                report.render_rows(section_rows),
            )
    return rows, crashed


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
