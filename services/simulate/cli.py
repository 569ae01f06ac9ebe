"""`voc simulate`: the command line around simulate(), with a progress display."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from services.simulate.runner import Stats, simulate
from services.simulate.sources import load_sources


def add_parser(sub: Any) -> None:
    """Register `voc simulate` on the `voc` sub-command parser."""
    parser = sub.add_parser(
        "simulate",
        help="post realistic signed feedback through every configured source",
        description="Post realistic feedback (scores, English and Arabic comments, some "
        "redeliveries and late answers) through each source's real webhook format, signed with "
        "its secret; sources and secrets come from DATABASE_URL. Exits 1 if any answer is 5xx.",
    )
    parser.add_argument("--ingest-url", default="http://127.0.0.1:8081", help="ingest base URL")
    parser.add_argument(
        "--source", action="append", default=[], metavar="ID", help="only this source; repeatable"
    )
    parser.add_argument("--rate", type=float, default=10.0, help="deliveries per second")
    parser.add_argument("--count", type=int, help="stop after this many deliveries")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument(
        "--redeliveries", type=float, default=0.05, help="share sent again (default 0.05)"
    )
    parser.add_argument(
        "--late", type=float, default=0.1, help="share answered 1-72 h ago (default 0.1)"
    )
    parser.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    parser.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> None:
    """Run the simulation with a progress display; exit 1 on any 5xx or transport error."""
    from shared.settings import CommonSettings, load

    if args.count is None and args.duration is None:
        raise SystemExit("give --count, --duration or both")
    if args.rate <= 0 or not 0 <= args.redeliveries <= 1 or not 0 <= args.late <= 1:
        raise SystemExit("--rate must be positive; --redeliveries and --late between 0 and 1")
    try:
        sources = load_sources(load(CommonSettings).database_url, args.source)
    except LookupError as exc:
        raise SystemExit(str(exc)) from None
    if not sources:
        raise SystemExit("no enabled sources to simulate; create one with POST /v1/sources")
    names = ", ".join(f"{s.id} ({s.provider})" for s in sources)
    print(f"simulating {names} -> {args.ingest_url}", flush=True)
    show = Progress(sys.stdout)
    result = simulate(
        sources,
        ingest_url=args.ingest_url,
        rate=args.rate,
        count=args.count,
        duration_s=args.duration,
        redelivery_share=args.redeliveries,
        late_share=args.late,
        seed=args.seed,
        progress=show,
        progress_every_s=0.5 if show.tty else 5.0,
    )
    show.done()
    stats = result.stats
    print(f"{len(result.accepted_event_ids)} distinct events acknowledged", flush=True)
    if stats.server_errors or stats.transport_errors:
        raise SystemExit(1)


class Progress:
    """One line rewritten in place on a terminal; a line per report otherwise (logs, CI)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()

    def __call__(self, stats: Stats) -> None:
        """Show the current totals."""
        if self.tty:
            self.out.write("\r\x1b[2K" + stats.line())
        else:
            self.out.write(stats.line() + "\n")
        self.out.flush()

    def done(self) -> None:
        """End the in-place line."""
        if self.tty:
            self.out.write("\n")
            self.out.flush()
