"""``pychrony tracking``: print chronyd's tracking report as ``chronyc -n tracking`` does, or JSON.

Exit status: 0 when chronyd is synchronised, 1 when it is not, 2 on an error (message on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from ._api import DEFAULT_TIMEOUT, ChronyConnection, _check_timeout
from ._errors import ChronyError
from ._models import LEAP_STATUS_TEXT, TrackingStatus

__all__ = ["format_tracking", "main"]

EXIT_SYNCHRONISED = 0
EXIT_NOT_SYNCHRONISED = 1
EXIT_ERROR = 2


def _ref_time_text(ref_time: float) -> str:
    # chronyc prints the whole seconds of the reference time in UTC.
    return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(math.floor(ref_time)))


def format_tracking(status: TrackingStatus) -> str:
    """The report in ``chronyc -n tracking``'s layout, one line per field, with a final newline.

    Signs follow chronyc (checked against chronyc 4.3): a positive current correction means the
    clock is "slow" of NTP time (zero or negative: "fast"); a positive frequency means the clock
    runs "fast" (zero or negative: "slow").
    """
    offset_dir = "slow" if status.offset > 0.0 else "fast"
    freq_dir = "fast" if status.frequency > 0.0 else "slow"
    lines = [
        f"Reference ID    : {status.reference_id:08X} ({status.reference_id_name})",
        f"Stratum         : {status.stratum}",
        f"Ref time (UTC)  : {_ref_time_text(status.ref_time)}",
        f"System time     : {abs(status.offset):.9f} seconds {offset_dir} of NTP time",
        f"Last offset     : {status.last_offset:+.9f} seconds",
        f"RMS offset      : {status.rms_offset:.9f} seconds",
        f"Frequency       : {abs(status.frequency):.3f} ppm {freq_dir}",
        f"Residual freq   : {status.residual_freq:+.3f} ppm",
        f"Skew            : {status.skew:.3f} ppm",
        f"Root delay      : {status.root_delay:.9f} seconds",
        f"Root dispersion : {status.root_dispersion:.9f} seconds",
        f"Update interval : {status.update_interval:.1f} seconds",
        f"Leap status     : {LEAP_STATUS_TEXT.get(status.leap_status, 'Invalid')}",
    ]
    return "\n".join(lines) + "\n"


def _read(address: str | None, timeout: float) -> TrackingStatus:
    # The library's own address grammar: a socket path, or a UDP command port address.
    with ChronyConnection(address, timeout=timeout) as conn:
        return conn.get_tracking()


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return _check_timeout(value)  # the API's own rule, so the two never disagree
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds > 0 and < 2**64: {text!r}"
        ) from None


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2 (argparse prints the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pychrony",
        description="Read chronyd's monitoring data.",
        epilog="Exit status: 0 synchronised, 1 not synchronised, 2 error.",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    tracking = commands.add_parser(
        "tracking",
        help="print the tracking report (like `chronyc -n tracking`)",
        description="Print chronyd's tracking report, like `chronyc -n tracking`.",
    )
    tracking.add_argument(
        "--socket",
        metavar="ADDRESS",
        help="chronyd's Unix socket path, or a UDP command port address such as 127.0.0.1:323 "
        "(default: /run/chrony/chronyd.sock, then /var/run/chrony/chronyd.sock)",
    )
    tracking.add_argument("--json", action="store_true", help="print one JSON object")
    tracking.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds to wait for chronyd's reply (default {DEFAULT_TIMEOUT:g})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status = _read(args.socket, args.timeout)
    except ChronyError as exc:
        print(f"pychrony: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    if args.json:
        record = dataclasses.asdict(status)
        record["synchronized"] = status.is_synchronized()
        record["leap_pending"] = status.is_leap_pending()
        print(json.dumps(record, indent=2))
    else:
        sys.stdout.write(format_tracking(status))
    return EXIT_SYNCHRONISED if status.is_synchronized() else EXIT_NOT_SYNCHRONISED
