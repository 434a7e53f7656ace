#!/usr/bin/env python3
"""`fulcrum optimize --jsonl` beside HiGHS (through scipy) on one generated
stream, in one run: what a user who wrote the model in Python would get.

    python3 scripts/compare-highs.py [--count 300] [--seed 7] [--orders 1 --nodes 100 --lines 5]

Both read the same JSON Lines file. Fulcrum's time is the whole process
(read, decode, solve, encode, write); HiGHS's is json.loads, building the
model with scipy.sparse and scipy.optimize.milp per request (the MathProg
model of models/dom.mod written again in Python, from the specification).
Prints one JSON line: both wall times, their ratio, Fulcrum's median
solve_ms, and how many objectives agree within 1e-6 relative."""
import argparse, json, math, os, statistics, subprocess, sys, tempfile, time

try:
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "scipy==1.17.1"], check=True)
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

parser = argparse.ArgumentParser()
parser.add_argument("--count", type=int, default=300)
parser.add_argument("--seed", type=int, default=7)
parser.add_argument("--fulcrum", default=".build/release/fulcrum")
parser.add_argument("--orders", type=int, default=1, help="orders per request (a batch)")
parser.add_argument("--nodes", type=int, default=100)
parser.add_argument("--lines", type=int, default=5)
args = parser.parse_args()

work = tempfile.mkdtemp(prefix="fulcrum-highs-")
stream = os.path.join(work, "requests.jsonl")
with open(stream, "w") as out:
    subprocess.run([args.fulcrum, "generate", "--count", str(args.count), "--seed", str(args.seed),
                    "--orders", str(args.orders), "--nodes", str(args.nodes), "--lines", str(args.lines), "--skus", "200"],
                   stdout=out, check=True)


def distance_km(a_lat, a_lon, b_lat, b_lon):
    h = (math.sin((b_lat - a_lat) * math.pi / 360) ** 2
         + math.cos(a_lat * math.pi / 180) * math.cos(b_lat * math.pi / 180)
         * math.sin((b_lon - a_lon) * math.pi / 360) ** 2)
    return 2 * 6371.0 * math.atan2(math.sqrt(h), math.sqrt(1 - h))


def solve(request):
    """models/dom.mod as a scipy MILP; returns the optimal objective."""
    orders, nodes = request["orders"], request["nodes"]
    rates, rules = request.get("rates") or {}, request.get("rules") or {}
    per_shipment, per_km = rates.get("per_shipment", 5.0), rates.get("per_km", 0.0)
    per_kg_km = rates.get("per_kg_km", 0.0005)
    penalty = rules.get("backorder_penalty", 1000.0)
    min_available, safety = rules.get("min_available", 0), rules.get("safety_stock", 0)
    max_distance = rules.get("max_distance_km")
    rule_max = rules.get("max_shipments_per_order") or 0
    weight = {s["id"]: s.get("weight_kg", 1.0) for s in request.get("skus", [])}
    category = {s["id"]: s.get("category") for s in request.get("skus", [])}
    stock = {}
    for entry in request.get("inventory") or []:
        stock[(entry["node"], entry["sku"])] = entry["available"]
    lines = [(o, line) for o, order in enumerate(orders) for line in order["lines"]]
    N, O, L = len(nodes), len(orders), len(lines)
    node_index = {node["id"]: n for n, node in enumerate(nodes)}
    # Columns: x[l,n] (L*N), y[o,n] (O*N), u[l] (L), waits[o] (O), whole[l,n] (L*N).
    X, Y, U, W, H = 0, L * N, L * N + O * N, L * N + O * N + L, L * N + O * N + L + O
    columns = H + L * N
    cost = np.zeros(columns)
    upper = np.full(columns, np.inf)
    upper[Y:U] = 1
    upper[W:H] = 1
    upper[H:] = 1
    dist = [[distance_km(order["ship_to"]["latitude"], order["ship_to"]["longitude"],
                         node["latitude"], node["longitude"]) for node in nodes] for order in orders]
    for o, order in enumerate(orders):
        pickup = node_index.get(order.get("pickup_node"))
        for n, node in enumerate(nodes):
            cost[Y + o * N + n] = node.get("cost_per_shipment", 0) + (
                0 if pickup is not None else per_shipment + per_km * dist[o][n])
    rows, cols, values, low, high = [], [], [], [], []

    def row(entries, lo, hi):
        r = len(low)
        for c, v in entries:
            rows.append(r), cols.append(c), values.append(v)
        low.append(lo), high.append(hi)

    for l, (o, line) in enumerate(lines):
        order, sku, q = orders[o], line["sku"], line["quantity"]
        pickup = node_index.get(order.get("pickup_node"))
        cost[U + l] = penalty * order.get("priority", 1)
        for n, node in enumerate(nodes):
            cost[X + l * N + n] = node.get("cost_per_unit", 0) + (
                0 if pickup is not None else per_kg_km * weight.get(sku, 1.0) * dist[o][n])
            excluded = any(
                (e.get("node") in (None, node["id"])) and (e.get("kind") in (None, node.get("kind", "warehouse")))
                and (e.get("region") in (None, node.get("region"))) and (e.get("sku_category") in (None, category.get(sku)))
                for e in rules.get("exclude", []))
            eligible = node.get("enabled", True) and not excluded and (
                n == pickup if pickup is not None else
                node.get("can_ship", True) and (max_distance is None or dist[o][n] <= max_distance))
            if not eligible:
                upper[X + l * N + n] = 0
            row([(X + l * N + n, 1), (Y + o * N + n, -q)], -np.inf, 0)   # link
            if line.get("no_split"):
                row([(X + l * N + n, 1), (H + l * N + n, -q)], 0, 0)
        row([(X + l * N + n, 1) for n in range(N)] + [(U + l, 1)], q, q)  # demand
        if order.get("ship_complete"):
            row([(U + l, 1), (W + o, -q)], 0, 0)
    by_sku = {}
    for l, (o, line) in enumerate(lines):
        by_sku.setdefault(line["sku"], []).append(l)
    for n, node in enumerate(nodes):
        for sku, ls in by_sku.items():
            available = stock.get((node["id"], sku), 0)
            usable = 0 if available < min_available else max(0, available - safety)
            row([(X + l * N + n, 1) for l in ls], -np.inf, usable)
        if node.get("capacity_units") is not None:
            row([(X + l * N + n, 1) for l in range(L)], -np.inf, node["capacity_units"])
    for o, order in enumerate(orders):
        limit = order.get("max_shipments") or rule_max
        if limit:
            row([(Y + o * N + n, 1) for n in range(N)], -np.inf, limit)
    matrix = coo_array((values, (rows, cols)), shape=(len(low), columns))
    result = milp(cost, constraints=LinearConstraint(matrix, low, high), integrality=np.ones(columns),
                  bounds=Bounds(np.zeros(columns), upper))
    assert result.status == 0, result.message
    return result.fun


started = time.perf_counter()
fulcrum = subprocess.run([args.fulcrum, "optimize", "--jsonl", "--request", stream],
                         capture_output=True, text=True, check=True)
fulcrum_seconds = time.perf_counter() - started
responses = [json.loads(line) for line in fulcrum.stdout.splitlines()]

started = time.perf_counter()
with open(stream) as lines:
    highs = [solve(json.loads(line)) for line in lines if line.strip()]
highs_seconds = time.perf_counter() - started

agree = sum(abs(r["objective"] - h) <= 1e-6 * max(1.0, abs(h)) for r, h in zip(responses, highs))
print(json.dumps({
    "requests": len(responses), "bytes": os.path.getsize(stream),
    "fulcrum_seconds": round(fulcrum_seconds, 3), "highs_seconds": round(highs_seconds, 3),
    "highs_over_fulcrum": round(highs_seconds / fulcrum_seconds, 2),
    "fulcrum_solve_ms_median": round(statistics.median(r["stats"]["solve_ms"] for r in responses), 4),
    "fulcrum_optimal": sum(r["status"] == "optimal" for r in responses),
    "objectives_agree": agree,
}))
