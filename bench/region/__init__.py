"""Lombardy-scale figures (issue 15 item 4): a generated region, the deadline scan, one Ambito's pages, the night.

The parts (`python -m bench.region <part> --help`): build.py (the generator), scan.py (the deadline scan),
pages.py (one Ambito's pages against a one-Ambito instance of the same size), night.py (the night with 1 or 2
workers, memory per partition). Figures and the plan for Italy: bench/RESULTS.md, "Region" section.
"""
