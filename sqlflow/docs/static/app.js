/* sqlflow docs: the one-page app.
 *
 * data/index.js calls sqlflow.index(doc): a compact list of every node (fields in doc.fields). The details of
 * node i (SQL, columns with their direct lineage, tests, runs) are in nodes/<i / doc.chunk>.js with those of
 * its neighbours in the index, loaded with a <script> tag when needed and handed to sqlflow.register(docs);
 * script tags work from file:// where fetch() does not.
 * Routes: #/ (overview), #/node/<id>, #/node/<id>/<column>. The graph never draws more than the focus
 * (N hops around a node) unless "Whole graph" is pressed, or the project is small. window.sqlflowReady is
 * true once the first page is drawn (tests and the benchmark wait for it).
 */
(function () {
  "use strict";

  var AUTO_ALL = 300; // draw the whole graph on load up to this many nodes
  var DAGRE_MAX = 400; // above this many nodes, lay out in columns by depth instead of with dagre
  var DAGRE_ALL = 150; // the same for the whole graph, drawn on load (dagre takes ~0.5 s at 200 nodes)
  var LIST_MAX = 200; // rows of the sidebar list drawn at once
  var LINEAGE_MAX = 400; // column-lineage edges walked at most, each way
  var TYPES = ["model", "seed", "snapshot", "source", "sensor", "test"];
  var PALETTE = {
    materialized: {
      view: "#54aeff", table: "#1a7f37", incremental: "#8250df", ephemeral: "#bf8700",
      seed: "#6e7781", snapshot: "#cf222e", source: "#0550ae", sensor: "#953800", other: "#afb8c1"
    },
    status: {
      success: "#2da44e", pass: "#2da44e", error: "#cf222e", fail: "#cf222e", warn: "#d4a72c",
      skipped: "#8c959f", running: "#54aeff", "never run": "#d0d7de"
    },
    type: {
      model: "#0969da", seed: "#6e7781", snapshot: "#cf222e", source: "#0550ae", sensor: "#953800",
      test: "#8c959f"
    }
  };

  var state = {
    index: null, nodes: [], byId: {}, children: [], details: {}, waiting: {},
    cy: null, focus: null, drawn: "none", pathTo: null, column: null, listQuery: "",
    types: { model: true, seed: true, snapshot: true, source: true, sensor: true, test: true },
    version: ""
  };

  // -- tiny DOM helpers --------------------------------------------------------------------------------------

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "cls") node.className = v;
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v);
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  function $(id) { return document.getElementById(id); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function href(uid, column) {
    return "#/node/" + encodeURIComponent(uid) + (column ? "/" + encodeURIComponent(column) : "");
  }
  function nodeLink(uid, column) {
    var n = state.byId[uid];
    if (!n) return el("span", { cls: "muted", text: external(uid) + (column ? "." + column : "") });
    return el("a", { href: href(uid, column), text: n.name + (column ? "." + column : "") });
  }
  function external(uid) { return uid.indexOf("external:") === 0 ? uid.slice(9) : uid; }
  function badge(text, cls) { return text ? el("span", { cls: "badge " + (cls || text), text: text }) : null; }

  // -- data ------------------------------------------------------------------------------------------------

  function index(doc) {
    var f = {};
    doc.fields.forEach(function (name, i) { f[name] = i; });
    state.index = doc;
    state.version = doc.generated_at;
    state.nodes = doc.nodes.map(function (row, i) {
      return {
        i: i, id: row[f.id], name: row[f.name], type: row[f.type], materialized: row[f.materialized],
        status: row[f.status], path: row[f.path], tags: row[f.tags] || [], parents: row[f.parents] || [],
        attached: row[f.attached], chunk: Math.floor(i / doc.chunk),
        search: (row[f.name] + " " + row[f.id] + " " + row[f.path] + " " + (row[f.tags] || []).join(" ")).toLowerCase()
      };
    });
    state.children = state.nodes.map(function () { return []; });
    state.nodes.forEach(function (n) {
      state.byId[n.id] = n;
      n.parents.forEach(function (p) { state.children[p].push(n.i); });
    });
    boot();
  }

  function register(docs) {
    docs.forEach(function (doc) { state.details[doc.id] = doc; });
  }

  // The detail of a node: its chunk's script is loaded once, whoever asks first.
  function loadDetail(uid) {
    if (state.details[uid]) return Promise.resolve(state.details[uid]);
    var n = state.byId[uid];
    if (!n) return Promise.resolve(null);
    var pending = state.waiting[n.chunk];
    if (!pending) {
      pending = state.waiting[n.chunk] = new Promise(function (resolve) {
        var script = document.createElement("script");
        script.src = "nodes/" + n.chunk + ".js?v=" + encodeURIComponent(state.version);
        script.onload = function () { script.remove(); resolve(); };
        script.onerror = function () { script.remove(); delete state.waiting[n.chunk]; resolve(); };
        document.head.appendChild(script);
      });
    }
    return pending.then(function () { return state.details[uid] || null; });
  }

  // -- sidebar ---------------------------------------------------------------------------------------------

  function drawFilters() {
    var counts = {};
    state.nodes.forEach(function (n) { counts[n.type] = (counts[n.type] || 0) + 1; });
    var box = clear($("type-filters"));
    TYPES.forEach(function (t) {
      if (!counts[t]) return;
      var input = el("input", { type: "checkbox", "data-type": t });
      input.checked = state.types[t];
      input.addEventListener("change", function () { state.types[t] = input.checked; drawList(); });
      box.appendChild(el("label", null, input, " " + t + "s (" + counts[t] + ")"));
    });
  }

  function drawList() {
    var q = state.listQuery.trim().toLowerCase();
    var words = q ? q.split(/\s+/) : [];
    var hits = state.nodes.filter(function (n) {
      if (!state.types[n.type]) return false;
      for (var i = 0; i < words.length; i++) if (n.search.indexOf(words[i]) < 0) return false;
      return true;
    });
    var order = { model: 0, seed: 1, snapshot: 2, source: 3, sensor: 4, test: 5 };
    hits.sort(function (a, b) {
      return (order[a.type] - order[b.type]) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    var list = clear($("node-list"));
    var current = state.focus;
    hits.slice(0, LIST_MAX).forEach(function (n) {
      var a = el("a", { href: href(n.id), title: n.id + "\n" + n.path, "data-id": n.id, cls: n.id === current ? "current" : null },
        el("span", { cls: "dot", style: "background:" + colorOf(n, "materialized") }),
        el("span", { cls: "name", text: n.name }),
        el("span", { cls: "muted", text: n.type === "model" ? (n.materialized || "") : n.type }));
      list.appendChild(el("li", null, a));
    });
    $("list-more").textContent = hits.length > LIST_MAX
      ? "showing " + LIST_MAX + " of " + hits.length + ": refine the search"
      : hits.length + " shown";
  }

  // -- graph -----------------------------------------------------------------------------------------------

  function colorOf(n, by) {
    var palette = PALETTE[by];
    if (by === "materialized") {
      var key = n.type === "model" ? n.materialized : n.type;
      return palette[key] || palette.other;
    }
    if (by === "status") return palette[n.status || "never run"] || palette["never run"];
    return palette[n.type] || "#afb8c1";
  }

  function graphNodes() {
    return state.nodes.filter(function (n) { return n.type !== "test"; });
  }

  function labelWidth(node) { return 7 * String(node.data("label") || "").length + 8; }

  function fitGraph(cy) {
    cy.fit(undefined, 20);
    if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
  }

  function ensureCy() {
    if (state.cy) return state.cy;
    state.cy = cytoscape({
      container: $("graph"),
      elements: [],
      minZoom: 0.02,
      maxZoom: 4,
      textureOnViewport: true,
      hideEdgesOnViewport: true,
      style: [
        { selector: "node", style: {
          "background-color": "data(color)", label: "data(label)", "font-size": 11, "text-valign": "bottom",
          "text-margin-y": 3, width: 16, height: 16, "min-zoomed-font-size": 7, color: "#1f2328" } },
        { selector: "node.focus", style: { "border-width": 4, "border-color": "#0969da", width: 22, height: 22 } },
        { selector: "node.path", style: { "border-width": 3, "border-color": "#bf8700" } },
        { selector: "node.faded", style: { opacity: 0.25 } },
        { selector: "node.column", style: { shape: "round-rectangle", width: labelWidth, height: 18, padding: 6,
          "text-valign": "center", "text-margin-y": 0, "font-size": 11, color: "#fff" } },
        { selector: "edge", style: { width: 1.2, "line-color": "#afb8c1", "target-arrow-color": "#afb8c1",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8 } },
        { selector: "edge.path", style: { width: 3, "line-color": "#bf8700", "target-arrow-color": "#bf8700" } },
        { selector: "edge.faded", style: { opacity: 0.15 } }
      ]
    });
    state.cy.on("tap", "node", function (evt) {
      var id = evt.target.data("node");
      if (!id) return;
      if (evt.originalEvent && evt.originalEvent.shiftKey && state.focus) highlightPath(id);
      else if (evt.target.data("column")) location.hash = href(id, evt.target.data("column"));
      else location.hash = href(id);
    });
    return state.cy;
  }

  function neighbourhood(i, up, down) {
    var keep = {};
    keep[i] = true;
    walk([i], up, function (j) { return state.nodes[j].parents; }, keep);
    walk([i], down, function (j) { return state.children[j]; }, keep);
    return Object.keys(keep).map(Number);
  }
  function walk(start, hops, next, keep) {
    var frontier = start;
    for (var h = 0; h < hops && frontier.length; h++) {
      var nxt = [];
      frontier.forEach(function (j) {
        next(j).forEach(function (k) { if (!keep[k]) { keep[k] = true; nxt.push(k); } });
      });
      frontier = nxt;
    }
    return keep;
  }
  function reach(i, next) { var keep = {}; walk([i], Infinity, next, keep); return keep; }

  function drawNodes(indices, why, dagreMax) {
    var cy = ensureCy();
    var by = $("color-by").value;
    var set = {};
    indices = indices.filter(function (j) { return state.nodes[j].type !== "test"; });
    indices.forEach(function (j) { set[j] = true; });
    var elements = [];
    indices.forEach(function (j) {
      var n = state.nodes[j];
      elements.push({ group: "nodes", data: { id: "n" + j, node: n.id, label: n.name, color: colorOf(n, by) } });
    });
    indices.forEach(function (j) {
      state.nodes[j].parents.forEach(function (p) {
        if (set[p]) elements.push({ group: "edges", data: { id: "e" + p + "_" + j, source: "n" + p, target: "n" + j } });
      });
    });
    cy.startBatch();
    cy.elements().remove();
    cy.add(elements);
    cy.endBatch();
    layout(cy, indices, dagreMax === undefined ? DAGRE_MAX : dagreMax);
    if (state.focus && state.byId[state.focus]) cy.getElementById("n" + state.byId[state.focus].i).addClass("focus");
    $("graph-info").textContent = indices.length + " of " + graphNodes().length + " nodes" + (why ? " · " + why : "");
    drawLegend(by);
    state.drawn = "nodes";
  }

  function layout(cy, indices, dagreMax) {
    if (indices.length <= dagreMax) {
      cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 14, rankSep: 60, nodeDimensionsIncludeLabels: true, animate: false, fit: false }).run();
      fitGraph(cy);
      return;
    }
    // blocks of columns by depth, left to right (the index is in dependency order, so one pass computes
    // the depth); a deep layer wraps into several columns of `rows` nodes, so the picture stays square-ish
    var depth = {}, count = {}, seen = {}, maxDepth = 0;
    var sorted = indices.slice().sort(function (a, b) { return a - b; });
    sorted.forEach(function (j) {
      var d = 0;
      state.nodes[j].parents.forEach(function (p) { if (depth[p] !== undefined) d = Math.max(d, depth[p] + 1); });
      depth[j] = d;
      count[d] = (count[d] || 0) + 1;
      maxDepth = Math.max(maxDepth, d);
    });
    var rows = Math.max(20, Math.ceil(Math.sqrt(indices.length) * 1.5));
    var start = {}, x = 0;
    for (var d = 0; d <= maxDepth; d++) { start[d] = x; x += Math.ceil((count[d] || 0) / rows) + 1; }
    cy.startBatch();
    sorted.forEach(function (j) {
      var d = depth[j], k = seen[d] = (seen[d] || 0) + 1;
      cy.getElementById("n" + j).position({ x: (start[d] + Math.floor((k - 1) / rows)) * 150, y: ((k - 1) % rows) * 26 });
    });
    cy.endBatch();
    fitGraph(cy);
  }

  function drawLegend(by) {
    var legend = clear($("legend"));
    var used = {};
    state.cy.nodes().forEach(function (node) { used[node.data("color")] = true; });
    Object.keys(PALETTE[by]).forEach(function (k) {
      var c = PALETTE[by][k];
      if (!used[c]) return;
      used[c] = false;
      legend.appendChild(el("span", null, el("i", { style: "background:" + c }), k));
    });
  }

  function drawFocus() {
    var n = state.focus && state.byId[state.focus];
    if (!n || n.type === "test") {
      var small = graphNodes().length <= AUTO_ALL;
      if (small || state.drawn === "all") return drawAll();
      return drawEmpty();
    }
    var up = Math.max(0, parseInt($("hops-up").value, 10) || 0);
    var down = Math.max(0, parseInt($("hops-down").value, 10) || 0);
    $("graph-title").textContent = "Around " + n.name;
    drawNodes(neighbourhood(n.i, up, down), up + " up, " + down + " down");
    if (state.pathTo) highlightPath(state.pathTo);
  }

  function drawAll() {
    $("graph-title").textContent = "Whole graph";
    drawNodes(graphNodes().map(function (n) { return n.i; }), "", DAGRE_ALL);
    state.drawn = "all";
  }

  function drawEmpty() {
    if (state.cy) state.cy.elements().remove();
    $("graph-title").textContent = "Graph";
    $("graph-info").textContent = graphNodes().length + " nodes: pick one to see its neighbourhood, or draw the whole graph";
    clear($("legend"));
    state.drawn = "none";
  }

  function highlightPath(targetId) {
    var a = state.byId[state.focus], b = state.byId[targetId];
    if (!a || !b || !state.cy) return;
    state.pathTo = targetId;
    var down = reach(a.i, function (j) { return state.children[j]; });
    var up = reach(a.i, function (j) { return state.nodes[j].parents; });
    var onPath = {};
    var from, to;
    if (down[b.i]) { from = a.i; to = b.i; } else if (up[b.i]) { from = b.i; to = a.i; } else {
      $("graph-info").textContent = "no path between " + a.name + " and " + b.name;
      return;
    }
    var after = reach(from, function (j) { return state.children[j]; });
    var before = reach(to, function (j) { return state.nodes[j].parents; });
    Object.keys(after).forEach(function (k) { if (before[k]) onPath[k] = true; });
    onPath[from] = onPath[to] = true;
    var cy = state.cy;
    var missing = Object.keys(onPath).some(function (k) { return cy.getElementById("n" + k).empty(); });
    if (missing) {
      var keep = neighbourhood(a.i, parseInt($("hops-up").value, 10) || 0, parseInt($("hops-down").value, 10) || 0);
      drawNodes(keep.concat(Object.keys(onPath).map(Number)), "path to " + b.name);
      if (state.focus) cy.getElementById("n" + a.i).addClass("focus");
    }
    cy.elements().removeClass("path").addClass("faded");
    cy.nodes().forEach(function (node) {
      if (onPath[node.id().slice(1)]) node.removeClass("faded").addClass("path");
    });
    cy.edges().forEach(function (edge) {
      if (onPath[edge.source().id().slice(1)] && onPath[edge.target().id().slice(1)]) edge.removeClass("faded").addClass("path");
    });
    $("graph-info").textContent = "path " + state.nodes[from].name + " → " + state.nodes[to].name + ": " +
      Object.keys(onPath).length + " nodes";
  }

  function drawColumnGraph(ref, hops) {
    var cy = ensureCy();
    var by = $("color-by").value;
    var ids = {}, elements = [];
    function add(r) {
      var key = r[0] + "\u0000" + r[1];
      if (ids[key]) return ids[key];
      var n = state.byId[r[0]];
      var id = "c" + Object.keys(ids).length;
      ids[key] = id;
      elements.push({ group: "nodes", classes: "column", data: {
        id: id, node: n ? n.id : null, column: r[1], label: (n ? n.name : external(r[0])) + "." + r[1],
        color: n ? colorOf(n, by) : "#6e7781" } });
      return id;
    }
    add(ref);
    hops.forEach(function (h) {
      var s = add(h.source), t = add(h.column);
      var eid = "e" + s + "_" + t;
      if (!elements.some(function (e) { return e.data.id === eid; })) elements.push({ group: "edges", data: { id: eid, source: s, target: t } });
    });
    cy.startBatch();
    cy.elements().remove();
    cy.add(elements);
    cy.endBatch();
    cy.getElementById("c0").addClass("focus");
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 10, rankSep: 60, animate: false, fit: false }).run();
    fitGraph(cy);
    $("graph-title").textContent = "Lineage of " + state.byId[ref[0]].name + "." + ref[1];
    $("graph-info").textContent = (elements.length - hops.length) + " columns";
    drawLegend(by);
    state.drawn = "column";
  }

  // -- column lineage ----------------------------------------------------------------------------------------

  // Walk the direct edges of the detail files, loading them as needed: `dir` is "up" or "down".
  function columnLineage(ref, dir) {
    var hops = [], seen = {}, truncated = false;
    seen[ref.join("\u0000")] = true;
    function level(frontier, depth) {
      if (!frontier.length) return Promise.resolve();
      if (hops.length >= LINEAGE_MAX) { truncated = true; return Promise.resolve(); }
      var nodes = {};
      frontier.forEach(function (r) { nodes[r[0]] = true; });
      return Promise.all(Object.keys(nodes).map(loadDetail)).then(function () {
        var next = [];
        frontier.forEach(function (r) {
          var d = state.details[r[0]];
          if (!d || !d.columns) return;
          var col = d.columns.filter(function (c) { return c.name.toLowerCase() === r[1].toLowerCase(); })[0];
          if (!col) return;
          col[dir].forEach(function (other) {
            if (hops.length >= LINEAGE_MAX) { truncated = true; return; }
            hops.push(dir === "up" ? { depth: depth, column: r, source: other } : { depth: depth, column: other, source: r });
            var key = other.join("\u0000");
            if (!seen[key]) { seen[key] = true; next.push(other); }
          });
        });
        return level(next, depth + 1);
      });
    }
    return level([ref], 1).then(function () { return { hops: hops, truncated: truncated }; });
  }

  function drawLineagePanel(box, uid, column) {
    var ref = [uid, column];
    clear(box);
    box.appendChild(el("h2", { id: "column-lineage", text: "Lineage of " + state.byId[uid].name + "." + column }));
    var grid = el("div", { cls: "lineage" });
    box.appendChild(grid);
    var upBox = el("div", { id: "lineage-up" }, el("strong", { text: "Upstream: derives from" }));
    var downBox = el("div", { id: "lineage-down" }, el("strong", { text: "Downstream: used by" }));
    grid.appendChild(upBox);
    grid.appendChild(downBox);
    return Promise.all([columnLineage(ref, "up"), columnLineage(ref, "down")]).then(function (both) {
      if (state.column !== uid + "\u0000" + column) return;
      listHops(upBox, both[0], "source");
      listHops(downBox, both[1], "column");
      drawColumnGraph(ref, both[0].hops.concat(both[1].hops));
      box.setAttribute("data-ready", "true");
    });
  }

  function listHops(box, result, side) {
    var list = el("ol");
    var shown = {};
    result.hops.forEach(function (h) {
      var r = h[side];
      var key = r.join("\u0000");
      if (shown[key]) return;
      shown[key] = true;
      list.appendChild(el("li", { "data-ref": r[0] + "." + r[1] }, nodeLink(r[0], r[1]), " ",
        el("span", { cls: "depth", text: h.depth === 1 ? "direct" : h.depth + " hops" })));
    });
    if (!result.hops.length) box.appendChild(el("p", { cls: "muted", text: "none" }));
    else box.appendChild(list);
    if (result.truncated) box.appendChild(el("p", { cls: "muted", text: "stopped after " + LINEAGE_MAX + " edges" }));
  }

  // -- pages ----------------------------------------------------------------------------------------------

  function drawHome() {
    state.focus = null;
    state.column = null;
    state.pathTo = null;
    var box = clear($("detail"));
    var counts = {};
    state.nodes.forEach(function (n) { counts[n.type] = (counts[n.type] || 0) + 1; });
    box.appendChild(el("h1", { text: state.index.project }));
    box.appendChild(el("p", null, TYPES.filter(function (t) { return counts[t]; }).map(function (t) {
      return counts[t] + " " + t + (counts[t] === 1 ? "" : "s");
    }).join(" · ")));
    notes(box);
    box.appendChild(el("p", { cls: "muted", text: "Pick a node in the list or the graph. On a node's page, click a " +
      "column to see where it comes from and what depends on it. Shift-click a node in the graph to highlight " +
      "the paths between it and the focused node." }));
    drawFocus();
    drawList();
  }

  function notes(box) {
    [state.index.catalog_note && "Column types: " + state.index.catalog_note,
     state.index.state_note && "Runs: " + state.index.state_note].forEach(function (t) {
      if (t) box.appendChild(el("div", { cls: "note", text: t }));
    });
  }

  function drawNode(uid, column) {
    var n = state.byId[uid];
    var box = clear($("detail"));
    if (!n) {
      box.appendChild(el("p", { text: "No node " + uid + " in this project." }));
      return Promise.resolve();
    }
    var refocus = state.focus !== uid || state.drawn !== "nodes";
    state.focus = uid;
    state.column = column ? uid + "\u0000" + column : null;
    box.appendChild(el("h1", null, el("span", { text: n.name }), badge(n.type, "type"), badge(n.materialized, "mat"), badge(n.status)));
    box.appendChild(el("p", { cls: "muted", text: "loading…" }));
    if (!column && refocus) { state.pathTo = null; drawFocus(); }
    drawList();
    return loadDetail(uid).then(function (d) {
      if (state.focus !== uid) return;
      box.removeChild(box.lastChild);
      if (!d) { box.appendChild(el("p", { text: "The detail file of this node is missing: regenerate the docs." })); return; }
      page(box, n, d, column);
      box.setAttribute("data-node", uid);
      if (column) return drawLineagePanel($("column-panel"), uid, column);
    });
  }

  function page(box, n, d, column) {
    if (d.description) box.appendChild(el("p", { cls: "desc", text: d.description }));
    else box.appendChild(el("p", { cls: "muted", text: "No description." }));
    var meta = el("dl", { cls: "meta" });
    function row(k, v) {
      if (v === null || v === undefined || v === "") return;
      meta.appendChild(el("dt", { text: k }));
      meta.appendChild(el("dd", null, v));
    }
    row("unique id", el("code", { text: d.id }));
    row("file", el("code", { text: d.path }));
    row("relation", d.relation ? el("code", { text: d.relation }) : null);
    row("materialized", d.materialized);
    row("tags", (d.tags || []).join(", "));
    if (d.config) Object.keys(d.config).forEach(function (k) { if (k !== "materialized") row(k, String(d.config[k])); });
    if (d.attached) row("tests", nodeLink(d.attached, d.column));
    if (d.kind) row("sensor", d.kind + " " + JSON.stringify(d.params));
    if (d.loaded_at_field) row("loaded_at_field", d.loaded_at_field);
    box.appendChild(meta);

    if (d.columns) {
      box.appendChild(el("h2", { text: "Columns" }));
      if (!d.columns.length) box.appendChild(el("p", { cls: "muted", text: "No known columns." }));
      else {
        var tbody = el("tbody");
        d.columns.forEach(function (c) {
          var tests = c.tests.map(function (t) { var tn = state.byId[t]; return tn ? tn.name : t; });
          var tr = el("tr", { "data-column": c.name, cls: column === c.name ? "selected" : null,
            title: "Show the lineage of " + c.name,
            onclick: function () { location.hash = href(d.id, c.name); } },
            el("td", null, el("code", { text: c.name })), el("td", { text: c.type || "" }),
            el("td", { cls: "desc", text: c.description || "" }), el("td", { text: tests.join(", ") }),
            el("td", { cls: "muted", text: c.up.length + " ↑ · " + c.down.length + " ↓" }));
          tbody.appendChild(tr);
        });
        box.appendChild(el("table", { cls: "columns" },
          el("thead", null, el("tr", null, ["column", "type", "description", "tests", "lineage"].map(function (h) { return el("th", { text: h }); }))),
          tbody));
        if (d.lineage_error) box.appendChild(el("div", { cls: "note", text: "Column lineage could not be traced: " + d.lineage_error }));
      }
      box.appendChild(el("div", { id: "column-panel" }));
    }

    box.appendChild(el("h2", { text: "Upstream and downstream" }));
    var ud = el("div", { cls: "lineage" });
    ud.appendChild(el("div", null, el("strong", { text: "Depends on" }), links(d.parents)));
    ud.appendChild(el("div", null, el("strong", { text: "Used by" }), links(d.children)));
    box.appendChild(ud);

    if (d.tests && d.tests.length) {
      box.appendChild(el("h2", { text: "Tests" }));
      var tb = el("tbody");
      d.tests.forEach(function (t) {
        tb.appendChild(el("tr", null, el("td", null, el("a", { href: href(t.id), text: t.name })), el("td", { text: t.column || "" }),
          el("td", { text: t.severity }), el("td", null, badge(t.status || "never run", t.status || "none"))));
      });
      box.appendChild(el("table", null, el("thead", null, el("tr", null, ["test", "column", "severity", "last status"].map(function (h) { return el("th", { text: h }); }))), tb));
    }

    box.appendChild(el("h2", { text: "Last runs" }));
    if (!d.runs.length) box.appendChild(el("p", { cls: "muted", text: state.index.state_note || "Never run." }));
    else {
      var rb = el("tbody");
      d.runs.forEach(function (r) {
        rb.appendChild(el("tr", null, el("td", null, badge(r.status)), el("td", { text: r.started_at || "" }),
          el("td", { text: r.duration === null ? "" : r.duration.toFixed(2) + " s" }),
          el("td", { text: r.rows === null ? "" : String(r.rows) }), el("td", { cls: "muted", text: r.message || "" })));
      });
      box.appendChild(el("table", { cls: "runs" }, el("thead", null, el("tr", null, ["status", "started", "duration", "rows", "message"].map(function (h) { return el("th", { text: h }); }))), rb));
    }

    if (d.raw_sql !== undefined) {
      box.appendChild(el("h2", { text: "SQL" }));
      var pre = el("pre");
      var tabs = el("div", { cls: "tabs" });
      var shown = d.compiled_sql ? "compiled" : "raw";
      function show(which) {
        shown = which;
        var code = el("code", { cls: "language-sql", text: (which === "raw" ? d.raw_sql : d.compiled_sql) || "" });
        clear(pre).appendChild(code);
        if (window.hljs) window.hljs.highlightElement(code);
        Array.prototype.forEach.call(tabs.children, function (b) { b.className = b.getAttribute("data-tab") === which ? "active" : ""; });
      }
      ["compiled", "raw"].forEach(function (w) {
        if (w === "compiled" && !d.compiled_sql) return;
        tabs.appendChild(el("button", { type: "button", "data-tab": w, text: w, onclick: function () { show(w); } }));
      });
      box.appendChild(tabs);
      box.appendChild(pre);
      show(shown);
    }
  }

  function links(uids) {
    if (!uids.length) return el("p", { cls: "muted", text: "none" });
    return el("ul", { cls: "links" }, uids.map(function (u) { return el("li", null, nodeLink(u)); }));
  }

  // -- routing and boot ----------------------------------------------------------------------------------------

  function route() {
    var m = /^#\/node\/([^/]+)(?:\/(.+))?$/.exec(location.hash);
    if (!m) return Promise.resolve(drawHome());
    return drawNode(decodeURIComponent(m[1]), m[2] ? decodeURIComponent(m[2]) : null);
  }

  function boot() {
    if (!window.cytoscape) throw new Error("cytoscape did not load");
    var header = $("notes");
    header.textContent = [state.index.catalog_note ? "no column types" : "", state.index.state_note ? "no runs" : ""].filter(Boolean).join(" · ");
    drawFilters();
    var names = clear($("path-names"));
    graphNodes().slice(0, 5000).forEach(function (n) { names.appendChild(el("option", { value: n.name })); });
    var timer = null;
    $("search").addEventListener("input", function (e) {
      state.listQuery = e.target.value;
      clearTimeout(timer);
      timer = setTimeout(drawList, 80);
    });
    $("hops-up").addEventListener("change", drawFocus);
    $("hops-down").addEventListener("change", drawFocus);
    $("color-by").addEventListener("change", function () {
      if (state.column) { var p = state.column.split("\u0000"); drawNode(p[0], p[1]); } else drawFocus();
    });
    $("show-all").addEventListener("click", function () { state.pathTo = null; drawAll(); });
    $("fit").addEventListener("click", function () { if (state.cy) fitGraph(state.cy); });
    $("path-to").addEventListener("change", function (e) {
      var name = e.target.value.trim();
      var hit = state.nodes.filter(function (n) { return n.name === name || n.id === name; })[0];
      if (hit && state.focus) highlightPath(hit.id);
    });
    window.addEventListener("hashchange", route);
    Promise.resolve(route()).then(function () { window.sqlflowReady = true; });
  }

  window.sqlflow = {
    index: index,
    register: register,
    // for tests: the unique ids drawn in the graph now
    graphNodeIds: function () {
      return state.cy ? state.cy.nodes().map(function (n) { return n.data("node"); }) : [];
    },
    pathNodeIds: function () {
      return state.cy ? state.cy.nodes(".path").map(function (n) { return n.data("node"); }) : [];
    }
  };
})();
