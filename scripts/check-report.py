#!/usr/bin/env python3
"""Open a replay's report.html in headless Chromium, take a screenshot, and
check that the charts are drawn: each strategy's colour (lines, bars, legend)
and the utilization heat map's reds must cover enough pixels.

    python3 scripts/check-report.py REPORT_DIR [--screenshot OUT.png]

Prints a JSON summary; exits 1 when a chart is missing. Needs `chromium`
(Debian package) and nothing else: the PNG is decoded here with zlib.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

PALETTE = ["#1f6fd1", "#e8750c", "#2a9d3a", "#c8283c"]  # Sources/FulcrumReplay/Chart.swift
MIN_PIXELS_PER_STRATEGY = 2000
MIN_HEAT_PIXELS = 500


def decode_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, width = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG layout"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def main():
    directory = sys.argv[1]
    screenshot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
    report = json.load(open(os.path.join(directory, "report.json")))
    strategies = [s["strategy"] for s in report["strategies"]]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print(json.dumps({"ok": False, "error": "chromium is not installed (apt-get install chromium)"}))
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        png = screenshot or os.path.join(scratch, "report.png")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb",
             f"--user-data-dir={scratch}/profile", "--window-size=1200,2600", f"--screenshot={png}",
             "file://" + os.path.abspath(os.path.join(directory, "report.html"))],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        width, height, rows = decode_png(png)
    targets = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in PALETTE[:len(strategies)]]
    counts = [0] * len(targets)
    heat = 0
    for row in rows:
        for r, g, b in row:
            for index, (tr, tg, tb) in enumerate(targets):
                if abs(r - tr) <= 8 and abs(g - tg) <= 8 and abs(b - tb) <= 8:
                    counts[index] += 1
            # The heat map's cells: red channel well above green and blue, green equal to blue.
            if r > 150 and r - g > 60 and abs(g - b) <= 6:
                heat += 1
    summary = {
        "ok": all(c >= MIN_PIXELS_PER_STRATEGY for c in counts) and heat >= MIN_HEAT_PIXELS,
        "size": [width, height],
        "strategy_pixels": dict(zip(strategies, counts)),
        "heat_map_pixels": heat,
    }
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
