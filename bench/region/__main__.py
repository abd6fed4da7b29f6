"""python -m bench.region build|scan|pages|night ... (see each module's docstring)."""
from __future__ import annotations

import argparse
import json

from bench.common import loadavg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_region"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.region", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="generate the region (bulk SQL)")
    b.add_argument("--url", default=DEFAULT_URL)
    b.add_argument("--ambiti", type=int, default=91)
    b.add_argument("--cases", type=int, default=400_000)
    b.add_argument("--audit", type=int, default=30_000_000)
    b.add_argument("--workers", type=int, default=4, help="social workers per sub-ambito")
    b.add_argument("--fresh", action="store_true", help="rebuild even if already loaded")
    args = parser.parse_args()
    if args.cmd == "build":
        from bench.region.build import build

        before = loadavg()
        out = build(args.url, ambiti=args.ambiti, cases=args.cases, audit=args.audit, workers=args.workers,
                    reuse=not args.fresh)
        out = {k: v for k, v in out.items() if k != "cases_per_ambito"}
        print(json.dumps(out), f"(load {before} before, {loadavg()} after)")


if __name__ == "__main__":
    main()
