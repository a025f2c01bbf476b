"""Print the reference-data checks: cities and counties per province against the source,
duplicates, cross-province routing, universities that cover nothing, Tehran's districts.

Standard library only, like tests/test_reference_data.py, which enforces the same rules:
    python3 tools/check_reference_data.py      # exit status 1 when a check fails
"""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"

# (cities, counties) per province in the Statistical Centre of Iran's country divisions of 1402
# (amar.org.ir/geo), the numbered sub-city regions left out. See data/README.md.
SOURCE_COUNTS = {
    "azarbaijan-sharqi": (72, 22),
    "azarbaijan-gharbi": (48, 20),
    "ardabil": (35, 12),
    "isfahan": (114, 28),
    "alborz": (18, 7),
    "ilam": (28, 12),
    "bushehr": (41, 10),
    "tehran": (49, 16),
    "chaharmahal-bakhtiari": (43, 12),
    "khorasan-jonubi": (31, 11),
    "khorasan-razavi": (97, 34),
    "khorasan-shomali": (25, 10),
    "khuzestan": (89, 30),
    "zanjan": (21, 8),
    "semnan": (21, 8),
    "sistan-baluchestan": (55, 26),
    "fars": (124, 37),
    "qazvin": (28, 6),
    "qom": (7, 3),
    "kurdistan": (33, 10),
    "kerman": (85, 25),
    "kermanshah": (35, 14),
    "kohgiluyeh-boyerahmad": (21, 9),
    "golestan": (37, 14),
    "gilan": (56, 17),
    "lorestan": (33, 12),
    "mazandaran": (64, 22),
    "markazi": (34, 12),
    "hormozgan": (49, 13),
    "hamadan": (33, 10),
    "yazd": (25, 12),
}
TEHRAN_DISTRICTS = 22


def read(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def problems() -> list[str]:
    """Every failed check, as one line each (empty when the data is sound)."""
    found: list[str] = []
    provinces = {p["code"]: p for p in read("provinces.csv")}
    universities = {u["code"]: u for u in read("universities.csv")}
    cities = read("cities.csv")
    districts = read("city_districts.csv")

    city_count = Counter(c["province_code"] for c in cities)
    county_count = Counter()
    for province, _county in {(c["province_code"], c["county_fa"]) for c in cities}:
        county_count[province] += 1
    for code in provinces:
        expected = SOURCE_COUNTS.get(code)
        got = (city_count[code], county_count[code])
        if got != expected:
            found.append(f"{code}: (cities, counties) {got}, the source has {expected}")
    for (province, name), n in Counter((c["province_code"], c["name_fa"]) for c in cities).items():
        if n > 1:
            found.append(f"{province}: {name} appears {n} times")
    covered = Counter()
    for c in cities:
        university = universities.get(c["university_code"])
        if university is None:
            found.append(f"{c['province_code']}/{c['name_fa']}: unknown university {c['university_code']}")
            continue
        covered[university["code"]] += 1
        if university["province_code"] != c["province_code"]:
            found.append(f"{c['province_code']}/{c['name_fa']}: routed to {university['code']} in another province")
    by_city = defaultdict(dict)
    for d in districts:
        by_city[(d["province_code"], d["city_fa"])][int(d["district"])] = d["university_code"]
        covered[d["university_code"]] += 1
        if universities.get(d["university_code"], {}).get("province_code") != d["province_code"]:
            found.append(f"district {d['district']} of {d['city_fa']}: routed outside its province")
    if sorted(by_city.get(("tehran", "تهران"), {})) != list(range(1, TEHRAN_DISTRICTS + 1)):
        found.append("Tehran city does not list districts 1-22 exactly once each")
    for code in universities:
        if not covered[code]:
            found.append(f"{code} covers no city and no district")
    return found


def main() -> int:
    cities = read("cities.csv")
    print(
        f"{len(cities)} cities, {len({(c['province_code'], c['county_fa']) for c in cities})} counties, "
        f"{len(read('universities.csv'))} universities and schools, "
        f"{sum(c['name_en_romanized'] == '1' for c in cities)} English names romanized by rule"
    )
    found = problems()
    for line in found:
        print("FAIL", line)
    print("ok" if not found else f"{len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
