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
        </style></head><body>
        <h1>Fulcrum operations</h1>
        <div class="bar"><span id="status">loading…</span><span id="error"></span>
        <label>Token <input id="token" type="password" size="14"></label></div>
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
            await Promise.all([positions(), reservations(), decisions(), orders(), backorders(), receipts(), allocations(), network(), replication(), audit()]);
            document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
            document.getElementById("error").textContent = "";
          } catch (error) {
            document.getElementById("error").textContent = String(error.message || error);
          }
        }
        for (const id of ["node-filter", "sku-filter", "state-filter"]) document.getElementById(id).addEventListener("change", refresh);
        refresh();
        setInterval(refresh, 5000);
        </script></body></html>
        """#
}
