"""`fuelrl backends`: list the simulator backends found through the ``fuelrl.simulators`` entry points."""

from __future__ import annotations

import argparse

from fuelrl import registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--names", action="store_true", help="print only the names, one per line")


def run(args: argparse.Namespace) -> int:
    infos = registry.entries()
    if args.names:
        for info in infos:
            print(info.name)
        return 0
    rows = [("NAME", "DISTRIBUTION", "DEVICES", "DESCRIPTION")]
    for info in infos:
        dist = f"{info.distribution} {info.version}".strip()
        rows.append((info.name, dist, ",".join(info.devices), info.description))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])
    if not infos:
        print("(no simulator backends found)")
    return 0
