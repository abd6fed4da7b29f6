"""Lombardy-scale figures (issue 15 item 4): a generated region, the deadline scan, one Ambito's pages, the night."""
