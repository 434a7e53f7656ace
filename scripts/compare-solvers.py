#!/usr/bin/env python3
"""Fulcrum's strategies side by side on one generated stream, and Fulcrum's
optimal solver beside glpsol (models/dom.mod) on the same requests.

    python3 scripts/compare-solvers.py [--count 300] [--seed 42]

Prints a Markdown table: total cost, shipments per order, km per unit,
backordered units and wall time for each strategy over the whole stream in
one process, then glpsol's time on the same requests and how many optima
agree within 1e-6 relative."""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--count", type=int, default=300)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--fulcrum", default=".build/release/fulcrum")
args = parser.parse_args()

work = tempfile.mkdtemp(prefix="fulcrum-compare-")
requests = os.path.join(work, "requests.jsonl")
with open(requests, "w") as out:
    subprocess.run([args.fulcrum, "generate", "--count", str(args.count), "--seed", str(args.seed),
                    "--nodes", "100", "--lines", "5"], stdout=out, check=True)

def run(strategy):
    started = time.perf_counter()
    result = subprocess.run([args.fulcrum, "optimize", "--jsonl", "--strategy", strategy, "--request", requests],
                            capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    return [json.loads(line) for line in result.stdout.splitlines()], elapsed

rows, optimal_objectives = [], None
for strategy in ["optimal", "greedy-nearest", "greedy-priority"]:
    responses, elapsed = run(strategy)
    plans = [plan for response in responses for plan in response["plans"]]
    cost = sum(response["objective"] for response in responses)
    shipments = sum(len(plan["shipments"]) for plan in plans) / len(plans)
    units = sum(line["quantity"] for plan in plans for shipment in plan["shipments"] for line in shipment["lines"])
    unit_km = sum(shipment["distance_km"] * line["quantity"] for plan in plans for shipment in plan["shipments"] for line in shipment["lines"])
    backordered = sum(line["quantity"] for plan in plans for line in plan["backorders"])
    solve_ms = statistics.median(response["stats"]["solve_ms"] for response in responses)
    if strategy == "optimal":
        optimal_objectives, optimal_cost, optimal_time = [r["objective"] for r in responses], cost, elapsed
    rows.append((strategy, cost, cost / optimal_cost - 1, shipments, unit_km / units, backordered, elapsed, solve_ms))

# glpsol on the same requests: data sections written first, untimed.
dats = []
with open(requests) as lines:
    for index, line in enumerate(lines):
        dat = os.path.join(work, f"{index}.dat")
        with open(dat, "w") as out:
            subprocess.run([args.fulcrum, "optimize", "--emit-dat"], input=line, text=True, stdout=out, check=True)
        dats.append(dat)
model = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "dom.mod")
started, agree, glpsol_times = time.perf_counter(), 0, []
for dat, ours in zip(dats, optimal_objectives):
    one = time.perf_counter()
    output = subprocess.run(["glpsol", "--math", model, "--data", dat], capture_output=True, text=True).stdout
    glpsol_times.append((time.perf_counter() - one) * 1000)
    value = float(next(l for l in output.splitlines() if l.startswith("OBJECTIVE")).split()[1])
    agree += abs(value - ours) <= 1e-6 * max(1, abs(value), abs(ours))
glpsol_elapsed = time.perf_counter() - started

print(f"{args.count} single orders, 5 lines each, 100 nodes (seed {args.seed})\n")
print("| strategy | total cost | vs optimal | shipments/order | km per unit | backordered units | wall time, all requests | median solve |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for strategy, cost, delta, shipments, km, backordered, elapsed, solve_ms in rows:
    print(f"| {strategy} | {cost:,.2f} | {delta:+.1%} | {shipments:.2f} | {km:,.0f} | {backordered} | {elapsed:.2f} s | {solve_ms:.3f} ms |")
print(f"| glpsol on models/dom.mod | | | | | | {glpsol_elapsed:.2f} s | {statistics.median(glpsol_times):.1f} ms |")
print(f"\nFulcrum optimal is {glpsol_elapsed / optimal_time:.1f}x faster than glpsol over the stream; "
      f"optima agree on {agree} of {len(dats)} requests.")
