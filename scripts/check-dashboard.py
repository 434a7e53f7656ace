#!/usr/bin/env python3
"""Open the operations page of a running fulcrumd in headless Chromium, take
a screenshot of its dashboard, and check that it shows data: the KPI tiles
with values and sparklines, the orders chart's bars and line, and the
network map's nodes and routes (from the DOM once the page's script ran),
and that their colours cover enough pixels (from the screenshot).

    python3 scripts/check-dashboard.py HOST:PORT [--screenshot OUT.png] [--token TOKEN]

Prints a JSON summary; exits 1 when something is missing. Needs `chromium`.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check_report", os.path.join(HERE, "check-report.py"))
check_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_report)

BLUE = (0x1F, 0x6F, 0xD1)   # sparklines, order bars, nodes without a capacity (OperationsPage.swift)
GREEN = (0x2A, 0x9D, 0x3A)  # the shipped line
MIN_BLUE_PIXELS = 1500
MIN_GREEN_PIXELS = 150


def near(pixel, target, tolerance=10):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, target))


def main():
    address = sys.argv[1]
    screenshot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
    token = sys.argv[sys.argv.index("--token") + 1] if "--token" in sys.argv else None
    url = f"http://{address}/" + (f"#token={token}" if token else "")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print(json.dumps({"ok": False, "error": "chromium is not installed (apt-get install chromium)"}))
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb",
                  f"--user-data-dir={scratch}/profile", "--virtual-time-budget=8000", "--window-size=1400,1300"]
        dom = subprocess.run(common + ["--dump-dom", url], check=True, capture_output=True, text=True, timeout=120).stdout
        png = screenshot or os.path.join(scratch, "dashboard.png")
        subprocess.run(common + [f"--screenshot={png}", url], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        width, height, rows = check_report.decode_png(png)
    tiles = re.findall(r'<div class="tile[^"]*" data-kpi="([a-z_]+)"><div class="label">[^<]*</div><div class="value">([^<]*)</div>', dom)
    values = dict(tiles)
    blue = sum(1 for row in rows for pixel in row if near(pixel, BLUE))
    green = sum(1 for row in rows for pixel in row if near(pixel, GREEN))
    summary = {
        "size": [width, height],
        "tiles": values,
        "sparklines": dom.count('class="spark"'),
        "sparklines_drawn": len(re.findall(r'<svg class="spark"[^>]*><polyline', dom)),
        "bars": dom.count('class="bar"'),
        "shipped_lines": dom.count('class="shipped"'),
        "map_nodes": dom.count('class="node"'),
        "map_routes": dom.count('class="route"'),
        "blue_pixels": blue,
        "green_pixels": green,
    }
    summary["ok"] = (
        len(tiles) >= 10 and values.get("orders_created", "0") not in ("0", "—") and summary["sparklines_drawn"] >= 4
        and summary["bars"] >= 1 and summary["shipped_lines"] == 1 and summary["map_nodes"] >= 2 and summary["map_routes"] >= 1
        and blue >= MIN_BLUE_PIXELS and green >= MIN_GREEN_PIXELS)
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
