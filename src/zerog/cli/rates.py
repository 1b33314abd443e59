"""``zerog rate-limit``: show, set or remove rate limits (at most N jobs start per period
per name, across every worker). A refused value exits 1 with one line saying why."""

from __future__ import annotations

import argparse
from contextlib import closing

from rich.text import Text

from zerog.cli._common import EXIT_OK, Commands, add_json, add_url, open_store
from zerog.cli._flags import add_flag
from zerog.cli.output import console, print_json


def add_parser(commands: Commands) -> None:
    """Register ``rate-limit``."""
    text = "show or set how many jobs of a name may start per period"
    parser = commands.add_parser("rate-limit", help=text, description=text[0].upper() + text[1:])
    add_url(parser)
    add_json(parser)
    parser.set_defaults(handler=_rate_limit)
    parser.add_argument("name", metavar="NAME", nargs="?", help="queue:<queue> or a throttle")
    parser.add_argument("maximum", metavar="N", nargs="?", type=int, help="starts per period")
    add_flag(
        parser, "--per", kind=float, default=1.0, env="ZEROG_RATE_PER", help="the period, seconds"
    )
    add_flag(parser, "--unset", switch=True, help="remove the rate limit NAME")


def _rate_limit(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        if args.name is not None and (args.unset or args.maximum is not None):
            store.set_rate_limit(args.name, None if args.unset else args.maximum, per=args.per)
        rates: dict[str, tuple[int, float] | None] = dict(store.rate_limits())
    if args.name is not None:
        rates = {args.name: rates.get(args.name)}
    if args.json:
        print_json(
            {
                "rate_limits": {
                    name: None if rate is None else {"maximum": rate[0], "per": rate[1]}
                    for name, rate in rates.items()
                }
            }
        )
        return EXIT_OK
    for name, rate in sorted(rates.items()):
        shown = "no rate limit" if rate is None else f"{rate[0]} per {rate[1]:g}s"
        console().print(Text(f"{name}: {shown}"))
    return EXIT_OK
