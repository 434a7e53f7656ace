/// The operations page the gateway serves at `/`: static HTML and script,
/// no build step and no network beyond this server. It reads the JSON routes
/// (positions, reservations, solver decisions and their explanations) and
/// refreshes every five seconds. A token, when the server has one, is taken
/// from the page's `#token=...` fragment (or typed in) and kept in the tab.
enum OperationsPage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Fulcrum operations</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; }
        h1 { margin: 0 0 4px; } h2 { margin: 22px 0 6px; font-size: 17px; }
        .bar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; color: #555; }
        input, select { font: inherit; padding: 2px 6px; }
        table { border-collapse: collapse; margin: 6px 0; min-width: 480px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; white-space: nowrap; }
        th:first-child, td:first-child, td.text { text-align: left; }
        thead th { background: #f3f3f3; }
        tr.zero td { color: #b00; } tr.pick { cursor: pointer; } tr.pick:hover { background: #eef4ff; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 760px), 1fr)); gap: 0 28px; align-items: start; }
        section { min-width: 0; overflow-x: auto; }
        #error { color: #b00; } .note { color: #666; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 8px 0 14px; }
        .tile { border: 1px solid #d8dde6; border-radius: 8px; padding: 8px 10px 4px; background: #fafbfd; }
        .tile .label { color: #555; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .tile .value { font-size: 26px; font-weight: 600; margin: 2px 0; font-variant-numeric: tabular-nums; }
        .tile .detail { color: #666; font-size: 12px; min-height: 16px; }
        .tile.alarm { border-color: #c8283c; background: #fff4f5; } .tile.alarm .value { color: #c8283c; }
        .spark { width: 100%; height: 30px; display: block; }
        .alert { border-left: 5px solid #c8283c; background: #fff4f5; padding: 6px 10px; margin: 6px 0; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 14px; }
        figure { margin: 0; border: 1px solid #d8dde6; border-radius: 8px; padding: 8px; }
        figcaption { color: #555; font-size: 13px; margin-bottom: 4px; } figure svg { width: 100%; display: block; }
        </style></head><body>
        <h1>Fulcrum operations</h1>
        <div class="bar"><span id="status">loading…</span><span id="error"></span>
        <label>Token <input id="token" type="password" size="14"></label></div>
        <section id="dashboard"><div class="bar"><h2>At a glance</h2>
        <label>Window <select id="window"><option>hour</option><option selected>day</option><option>week</option><option>month</option></select></label>
        <span id="insights-range" class="note"></span></div>
        <div id="open-alerts"></div>
        <div id="tiles" class="tiles"></div>
        <div class="charts">
        <figure><figcaption>Orders in (bars) and shipped (line) per <span id="bucket-name">hour</span></figcaption>
        <svg id="flow-chart" viewBox="0 0 600 180" role="img" aria-label="orders in and shipped"></svg></figure>
        <figure><figcaption>The network: circles sized by units available, coloured by today's load against capacity
        (green to red; blue without a capacity); lines to where recent orders ship</figcaption>
        <svg id="map" viewBox="0 0 600 330" role="img" aria-label="network map"></svg></figure>
        </div>
        <h2>Needs attention</h2>
        <table id="stuck"><thead><tr><th>Order</th><th>State</th><th>Channel</th><th>Unchanged since</th><th>Failed step</th></tr></thead>
        <tbody></tbody></table><p class="note" id="stuck-note"></p>
        <h2>Anomalies</h2>
        <table id="anomalies"><thead><tr><th>Hour</th><th>Stream</th><th>Of</th><th>Observed</th><th>Expected</th><th>Score</th><th>Baseline</th></tr></thead>
        <tbody></tbody></table><p class="note">Hours whose orders (per channel), demand (per SKU), shrinkage (per node) or provider failures stood out from the same hour's usual count.</p>
        <h2>Alerts</h2>
        <table id="alerts"><thead><tr><th>Alert</th><th>State</th><th>Condition</th><th>Value</th><th>Opened</th><th>Resolved</th></tr></thead>
        <tbody></tbody></table><p class="note">Rules of fulcrumd's --alerts file, delivered through their provider's outbox.</p>
        <h2>By channel</h2>
        <table id="channels"><thead><tr><th>Channel</th><th>Orders in</th><th>Units</th><th>Fill rate</th><th>Split rate</th>
        <th>Cost/order</th><th>Savings</th><th>Shipped</th></tr></thead><tbody></tbody></table>
        </section>
        <div class="grid">
        <section><h2>Recent solver decisions</h2>
        <table id="decisions"><thead><tr><th>#</th><th>At</th><th>Strategy</th><th>Orders</th><th>Shipments</th>
        <th>Backordered</th><th>Cost</th><th>Solve ms</th></tr></thead><tbody></tbody></table>
        <p class="note">Click a decision to see why each order does not use each other node.</p></section>
        <section><h2>Why: decision <span id="explained-id">—</span></h2><div id="explanation" class="note">No decision yet.</div></section>
        <section><h2>Reservations</h2>
        <div class="bar"><label>State <select id="state-filter"><option value="">any</option><option>reserved</option>
        <option>confirmed</option><option>shipped</option><option>released</option><option>expired</option></select></label></div>
        <table id="reservations"><thead><tr><th>Order</th><th>State</th><th>Lines</th><th>Units</th><th>Expires</th></tr></thead>
        <tbody></tbody></table></section>
        <section><h2>Orders</h2>
        <table id="orders"><thead><tr><th>Order</th><th>Source</th><th>State</th><th>Units</th><th>Fulfillment orders</th>
        <th>Journey</th></tr></thead><tbody></tbody></table>
        <p class="note">Click an order to see its timeline.</p></section>
        <section><h2>Backorders</h2>
        <table id="backorders"><thead><tr><th>Order</th><th>Waits</th><th>Waiting since</th><th>Priority</th><th>Short</th></tr></thead>
        <tbody></tbody></table><p class="note">Orders waiting whole for stock, first come first served within priority.</p></section>
        <section><h2>Timeline: order <span id="timeline-id">—</span></h2>
        <table id="timeline"><thead><tr><th>At</th><th>Kind</th><th>Entity</th><th>Step</th><th>What</th></tr></thead>
        <tbody></tbody></table></section>
        <section id="replication-section" hidden><h2>Replication</h2>
        <p id="replication-summary"></p>
        <table id="replicas"><thead><tr><th>Replica</th><th>Applied</th><th>Behind</th></tr></thead><tbody></tbody></table>
        <p class="note">Writes go to the leader; every replica serves reads (docs/replication.md).</p></section>
        <section><h2>Network</h2>
        <table id="network"><thead><tr><th>Node</th><th>Kind</th><th>Open</th><th>Ships</th><th>Day</th><th>Released</th>
        <th>Capacity/day</th><th>Left</th><th>Time zone</th></tr></thead><tbody></tbody></table>
        <p class="note">Units released to each node on its local day; change a node with fulcrum node or PATCH /v1/nodes/{node}.</p></section>
        <section><h2>Receipts and transfers in transit</h2>
        <table id="receipts"><thead><tr><th>Receipt</th><th>Node</th><th>SKU</th><th>Units</th><th>Due</th><th>From</th></tr></thead>
        <tbody></tbody></table></section>
        <section><h2>Allocations by channel</h2>
        <table id="allocations"><thead><tr><th>Channel</th><th>Node</th><th>SKU</th><th>Set aside</th><th>Overflow</th><th>Until</th></tr></thead>
        <tbody></tbody></table>
        <p class="note">Stock other channels cannot take; set with fulcrum allocate or POST /v1/allocations.</p></section>
        <section><h2>Inventory positions</h2>
        <div class="bar"><label>Node <input id="node-filter" size="12"></label>
        <label>SKU contains <input id="sku-filter" size="12"></label></div>
        <table id="positions"><thead><tr><th>Node</th><th>SKU</th><th>On hand</th><th>Reserved</th><th>Committed</th>
        <th>Safety</th><th>Available</th></tr></thead><tbody></tbody></table></section>
        <section><h2>Audit trail</h2>
        <table id="audit"><thead><tr><th>At</th><th>Token</th><th>Operation</th><th>Subject</th><th>What</th><th>Request</th></tr></thead>
        <tbody></tbody></table><p class="note" id="audit-note">Inventory changes and admin actions, newest first.</p></section>
        </div>
        <script>
        "use strict";
        const tokenInput = document.getElementById("token");
        const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
        tokenInput.value = fromHash || sessionStorage.getItem("fulcrum-token") || "";
        tokenInput.addEventListener("change", () => { sessionStorage.setItem("fulcrum-token", tokenInput.value); refresh(); });
        let explainedID = null;
        let timelineID = null;

        async function get(path) {
          const headers = tokenInput.value ? { Authorization: "Bearer " + tokenInput.value } : {};
          const response = await fetch(path, { headers });
          const body = await response.json();
          if (!response.ok) throw new Error(body.error ? body.error.code + ": " + body.error.message : response.status);
          return body;
        }
        function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
        function fill(id, rows, build) {
          const body = document.querySelector("#" + id + " tbody");
          body.replaceChildren(...rows.map(build));
        }
        function time(ms) { return new Date(ms).toISOString().slice(11, 19); }

        let lastInsights = null;
        let lastOrders = [];
        const svgNS = "http://www.w3.org/2000/svg";
        function svg(tag, attributes, text) {
          const element = document.createElementNS(svgNS, tag);
          for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
          if (text !== undefined) element.textContent = text;
          return element;
        }
        const percent = v => v === null ? "—" : (100 * v).toFixed(1) + "%";
        const money = v => v === null ? "—" : v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        function duration(seconds) {
          if (seconds === null) return "—";
          if (seconds < 120) return seconds.toFixed(0) + " s";
          if (seconds < 7200) return (seconds / 60).toFixed(0) + " min";
          return (seconds / 3600).toFixed(1) + " h";
        }
        // Each tile: its value from the window's totals, its sparkline from the series, red past a threshold.
        const tiles = [
          { kpi: "orders_created", label: "Orders in", show: t => String(t.orders_created), detail: t => t.units_ordered + " units" },
          { kpi: "fill_rate", label: "Fill rate", show: t => percent(t.fill_rate), detail: t => t.units_filled + " of " + t.units_sourced + " units", alarm: t => t.fill_rate !== null && t.fill_rate < 0.95 },
          { kpi: "split_rate", label: "Split rate", show: t => percent(t.split_rate), detail: t => (t.shipments_per_reservation ?? 0).toFixed(2) + " shipments per order" },
          { kpi: "cost_per_order", label: "Cost per order", show: t => money(t.cost_per_order), detail: t => t.reservations_costed + " orders planned" },
          { kpi: "savings", label: "Saved vs nearest-first", show: t => money(t.savings), detail: t => percent(t.savings_rate) + " of " + t.baseline_orders + " orders' cost" },
          { kpi: "orders_shipped", label: "Shipped", show: t => String(t.orders_shipped), detail: t => "created → shipped " + duration(t.created_to_shipped_s) },
          { kpi: "orders_backordered", label: "Backordered", show: t => String(t.orders_backordered), detail: (t, r) => r.backorders_waiting + " waiting now", alarm: (t, r) => r.backorders_waiting > 0 },
          { kpi: "reservations_expired", label: "Expired", show: t => String(t.reservations_expired), detail: t => "reservations never paid" },
          { kpi: "created_to_released_s", label: "Created → released", show: t => duration(t.created_to_released_s), detail: t => t.orders_released + " released" },
          { kpi: "stuck", label: "Stuck orders", show: (t, r) => String(r.stuck_orders_count), detail: (t, r) => "failed, or no change for " + duration(r.stuck_after_s), alarm: (t, r) => r.stuck_orders_count > 0, series: false },
          { kpi: "dead_letters", label: "Dead letters", show: (t, r) => String(r.dead_letters), detail: (t, r) => r.events_queued + " events queued", alarm: (t, r) => r.dead_letters > 0, series: false },
        ];
        function sparkline(values) {
          const box = svg("svg", { class: "spark", viewBox: "0 0 120 30", preserveAspectRatio: "none" });
          const points = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined);
          if (points.length === 0) return box;
          const top = Math.max(...points.map(([, v]) => v)), bottom = Math.min(0, ...points.map(([, v]) => v));
          const x = i => values.length < 2 ? 60 : 2 + 116 * i / (values.length - 1);
          const y = v => top === bottom ? 28 : 28 - 26 * (v - bottom) / (top - bottom);
          box.append(svg("polyline", { points: points.map(([i, v]) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" "),
            fill: "none", stroke: "#1f6fd1", "stroke-width": "2", "vector-effect": "non-scaling-stroke" }));
          return box;
        }
        function drawTiles(report) {
          const box = document.getElementById("tiles");
          box.replaceChildren(...tiles.map(tile => {
            const div = document.createElement("div");
            div.className = "tile" + (tile.alarm && tile.alarm(report.totals, report) ? " alarm" : "");
            div.dataset.kpi = tile.kpi;
            const label = document.createElement("div"); label.className = "label"; label.textContent = tile.label;
            const value = document.createElement("div"); value.className = "value"; value.textContent = tile.show(report.totals, report);
            const detail = document.createElement("div"); detail.className = "detail"; detail.textContent = tile.detail(report.totals, report);
            div.append(label, value, detail);
            if (tile.series !== false) div.append(sparkline(report.series.map(point => point.totals[tile.kpi])));
            return div;
          }));
        }
        function drawFlow(report) {
          const chart = document.getElementById("flow-chart");
          chart.replaceChildren();
          const width = 600, height = 180, left = 34, bottom = 20, n = report.series.length;
          const top = Math.max(1, ...report.series.map(p => Math.max(p.totals.orders_created, p.totals.orders_shipped)));
          const step = (width - left - 4) / n;
          const y = v => height - bottom - (height - bottom - 8) * v / top;
          chart.append(svg("line", { x1: left, y1: y(0), x2: width, y2: y(0), stroke: "#999" }),
            svg("text", { x: left - 4, y: y(top) + 4, "text-anchor": "end", "font-size": "11", fill: "#555" }, String(top)),
            svg("text", { x: left - 4, y: y(0), "text-anchor": "end", "font-size": "11", fill: "#555" }, "0"));
          report.series.forEach((point, i) => {
            const h = y(0) - y(point.totals.orders_created);
            if (h > 0) chart.append(svg("rect", { class: "bar", x: (left + i * step + step * 0.1).toFixed(1), y: y(point.totals.orders_created).toFixed(1),
              width: Math.max(1, step * 0.8).toFixed(1), height: h.toFixed(1), fill: "#1f6fd1" }));
          });
          const line = report.series.map((p, i) => (left + (i + 0.5) * step).toFixed(1) + "," + y(p.totals.orders_shipped).toFixed(1)).join(" ");
          chart.append(svg("polyline", { class: "shipped", points: line, fill: "none", stroke: "#2a9d3a", "stroke-width": "2.5" }));
          for (const i of [0, Math.floor(n / 2), n - 1]) {
            const at = new Date(report.series[i].start_ms).toISOString();
            chart.append(svg("text", { x: (left + (i + 0.5) * step).toFixed(1), y: height - 4, "text-anchor": "middle", "font-size": "11", fill: "#555" },
              report.bucket_ms >= 86400000 ? at.slice(5, 10) : at.slice(11, 16)));
          }
        }
        function drawMap(report, orders) {
          const map = document.getElementById("map");
          map.replaceChildren();
          const nodes = report.nodes;
          if (nodes.length === 0) { map.append(svg("text", { x: 300, y: 165, "text-anchor": "middle", fill: "#666" }, "No network (start fulcrumd with --network or --demo)")); return; }
          const byID = Object.fromEntries(nodes.map(n => [n.node, n]));
          const routes = [];
          for (const order of orders) {
            const to = order.ship_to;
            if (!to || to.latitude === undefined || to.longitude === undefined) continue;
            for (const f of order.fulfillment_orders) if (byID[f.node]) routes.push([byID[f.node], to]);
          }
          const places = nodes.map(n => [n.latitude, n.longitude]).concat(routes.map(([, to]) => [to.latitude, to.longitude]));
          const lats = places.map(p => p[0]), lons = places.map(p => p[1]);
          const [south, north, west, east] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
          const squeeze = Math.cos((south + north) / 2 * Math.PI / 180);
          const spanX = Math.max(1e-6, (east - west) * squeeze), spanY = Math.max(1e-6, north - south);
          const scale = Math.min(540 / spanX, 270 / spanY);
          const x = lon => 300 + ((lon - (west + east) / 2) * squeeze) * scale;
          const y = lat => 165 - (lat - (south + north) / 2) * scale;
          for (const [node, to] of routes.slice(0, 400)) {
            map.append(svg("line", { class: "route", x1: x(node.longitude).toFixed(1), y1: y(node.latitude).toFixed(1),
              x2: x(to.longitude).toFixed(1), y2: y(to.latitude).toFixed(1), stroke: "#9aa5b5", "stroke-width": "1", opacity: "0.7" }));
            map.append(svg("circle", { cx: x(to.longitude).toFixed(1), cy: y(to.latitude).toFixed(1), r: "2", fill: "#9aa5b5" }));
          }
          const most = Math.max(1, ...nodes.map(n => n.units_available));
          for (const node of nodes) {
            const load = node.utilization;
            const colour = !node.enabled ? "#888" : load === null ? "#1f6fd1" : "hsl(" + Math.round(120 * (1 - Math.min(1, load))) + ", 70%, 42%)";
            const circle = svg("circle", { class: "node", cx: x(node.longitude).toFixed(1), cy: y(node.latitude).toFixed(1),
              r: (5 + 15 * Math.sqrt(node.units_available / most)).toFixed(1), fill: colour, "fill-opacity": "0.85", stroke: "#fff", "stroke-width": "1.5" });
            circle.append(svg("title", {}, node.node + ": " + node.units_available + " units available, " + node.shipments + " shipments in the window" +
              (load === null ? "" : ", " + percent(load) + " of today's capacity")));
            map.append(circle, svg("text", { x: (x(node.longitude) + 8).toFixed(1), y: (y(node.latitude) - 8).toFixed(1), "font-size": "11", fill: "#333" }, node.node));
          }
        }
        async function insights() {
          const window = document.getElementById("window").value;
          const report = await get("/v1/insights?window=" + window);
          lastInsights = report;
          document.getElementById("bucket-name").textContent = { 60000: "minute", 3600000: "hour", 86400000: "day" }[report.bucket_ms];
          document.getElementById("insights-range").textContent =
            new Date(report.from_ms).toISOString().slice(0, 16).replace("T", " ") + " to " + new Date(report.to_ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
          drawTiles(report);
          drawFlow(report);
          fill("stuck", report.stuck_orders, o => {
            const tr = document.createElement("tr");
            tr.className = "pick zero";
            tr.append(cell(o.order, "text"), cell(o.state, "text"), cell(o.channel ?? "—", "text"), cell(time(o.since_ms)), cell(o.failed_step ?? "—", "text"));
            tr.addEventListener("click", () => timeline(o.order));
            return tr;
          });
          document.getElementById("stuck-note").textContent = report.stuck_orders_count === 0
            ? "Nothing stuck: every order moved within " + duration(report.stuck_after_s) + " or waits for stock."
            : report.stuck_orders_count + " orders unchanged for " + duration(report.stuck_after_s) + " or failed (oldest first).";
          const { anomalies } = await get("/v1/anomalies?limit=50");
          fill("anomalies", anomalies, a => {
            const tr = document.createElement("tr");
            tr.className = "zero";
            tr.append(cell(new Date(a.hour_start_ms).toISOString().slice(0, 16).replace("T", " ")), cell(a.stream, "text"),
              cell(a.subject || "(no channel)", "text"), cell(a.observed), cell(a.expected.toFixed(1) + " ± " + a.deviation.toFixed(1)),
              cell(a.score.toFixed(1)), cell(a.baseline, "text"));
            return tr;
          });
          const { alerts } = await get("/v1/alerts?limit=50");
          const open = alerts.filter(a => a.state === "open");
          document.getElementById("open-alerts").replaceChildren(...open.map(a => {
            const div = document.createElement("div");
            div.className = "alert";
            div.textContent = "Alert " + a.id + ": " + a.condition + " — " + a.opened_value.toFixed(3) + (a.subject ? " at " + a.subject : "") + " since " + time(a.opened_ms);
            return div;
          }));
          fill("alerts", alerts, a => {
            const tr = document.createElement("tr");
            if (a.state === "open") tr.className = "zero";
            tr.append(cell(a.id, "text"), cell(a.state, "text"), cell(a.condition, "text"),
              cell(a.opened_value.toFixed(3) + (a.resolved_value === null ? "" : " → " + a.resolved_value.toFixed(3))),
              cell(time(a.opened_ms)), cell(a.resolved_ms === null ? "—" : time(a.resolved_ms)));
            return tr;
          });
          fill("channels", report.channels, c => {
            const tr = document.createElement("tr");
            const t = c.totals;
            tr.append(cell(c.channel || "(none)", "text"), cell(t.orders_created), cell(t.units_ordered), cell(percent(t.fill_rate)),
              cell(percent(t.split_rate)), cell(money(t.cost_per_order)), cell(money(t.savings)), cell(t.orders_shipped));
            return tr;
          });
        }
        async function positions() {
          const query = new URLSearchParams({ limit: "500" });
          const node = document.getElementById("node-filter").value.trim();
          const sku = document.getElementById("sku-filter").value.trim();
          if (node) query.set("node", node);
          if (sku) query.set("sku", sku);
          const { positions } = await get("/v1/positions?" + query);
          fill("positions", positions, p => {
            const tr = document.createElement("tr");
            if (p.available === 0) tr.className = "zero";
            tr.append(cell(p.node, "text"), cell(p.sku, "text"), cell(p.on_hand), cell(p.reserved), cell(p.committed),
              cell(p.safety_stock), cell(p.available));
            return tr;
          });
        }
        async function reservations() {
          const state = document.getElementById("state-filter").value;
          const { reservations } = await get("/v1/reservations?limit=200" + (state ? "&state=" + state : ""));
          fill("reservations", reservations, r => {
            const tr = document.createElement("tr");
            const lines = r.lines.map(l => l.node + ":" + l.sku + "×" + l.quantity).join(", ");
            tr.append(cell(r.order, "text"), cell(r.state, "text"), cell(lines, "text"),
              cell(r.lines.reduce((n, l) => n + l.quantity, 0)), cell(r.state === "reserved" ? time(r.expires_ms) : "—"));
            return tr;
          });
        }
        async function orders() {
          const { orders } = await get("/v1/orders?limit=200");
          lastOrders = orders;
          fill("orders", orders, o => {
            const tr = document.createElement("tr");
            tr.className = "pick" + (o.failure ? " zero" : "");
            const journey = o.failure ? "failed at " + o.failure.step + ": " + o.failure.code
              : o.waiting.length > 0 ? "waiting at " + o.waiting.map(w => w.step).join(", ") : "—";
            tr.append(cell(o.id, "text"), cell(o.source, "text"), cell(o.state, "text"),
              cell(o.lines.reduce((n, l) => n + l.quantity, 0)),
              cell(o.fulfillment_orders.map(f => f.node + " " + f.state).join(", "), "text"), cell(journey, "text"));
            tr.addEventListener("click", () => timeline(o.id));
            return tr;
          });
          if (timelineID === null && orders.length > 0) await timeline(orders[0].id);
        }
        async function receipts() {
          const { receipts } = await get("/v1/receipts?limit=200");
          fill("receipts", receipts, r => {
            const tr = document.createElement("tr");
            tr.append(cell(r.receipt, "text"), cell(r.node, "text"), cell(r.sku, "text"), cell(r.quantity),
              cell(new Date(r.due_ms).toISOString().slice(0, 16).replace("T", " ")), cell(r.from_node || "—", "text"));
            return tr;
          });
        }
        async function allocations() {
          const { allocations } = await get("/v1/allocations?limit=200");
          fill("allocations", allocations, a => {
            const tr = document.createElement("tr");
            const amount = a.quantity !== undefined ? a.quantity + " units" : (a.share_basis_points / 100) + "% of on hand";
            const until = a.expires_ms === undefined ? "—" : new Date(a.expires_ms).toISOString().slice(0, 16).replace("T", " ");
            tr.append(cell(a.channel, "text"), cell(a.node === "*" ? "every node" : a.node, "text"), cell(a.sku, "text"),
              cell(amount, "text"), cell(a.overflow ? "yes" : "no", "text"), cell(until));
            return tr;
          });
        }
        async function backorders() {
          const { backorders } = await get("/v1/backorders?limit=200");
          fill("backorders", backorders, b => {
            const tr = document.createElement("tr");
            tr.className = "pick";
            const short = Object.entries(b.shortages).map(([sku, quantity]) => quantity + " " + sku).join(", ");
            tr.append(cell(b.order, "text"), cell(b.on_shortage, "text"), cell(time(b.since_ms)), cell(b.priority), cell(short, "text"));
            tr.addEventListener("click", () => timeline(b.order));
            return tr;
          });
        }
        async function timeline(id) {
          timelineID = id;
          document.getElementById("timeline-id").textContent = id;
          const { timeline } = await get("/v1/orders/" + encodeURIComponent(id));
          fill("timeline", timeline, t => {
            const tr = document.createElement("tr");
            if (t.kind === "error") tr.className = "zero";
            tr.append(cell(time(t.at_ms)), cell(t.kind, "text"), cell(t.entity, "text"), cell(t.step || "", "text"),
              cell(t.text + (t.code ? " (" + t.code + ")" : ""), "text"));
            return tr;
          });
        }
        async function decisions() {
          const { decisions } = await get("/v1/decisions?limit=50");
          fill("decisions", decisions, d => {
            const tr = document.createElement("tr");
            tr.className = "pick";
            tr.dataset.id = d.id;
            const shipments = d.plans.flatMap(p => p.shipments);
            tr.append(cell(d.id, "text"), cell(time(d.at_ms)), cell(d.strategy, "text"), cell(d.plans.map(p => p.order).join(", "), "text"),
              cell(shipments.map(s => s.node + " (" + s.units + ")").join(", "), "text"),
              cell(d.plans.reduce((n, p) => n + p.units_backordered, 0)), cell(d.objective.toFixed(2)), cell(d.solve_ms.toFixed(2)));
            tr.addEventListener("click", () => explain(d.id));
            return tr;
          });
          if (explainedID === null && decisions.length > 0) await explain(decisions[0].id);
        }
        async function explain(id) {
          explainedID = id;
          document.getElementById("explained-id").textContent = id;
          const { explain } = await get("/v1/decisions/" + id);
          const box = document.getElementById("explanation");
          box.replaceChildren();
          for (const [index, order] of explain.entries()) {
            const table = document.createElement("table");
            table.id = "explanation-" + index;
            table.innerHTML = "<thead><tr><th>Order " + order.order.replace(/[<&]/g, "") + ": node</th><th>Why not</th></tr></thead>";
            const body = document.createElement("tbody");
            for (const node of order.nodes) {
              const tr = document.createElement("tr");
              const why = node.reasons.map(r => r.reason + (r.extra_cost !== undefined ? " (+" + r.extra_cost.toFixed(2) + ")" : "")
                + (r.line ? " [line " + r.line + "]" : "")).join("; ");
              tr.append(cell(node.node, "text"), cell(why, "text"));
              body.append(tr);
            }
            table.append(body);
            box.append(table);
          }
          if (explain.length === 0) box.textContent = "Every node was used.";
        }
        async function replication() {
          const { replication: r } = await get("/v1/replication");
          document.getElementById("replication-section").hidden = r === null;
          if (r === null) return;
          document.getElementById("replication-summary").textContent =
            `Replica ${r.name} of cluster ${r.cluster}: ${r.role}, term ${r.term}, leader ${r.leader ?? "unknown"}, ` +
            `applied ${r.applied} of ${r.head} (${r.lag_entries} behind).`;
          fill("replicas", r.replicas, p => {
            const tr = document.createElement("tr");
            tr.append(cell(p.name + (p.name === r.name ? " (this one)" : ""), "text"), cell(String(p.applied)),
              cell(String(Math.max(0, r.head - p.applied))));
            return tr;
          });
        }
        async function network() {
          const { nodes } = await get("/v1/nodes");
          fill("network", nodes, n => {
            const tr = document.createElement("tr");
            const limit = n.capacity_per_day === null ? "—" : String(n.capacity_per_day);
            const left = n.capacity_left === null ? "—" : String(n.capacity_left);
            tr.append(cell(n.node, "text"), cell(n.kind, "text"), cell(n.enabled ? "open" : "closed", "text"),
              cell(n.can_ship ? "yes" : "no", "text"), cell(n.day, "text"), cell(String(n.released_quantity)), cell(limit),
              cell(left), cell(n.timezone, "text"));
            return tr;
          });
        }
        async function audit() {
          const note = document.getElementById("audit-note");
          try {
            const { entries } = await get("/v1/audit?limit=100");
            note.textContent = "Inventory changes and admin actions, newest first.";
            fill("audit", entries, e => {
              const tr = document.createElement("tr");
              tr.append(cell(time(e.at_ms)), cell(e.token, "text"), cell(e.operation, "text"), cell(e.subject, "text"),
                cell(e.detail, "text"), cell(e.request, "text"));
              return tr;
            });
          } catch (error) {
            // A token without the admin scope sees the rest of the page.
            fill("audit", [], () => null);
            note.textContent = String(error.message || error);
          }
        }
        async function refresh() {
          try {
            await Promise.all([insights(), positions(), reservations(), decisions(), orders(), backorders(), receipts(), allocations(), network(), replication(), audit()]);
            drawMap(lastInsights, lastOrders);
            document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
            document.getElementById("error").textContent = "";
          } catch (error) {
            document.getElementById("error").textContent = String(error.message || error);
          }
        }
        for (const id of ["node-filter", "sku-filter", "state-filter", "window"]) document.getElementById(id).addEventListener("change", refresh);
        refresh();
        setInterval(refresh, 5000);
        </script></body></html>
        """#
}
