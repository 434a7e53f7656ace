/* Fulcrum optimize v2 (docs/optimize.md) in GNU MathProg.

   The same problem as Fulcrum's solver, written from the specification alone:
   distances, eligibility, usable stock and costs are computed here from the
   request's raw data, so `glpsol` checks Fulcrum independently.

     fulcrum optimize --request R.json --emit-dat > R.dat
     glpsol --math models/dom.mod --data R.dat

   prints "OBJECTIVE <value>" and the plan as "TAKE <line> <node> <quantity>" and
   "BACKORDER <line> <quantity>" lines. Ids are numbered 1..n in request order. */

set ORDERS;
set NODES;
set SKUS;
set LINES;
set EXCLUDES;

/* Orders */
param priority {ORDERS} > 0;
param ship_lat {ORDERS};
param ship_lon {ORDERS};
param ship_complete {ORDERS} binary;
param order_max_shipments {ORDERS} integer >= 0;   /* 0: not given */
param pickup {ORDERS} integer >= 0;                /* a node number, 0: a ship order */

/* Lines */
param order_of {LINES} in ORDERS;
param sku_of {LINES} in SKUS;
param quantity {LINES} integer >= 1;
param no_split {LINES} binary;

/* Nodes */
param kind {NODES} symbolic;
param region {NODES} symbolic;                     /* '' when absent */
param node_lat {NODES};
param node_lon {NODES};
param enabled {NODES} binary;
param can_ship {NODES} binary;
param cost_per_shipment {NODES} >= 0;
param cost_per_unit {NODES} >= 0;
param capacity {NODES} integer >= -1;              /* -1: unlimited */

/* SKUs */
param weight {SKUS} > 0, default 1;
param category {SKUS} symbolic, default '';
set SKU_FLAGS dimen 2;                            /* (SKU, flag) pairs */

/* Stock: a missing pair is 0 */
param available {NODES, SKUS} integer >= 0, default 0;

/* Rates and rules */
param per_shipment >= 0;
param per_km >= 0;
param per_kg_km >= 0;
param rule_max_shipments integer >= 0;             /* 0: unlimited */
param max_distance_km;                             /* < 0: unlimited */
param backorder_penalty >= 0;
param min_available integer;
param safety_stock integer;

/* Exclusions: '*' and 0 mean the entry does not give that field */
param ex_node {EXCLUDES} integer >= 0;
param ex_kind {EXCLUDES} symbolic;
param ex_region {EXCLUDES} symbolic;
param ex_category {EXCLUDES} symbolic;
param ex_flag {EXCLUDES} symbolic, default '*';

/* Great-circle distance, haversine, Earth radius 6371.0 km */
param pi := 4 * atan(1);
param hav {o in ORDERS, n in NODES} :=
    sin((node_lat[n] - ship_lat[o]) * pi / 360) ^ 2
    + cos(ship_lat[o] * pi / 180) * cos(node_lat[n] * pi / 180) * sin((node_lon[n] - ship_lon[o]) * pi / 360) ^ 2;
param dist {o in ORDERS, n in NODES} := 2 * 6371.0 * atan(sqrt(hav[o, n]), sqrt(1 - hav[o, n]));

param excluded {l in LINES, n in NODES} binary :=
    if exists {e in EXCLUDES}
        ((ex_node[e] = 0 or ex_node[e] = n)
         and (ex_kind[e] = '*' or ex_kind[e] = kind[n])
         and (ex_region[e] = '*' or ex_region[e] = region[n])
         and (ex_category[e] = '*' or ex_category[e] = category[sku_of[l]])
         and (ex_flag[e] = '*' or (sku_of[l], ex_flag[e]) in SKU_FLAGS)) then 1 else 0;

param eligible {l in LINES, n in NODES} binary :=
    if enabled[n] = 1 and excluded[l, n] = 0 and
       ((pickup[order_of[l]] > 0 and pickup[order_of[l]] = n)
        or (pickup[order_of[l]] = 0 and can_ship[n] = 1
            and (max_distance_km < 0 or dist[order_of[l], n] <= max_distance_km)))
    then 1 else 0;

param usable {n in NODES, s in SKUS} :=
    if available[n, s] < min_available then 0 else max(0, available[n, s] - safety_stock);

param max_shipments {o in ORDERS} :=
    if order_max_shipments[o] > 0 then order_max_shipments[o] else rule_max_shipments;

param shipment_cost {o in ORDERS, n in NODES} :=
    if pickup[o] > 0 then cost_per_shipment[n]
    else cost_per_shipment[n] + per_shipment + per_km * dist[o, n];

/* A line whose SKU carries the flag ship_alone is a shipment of its own. */
param ship_alone {l in LINES} binary := if (sku_of[l], 'ship_alone') in SKU_FLAGS then 1 else 0;

param unit_cost {l in LINES, n in NODES} :=
    if pickup[order_of[l]] > 0 then cost_per_unit[n]
    else cost_per_unit[n] + per_kg_km * weight[sku_of[l]] * dist[order_of[l], n];

var x {LINES, NODES} integer >= 0;     /* units of line l from node n */
var y {ORDERS, NODES} binary;          /* order o has a shipment from node n */
var z {LINES, NODES} binary;           /* a ship-alone line's own shipment from node n */
var u {LINES} integer >= 0;            /* units of line l backordered */
var waits {ORDERS} binary;             /* a ship-complete order waits whole */
var whole {LINES, NODES} binary;       /* a no-split line comes wholly from n */

minimize total:
    sum {o in ORDERS, n in NODES} shipment_cost[o, n] * y[o, n]
    + sum {l in LINES, n in NODES: ship_alone[l] = 1} shipment_cost[order_of[l], n] * z[l, n]
    + sum {l in LINES, n in NODES} unit_cost[l, n] * x[l, n]
    + sum {l in LINES} backorder_penalty * priority[order_of[l]] * u[l];

s.t. demand {l in LINES}: sum {n in NODES} x[l, n] + u[l] = quantity[l];
s.t. link {l in LINES, n in NODES: ship_alone[l] = 0}: x[l, n] <= quantity[l] * y[order_of[l], n];
s.t. link_alone {l in LINES, n in NODES: ship_alone[l] = 1}: x[l, n] <= quantity[l] * z[l, n];
s.t. no_alone {l in LINES, n in NODES: ship_alone[l] = 0}: z[l, n] = 0;
s.t. stock {n in NODES, s in SKUS}: sum {l in LINES: sku_of[l] = s} x[l, n] <= usable[n, s];
s.t. splits {o in ORDERS: max_shipments[o] > 0}:
    sum {n in NODES} y[o, n] + sum {l in LINES, n in NODES: order_of[l] = o and ship_alone[l] = 1} z[l, n] <= max_shipments[o];
s.t. capacity_limit {n in NODES: capacity[n] >= 0}: sum {l in LINES} x[l, n] <= capacity[n];
s.t. eligibility {l in LINES, n in NODES: eligible[l, n] = 0}: x[l, n] = 0;
s.t. complete {l in LINES: ship_complete[order_of[l]] = 1}: u[l] = quantity[l] * waits[order_of[l]];
s.t. nosplit {l in LINES, n in NODES: no_split[l] = 1}: x[l, n] = quantity[l] * whole[l, n];

solve;

printf "OBJECTIVE %.17g\n", total;
printf {l in LINES, n in NODES: x[l, n] > 0.5} "TAKE %d %d %d\n", l, n, x[l, n];
printf {l in LINES: u[l] > 0.5} "BACKORDER %d %d\n", l, u[l];
end;
