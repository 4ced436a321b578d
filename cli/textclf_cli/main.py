"""`textclf`: log in, import, export, train, predict and list models from the command line."""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from textclf_cli import config
from textclf_cli.client import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_REJECTED,
    EXIT_USAGE,
    ApiError,
    Client,
)
from textclf_cli.importer import (
    DEFAULT_BATCH_SIZE,
    Importer,
    ImportStateError,
    StateStore,
    file_sha256,
    server_rows,
)
from textclf_cli.rows import FORMATS, FileFormatError, detect_format, read_rows

PREDICT_BATCH = 1000  # the server's PREDICT_BATCH_MAX default
POLL_SECONDS = 1.0
FINISHED = ("succeeded", "failed")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EPILOG = """exit codes: 0 ok, 1 API error, 2 usage or unreadable file, 3 cannot connect,
4 not authenticated or forbidden, 5 some rows rejected, 6 rate-limited.
environment: TEXTCLF_URL and TEXTCLF_TOKEN override the saved login; TEXTCLF_CA_FILE names
a PEM file of extra certificates to trust (a self-signed staging certificate)."""


class UsageError(Exception):
    pass


def _client(args: argparse.Namespace) -> Client:
    settings = config.load()
    url = (getattr(args, "url", None) or settings.url).rstrip("/")
    if not settings.token:
        raise ApiError("Not logged in: run textclf login (or set TEXTCLF_TOKEN).", exit_code=4)
    return Client(url, settings.token, ca_file=settings.ca_file)


# login ------------------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    settings = config.load()
    url = (args.url or settings.url).rstrip("/")
    username = args.username or input("Username: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
    with Client(url, ca_file=settings.ca_file) as client:
        # Login is throttled: a 429 is reported, not waited out.
        answer = client.post(
            "/api/auth/token/",
            json={"username": username, "password": password},
            wait_on_429=False,
        )
    path = config.save(config.Settings(url=url, token=answer["token"]))
    out.print(f"Logged in to {url} as {username}; token saved in {path}")
    return 0


# import -----------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    fmt = detect_format(path, args.format)
    rows = list(read_rows(path, fmt))
    with _client(args) as client:
        store = StateStore(config.state_dir())
        with _progress(transient=False) as progress:
            task = progress.add_task(f"Importing {path.name}", total=len(rows))
            importer = Importer(
                client,
                store,
                batch_size=args.batch_size,
                on_progress=lambda done: progress.update(task, completed=done),
            )
            try:
                summary = importer.run(
                    path=path,
                    rows=rows,
                    sha256=file_sha256(path),
                    resume=args.resume,
                    restart=args.restart,
                    skip_existing=args.skip_existing,
                )
            except ApiError as exc:
                exc.message += (
                    f" Batches already acknowledged are kept: textclf import {path} --resume"
                )
                raise
    if summary.resumed_from and summary.resumed_from == summary.rows:
        out.print("That import had already finished: nothing left to send.")
    elif summary.resumed_from:
        out.print(f"Resumed after row {summary.resumed_from:,} of {summary.rows:,}.")
    parts = [f"Added {_n_rows(summary.added)}", f"rejected {len(summary.rejected):,}"]
    if args.skip_existing:
        parts.append(f"skipped {summary.skipped:,} already on the server")
    out.print(", ".join(parts) + f" (from {summary.rows:,} rows in {path.name}).")
    if summary.rejected:
        table = Table("line", "reason", title="Rejected rows", title_justify="left")
        for line, reason in summary.rejected[: args.show_rejected]:
            table.add_row(str(line), reason)
        out.print(table)
        if len(summary.rejected) > args.show_rejected:
            out.print(f"... and {len(summary.rejected) - args.show_rejected:,} more.")
        return EXIT_REJECTED
    return 0


# export -----------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    with _client(args) as client:
        rows = server_rows(client, args.page_size)
        if not args.output:
            _write_rows(rows, sys.stdout, args.format)
            return 0
        # Written beside the target and renamed: an interrupted export leaves no partial file.
        output = Path(args.output)
        partial = output.with_name(output.name + ".partial")
        with open(partial, "w", encoding="utf-8", newline="") as target:
            count = _write_rows(rows, target, args.format)
        partial.replace(output)
    out.print(f"Exported {count:,} rows to {output}.")
    return 0


def _n_rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def _write_rows(rows: Iterator[dict[str, Any]], target: TextIO, fmt: str) -> int:
    count = 0
    writer = csv.writer(target, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writerow(["text", "label"])
    for row in rows:
        if writer:
            writer.writerow([row["text"], row["label"]])
        else:
            target.write(json.dumps({"text": row["text"], "label": row["label"]}) + "\n")
        count += 1
    return count


# train ------------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job_id = args.job
        if job_id is None:
            try:
                body = {"force": True} if args.force else None
                job_id = client.post("/api/train/", json=body)["job_id"]
                out.print(f"Training started: job {job_id}")
            except ApiError as exc:
                active = exc.body.get("job_id") if isinstance(exc.body, dict) else None
                if not (args.follow and exc.status == 409 and active):
                    raise
                job_id = active
                out.print(f"A training is already running: following job {job_id}")
        if not args.follow:
            return 0
        job = follow_job(client, job_id)
    return _report_job(job)


def follow_job(client: Client, job_id: str, *, poll: float = POLL_SECONDS) -> dict[str, Any]:
    """Poll the job until it ends, showing status and, when the API reports it, its progress
    ({"phase", "done", "total"}); a server without progress fields shows the status alone."""
    with _progress(transient=False, counts=False) as progress:
        task = progress.add_task(f"job {job_id[:8]}", total=None, counts="")
        while True:
            job = client.get(f"/api/train/{job_id}/")
            describe_job_progress(progress, task, job_id, job)
            if job.get("status") in FINISHED:
                return job
            time.sleep(poll)


def job_display(job_id: str, job: dict[str, Any]) -> tuple[str, int | None, int, str]:
    """(description, total, completed, counts) for the live display of one job state."""
    status = str(job.get("status", "?"))
    report = job.get("progress") if isinstance(job.get("progress"), dict) else {}
    phase = report.get("phase")
    done, total = report.get("done"), report.get("total")
    description = f"job {job_id[:8]} {status}"
    if phase and status not in FINISHED:
        description += f": {phase}"
    if status in FINISHED:
        return description, 1, 1, ""
    if isinstance(total, int) and total > 0 and isinstance(done, int):
        return description, total, min(done, total), f"{done:,}/{total:,}"
    return description, None, 0, ""


def describe_job_progress(progress: Progress, task: Any, job_id: str, job: dict) -> None:
    description, total, completed, counts = job_display(job_id, job)
    progress.update(task, description=description, total=total, completed=completed, counts=counts)


def _report_job(job: dict[str, Any]) -> int:
    if job["status"] != "succeeded":
        err.print(f"[red]Training failed:[/red] {job.get('error') or 'no reason given'}")
        return EXIT_API
    metrics = job.get("metrics") or {}
    if job.get("outcome") == "skipped":
        out.print(f"Training skipped: {job.get('note')}")
        return 0
    out.print(
        f"Training succeeded: model {job.get('model_version')}, {job.get('n_samples')} rows, "
        + _metrics_text(metrics)
    )
    if job.get("note"):
        out.print(job["note"])
    return 0


def _metrics_text(metrics: dict[str, Any]) -> str:
    names = (
        ("accuracy", "accuracy"),
        ("f1_macro", "macro-F1"),
        ("precision_weighted", "precision"),
        ("recall_weighted", "recall"),
    )
    shown = [f"{title} {metrics[key]:.3f}" for key, title in names if key in metrics]
    return "held-out " + ", ".join(shown) if shown else "no metrics"


# predict ----------------------------------------------------------------------------------------


def _texts(args: argparse.Namespace) -> list[str]:
    if args.file and args.file != "-":
        texts = Path(args.file).read_text(encoding="utf-8").splitlines()
    elif args.file == "-" or args.text == "-":
        texts = sys.stdin.read().splitlines()
    elif args.text is not None:
        texts = [args.text]
    else:
        raise UsageError("give a TEXT, -f FILE, or - to read texts from stdin (one per line)")
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise UsageError("no texts to predict")
    return texts


def cmd_predict(args: argparse.Namespace) -> int:
    texts = _texts(args)
    predictions: list[dict[str, Any]] = []
    version = None
    with _client(args) as client:
        for start in range(0, len(texts), PREDICT_BATCH):
            chunk = texts[start : start + PREDICT_BATCH]
            answer = client.post("/api/predict/", json={"texts": chunk})
            version = answer.get("model_version")
            for text, prediction in zip(chunk, answer["predictions"], strict=True):
                predictions.append({"text": text, **prediction})
    if args.json:
        print(json.dumps({"model_version": version, "predictions": predictions}, indent=2))
        return 0
    rows = []
    for item in predictions:
        ranked = sorted(item["probabilities"].items(), key=lambda pair: -pair[1])
        best = item["probabilities"].get(item["label"], ranked[0][1] if ranked else 0.0)
        runners = ", ".join(f"{label} {p:.2f}" for label, p in ranked[1 : args.top])
        rows.append([item["text"], item["label"], f"{best:.2f}", runners])
    headers = ["text", "label", "p", f"next {args.top - 1}"]
    if args.top <= 1:
        headers, rows = headers[:3], [row[:3] for row in rows]
    # The text gets what the other columns leave of the terminal (3 per column for borders).
    others = sum(max(len(row[i]) for row in [headers, *rows]) for i in range(1, len(headers)))
    text_width = max(16, out.width - others - 3 * len(headers) - 1)
    table = Table(title=f"model {version}", title_justify="left")
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(_shorten(row[0], text_width), *row[1:])
    out.print(table)
    return 0


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# models -----------------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    with _client(args) as client:
        answer = client.get("/api/models/")
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    results = answer.get("results", [])
    if not results:
        out.print("No models yet: run textclf train.")
        return 0
    table = Table()
    for name in ("", "version", "stage", "rows", "labels", "accuracy", "macro-F1"):
        table.add_column(name, no_wrap=True)
    for model in results[: args.limit]:
        metrics = model.get("metrics") or {}
        table.add_row(
            "*" if model.get("current") else "",
            model["version"],
            str(model.get("stage") or ""),
            str(model.get("n_samples", "")),
            str(len(model.get("labels") or [])),
            f"{metrics['accuracy']:.3f}" if "accuracy" in metrics else "",
            f"{metrics['f1_macro']:.3f}" if "f1_macro" in metrics else "",
        )
    out.print(table)
    if len(results) > args.limit:
        out.print(f"... and {len(results) - args.limit} older (--limit).")
    out.print(
        "* the current (production) model; a candidate waits for the promotion gate or staff; "
        "metrics are on the held-out 25% of the rows."
    )
    return 0


# plumbing ---------------------------------------------------------------------------------------


def _progress(*, transient: bool, counts: bool = True) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if counts else TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=err,
        transient=transient,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textclf",
        description="Command-line client for the textclf API.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="log in and save the token")
    login.add_argument("--url", help=f"server base URL (default: saved, or {config.DEFAULT_URL})")
    login.add_argument("--username", help="(prompted when missing)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    login.set_defaults(handler=cmd_login)

    load = commands.add_parser(
        "import", help="add the text/label rows of a CSV, JSONL or XLSX file"
    )
    load.add_argument("file", help="a .csv, .jsonl or .xlsx file (.csv.gz and .jsonl.gz too)")
    load.add_argument("--format", choices=FORMATS, help="(default: from the file name)")
    load.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per request, all or nothing each (default {DEFAULT_BATCH_SIZE})",
    )
    load.add_argument("--resume", action="store_true", help="continue an interrupted import")
    load.add_argument("--restart", action="store_true", help="forget an interrupted import")
    load.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave out rows whose text and label are already on the server",
    )
    load.add_argument("--show-rejected", type=int, default=50, help=argparse.SUPPRESS)
    load.set_defaults(handler=cmd_import)

    export = commands.add_parser("export", help="write every row as CSV or JSON Lines")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("-o", "--output", help="file to write (default: stdout)")
    export.add_argument("--page-size", type=int, default=1000, help=argparse.SUPPRESS)
    export.set_defaults(handler=cmd_export)

    train = commands.add_parser("train", help="start a training (staff only)")
    train.add_argument("--follow", action="store_true", help="show its progress until it ends")
    train.add_argument("--job", help="follow this job instead of starting one")
    train.add_argument(
        "--force", action="store_true", help="train even if the data has not changed"
    )
    train.set_defaults(handler=cmd_train)

    predict = commands.add_parser("predict", help="predict labels for texts")
    predict.add_argument("text", nargs="?", help="the text, or - for stdin (one text per line)")
    predict.add_argument("-f", "--file", help="a file with one text per line (- for stdin)")
    predict.add_argument("--json", action="store_true", help="print JSON instead of a table")
    predict.add_argument("--top", type=int, default=3, help="labels shown per text (default 3)")
    predict.set_defaults(handler=cmd_predict)

    models = commands.add_parser("models", help="list model versions and held-out metrics")
    models.add_argument("--json", action="store_true")
    models.add_argument("--limit", type=int, default=10, help="newest N shown (default 10)")
    models.set_defaults(handler=cmd_models)

    for sub in (load, export, train, predict, models):
        sub.add_argument("--url", help="server base URL (default: the saved one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "job", None) and not args.follow:
        args.follow = True
    if getattr(args, "batch_size", 1) < 1:
        err.print("textclf: error: --batch-size must be at least 1")
        return EXIT_USAGE
    try:
        return args.handler(args)
    except ApiError as exc:
        print(f"textclf: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except (UsageError, FileFormatError, ImportStateError, OSError) as exc:
        print(f"textclf: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("textclf: interrupted (an import continues with --resume)")
        return 130


__all__ = ["EXIT_AUTH", "main"]
