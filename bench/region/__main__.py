"""python -m bench.region build|scan|pages|night ... (each part's module docstring says what it measures)."""
from __future__ import annotations

import argparse
import json

from bench.common import loadavg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_region"
SINGLE_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_region_single"


def main() -> None:
    from bench.region.build import AS_OF

    parser = argparse.ArgumentParser(prog="python -m bench.region", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="generate the region (bulk SQL)")
    b.add_argument("--url", default=DEFAULT_URL)
    b.add_argument("--ambiti", type=int, default=91)
    b.add_argument("--cases", type=int, default=400_000)
    b.add_argument("--audit", type=int, default=30_000_000)
    b.add_argument("--workers", type=int, default=4, help="social workers per sub-ambito")
    b.add_argument("--fresh", action="store_true", help="rebuild even if already loaded")
    s = sub.add_parser("scan", help="the deadline sweep over every open deadline")
    s.add_argument("--url", default=DEFAULT_URL)
    s.add_argument("--rounds", type=int, default=2)
    s.add_argument("--per-transaction", type=int, default=0,
                   help="deadlines per sweep transaction (0: services.sweep.PER_TRANSACTION)")
    sc = sub.add_parser("scan-child")
    sc.add_argument("--url", default=DEFAULT_URL)
    sc.add_argument("--as-of", default=AS_OF.isoformat())
    sc.add_argument("--per-transaction", type=int, default=0,
                    help="deadlines per sweep transaction (0: services.sweep.PER_TRANSACTION)")
    p = sub.add_parser("pages", help="one Ambito's pages: region against a one-Ambito instance")
    p.add_argument("--url", default=DEFAULT_URL)
    p.add_argument("--single-url", default=SINGLE_URL)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--depth", type=int, default=20, help="«Pagina successiva» links followed for the deep page")
    p.add_argument("--only", default=None, help="only the pages whose role, label or url contain this")
    n = sub.add_parser("night", help="sweep + obligations + tallies per Ambito with N worker processes")
    n.add_argument("--url", default=DEFAULT_URL)
    n.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    n.add_argument("--limit", type=int, default=None, help="only the K biggest Ambiti")
    w = sub.add_parser("worker")
    w.add_argument("--url", default=DEFAULT_URL)
    w.add_argument("--name", required=True)
    w.add_argument("--as-of", default=AS_OF.isoformat())
    w.add_argument("--whole", action="store_true")
    args = parser.parse_args()
    if args.cmd == "build":
        from bench.region.build import build

        before = loadavg()
        out = build(args.url, ambiti=args.ambiti, cases=args.cases, audit=args.audit, workers=args.workers,
                    reuse=not args.fresh)
        out = {k: v for k, v in out.items() if k != "cases_per_ambito"}
        print(json.dumps(out), f"(load {before} before, {loadavg()} after)")
    elif args.cmd == "scan":
        from bench.region.scan import scan

        print(json.dumps(scan(args.url, AS_OF.isoformat(), args.rounds, args.per_transaction)))
    elif args.cmd == "scan-child":
        from bench.region.scan import child

        print(json.dumps(child(args.url, args.as_of, args.per_transaction)))
    elif args.cmd == "pages":
        from bench.region.pages import compare

        out = compare(args.url, args.single_url, args.rounds, depth=args.depth, repeats=args.repeats,
                      only=args.only)
        print(json.dumps(out["data"]))
        for r in out["rows"]:
            print(json.dumps(r, default=str))
    elif args.cmd == "night":
        from bench.region.night import night

        for k in args.workers:
            print(json.dumps(night(args.url, k, AS_OF.isoformat(), args.limit)), flush=True)
    elif args.cmd == "worker":
        from bench.region.night import worker

        print(json.dumps(worker(args.url, args.name, args.as_of, args.whole)))


if __name__ == "__main__":
    main()
