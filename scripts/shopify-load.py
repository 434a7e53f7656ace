#!/usr/bin/env python3
"""Posts signed Shopify orders/create webhooks to a shim for a while, from
several threads; prints one JSON line: accepted, refused, seconds, per second.

Usage: shopify-load.py URL SECRET SECONDS THREADS
"""
import base64, hashlib, hmac, http.client, json, sys, threading, time, urllib.parse
from datetime import datetime, timezone

url, secret, seconds, threads = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3]), int(sys.argv[4])
parts = urllib.parse.urlsplit(url)
skus = ["SHOP-TEE", "SHOP-CAP", "SHOP-JEANS"]
counts = {"accepted": 0, "refused": 0}
lock = threading.Lock()
deadline = time.monotonic() + seconds

def worker(number):
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    sequence = 0
    while time.monotonic() < deadline:
        sequence += 1
        order = number * 10_000_000 + sequence
        body = json.dumps({
            "id": order, "line_items": [
                {"id": 1, "sku": skus[order % 3], "quantity": 1},
                {"id": 2, "sku": skus[(order + 1) % 3], "quantity": 2}],
            "shipping_address": {"latitude": 30 + order % 15, "longitude": -120 + order % 45, "province_code": "NY"},
        }).encode()
        signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        connection.request("POST", parts.path, body, {
            "Content-Type": "application/json", "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Webhook-Id": f"load-{order}", "X-Shopify-Topic": "orders/create",
            "X-Shopify-Triggered-At": datetime.now(timezone.utc).isoformat()})
        response = connection.getresponse()
        response.read()
        with lock:
            counts["accepted" if response.status == 202 else "refused"] += 1

started = time.monotonic()
workers = [threading.Thread(target=worker, args=(n + 1,)) for n in range(threads)]
for thread in workers: thread.start()
for thread in workers: thread.join()
elapsed = time.monotonic() - started
print(json.dumps({"accepted": counts["accepted"], "refused": counts["refused"], "seconds": round(elapsed, 2),
                  "per_second": round(counts["accepted"] / elapsed, 1)}))
