/* shieldwall laydown page: drag batteries and radars of a scenario on the map, see each battery's
 * engagement ring against a chosen threat type and its radar horizon at a chosen altitude, run the
 * moved laydown against the file as opened on common random numbers and read the table in place.
 *
 * The numbers are the server's (POST /api/laydown: the engine's own ranges and 4/3-earth horizon);
 * this script only draws them, on the replay's map (ShieldwallReplay.baseMap), and sends the moves
 * back. The scenario comes from ?run=NAME, ?example=NAME, the example list, or the editor
 * (?from=editor: the editor leaves its text in sessionStorage). A file of its own, not an inline
 * script: the app's pages run under a CSP that allows none. */
(function () {
  "use strict";
  var R = window.ShieldwallReplay;
  var root = document.getElementById("laydown");
  if (!root || !R) return;
  var HANDOFF_IN = "shieldwall-editor-to-laydown", HANDOFF_OUT = "shieldwall-laydown-to-editor";
  var tokenMeta = document.querySelector('meta[name="shieldwall-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var $ = function (id) { return document.getElementById(id); };
  var threatSelect = $("laydown-threat"), altitude = $("laydown-altitude"), status = $("laydown-status");
  var problemList = $("laydown-problems"), compareButton = $("laydown-compare"), result = $("laydown-result");
  var compareStatus = $("laydown-compare-status"), bar = $("laydown-progress");

  var state = {text: null, file: "scenario.yaml", moves: {}, view: null, outline: null, map: null, pending: 0};
  root.shieldwallLaydown = state;
  var mapDiv = R.element("div", {"class": "sw-map"}, root);
  var layers = null;

  function say(el, text, cls) { el.className = cls || ""; el.textContent = text; }

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                       headers: {"Content-Type": "application/json", "X-Shieldwall-Token": token}})
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); });
  }

  function showProblems(answer) {
    problemList.textContent = "";
    (answer.problems || []).forEach(function (p) {
      var li = R.element("li", {"class": "sw-problem"}, problemList);
      var where = (p.line ? "line " + p.line + ": " : "") + (p.path ? p.path + ": " : "");
      li.textContent = where + p.message + (p.expected ? " (expected " + p.expected + (p.found ? ", found " +
        p.found : "") + ")" : "");
    });
  }

  function request() {
    var body = {text: state.text, file: state.file, moves: state.moves};
    if (threatSelect.value) body.threat = threatSelect.value;
    if (altitude.value !== "") body.altitude_m = Number(altitude.value);
    return body;
  }

  function ring(lat, lon, km, options) {
    return L.circle([lat, lon], Object.assign({radius: Math.max(km, 0) * 1000, interactive: false}, options));
  }

  /* one battery or radar: its marker (draggable), its rings, its name; the rings follow a drag */
  function unit(u, kind) {
    var rings = [];
    if (kind === "battery") {
      rings.push(ring(u.lat, u.lon, u.engage_ground_km, {color: "#15803d", weight: 2, fillColor: "#22c55e",
                                                         fillOpacity: 0.06, className: "sw-engage-ring"}));
    }
    rings.push(ring(u.lat, u.lon, u.horizon_km, {color: "#2563eb", weight: 1.5, dashArray: "6 5", fill: false,
                                                 className: "sw-horizon-ring"}));
    rings.forEach(function (r) { r.addTo(layers.rings); });
    var tip = "<b>" + R.esc(u.id) + "</b> " + R.esc(kind === "battery" ? u.system : u.type) + "<br>" +
      (kind === "battery" ? (u.engage_with ? "engages to " + u.engage_ground_km.toFixed(1) + " km on the ground (" +
        R.esc(u.engage_with) + ", " + u.engage_km + " km slant)" : "cannot engage this threat here") + "<br>" : "") +
      "radar horizon " + u.horizon_km.toFixed(1) + " km (antenna " + u.radar_height_m + " m), detects it to " +
      u.detect_km.toFixed(1) + " km";
    var marker = L.marker([u.lat, u.lon], {icon: R.icon(kind === "battery" ? "sw-battery" : "sw-radar", 14),
                                           title: u.id, draggable: true, autoPan: true, zIndexOffset: 800})
      .bindTooltip(tip).addTo(layers.units);
    var name = R.nameLabel(u.lat, u.lon, u.id, kind === "battery" ? "sw-label-battery" : "sw-label-radar")
      .addTo(layers.units);
    marker.on("drag", function () {
      var at = marker.getLatLng();
      rings.forEach(function (r) { r.setLatLng(at); });
      name.setLatLng(at);
    });
    marker.on("dragend", function () {
      var at = marker.getLatLng();
      state.moves[u.id] = {lat: Number(at.lat.toFixed(5)), lon: Number(at.lng.toFixed(5))};
      refresh();
    });
  }

  function draw(view) {
    state.view = view;
    if (!state.map) {
      state.map = R.baseMap(mapDiv, view, state.outline);
      layers = {rings: L.layerGroup().addTo(state.map), was: L.layerGroup().addTo(state.map),
                assets: L.layerGroup().addTo(state.map), units: L.layerGroup().addTo(state.map)};
      L.control.layers(null, {"rings": layers.rings, "where the file has them": layers.was},
                       {collapsed: true, position: "topright"}).addTo(state.map);
      L.control.scale({imperial: false}).addTo(state.map);
    }
    Object.keys(layers).forEach(function (k) { layers[k].clearLayers(); });
    (view.assets || []).forEach(function (a) {
      L.marker([a.lat, a.lon], {icon: R.icon("sw-asset", 12), title: a.id, keyboard: false, zIndexOffset: 700})
        .bindTooltip("<b>" + R.esc(a.id) + "</b> value " + a.value).addTo(layers.assets);
      R.nameLabel(a.lat, a.lon, a.id, "sw-label-asset").addTo(layers.assets);
    });
    (view.moved || []).forEach(function (id) {
      var was = view.original[id];
      L.circleMarker(was, {radius: 5, color: "#6b7280", weight: 1, fillColor: "#9ca3af", fillOpacity: 0.8,
                           className: "sw-was", interactive: false}).addTo(layers.was);
    });
    (view.batteries || []).forEach(function (b) { unit(b, "battery"); });
    (view.radars || []).forEach(function (r) { unit(r, "radar"); });
    if (!threatSelect.options.length) {
      view.threat_types.forEach(function (t) {
        R.element("option", {value: t.id, text: t.id + " (" + t.class + (t.in_raids ? ", in the raids" : "") + ")"},
                  threatSelect);
      });
    }
    threatSelect.value = view.threat.type;
    altitude.value = String(view.threat.altitude_m);
    var n = (view.moved || []).length;
    compareButton.disabled = n === 0;
    say(status, view.name + ": " + n + " unit" + (n === 1 ? "" : "s") + " moved; rings against " +
        view.threat.type + " at " + view.threat.altitude_m + " m.", "sw-muted");
    root.setAttribute("data-moved", String(n));
  }

  function refresh() {
    if (state.text === null) return Promise.resolve();
    state.pending += 1;
    root.setAttribute("data-busy", "1");
    return post("/api/laydown", request()).then(function (rj) {
      if (rj[0].ok) { problemList.textContent = ""; draw(rj[1]); }
      else {
        showProblems(rj[1]);
        say(status, typeof rj[1].detail === "string" ? rj[1].detail.split("\n")[0] : "refused (" + rj[0].status + ")",
            "sw-error");
      }
    }).catch(function (e) { say(status, "Could not reach the server: " + e, "sw-error"); })
      .then(function () { state.pending -= 1; if (!state.pending) root.removeAttribute("data-busy"); });
  }

  function open(name, text) {
    state.text = text;
    state.file = name;
    state.moves = {};
    threatSelect.textContent = "";
    altitude.value = "";
    result.textContent = "";
    if (state.map) { state.map.remove(); state.map = null; mapDiv = R.element("div", {"class": "sw-map"}, root); }
    root.replaceChildren(mapDiv);
    say($("laydown-source"), name);
    return refresh();
  }

  function openFrom(url, what) {
    return fetch(url).then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        if (rj[0].ok) return open(rj[1].name, rj[1].text);
        say(status, (rj[1] && rj[1].detail) || "could not open " + what, "sw-error");
      });
  }

  threatSelect.addEventListener("change", function () {
    var chosen = state.view && state.view.threat_types.filter(function (t) { return t.id === threatSelect.value; })[0];
    altitude.value = chosen && chosen.altitude_m !== null ? String(chosen.altitude_m) : "";
    refresh();
  });
  altitude.addEventListener("change", refresh);
  $("laydown-reset").addEventListener("click", function () { state.moves = {}; result.textContent = ""; refresh(); });
  $("laydown-download").addEventListener("click", function () {
    if (!state.view) return;
    var link = R.element("a", {href: URL.createObjectURL(new Blob([state.view.yaml], {type: "text/yaml"})),
                               download: state.file.replace(/\.(ya?ml|json)$/, "") + "-laydown.yaml"}, document.body);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  });
  $("laydown-editor").addEventListener("click", function () {
    if (!state.view) return;
    sessionStorage.setItem(HANDOFF_OUT, JSON.stringify({name: state.file.replace(/\.(ya?ml|json)$/, "") +
                                                        "-laydown.yaml", text: state.view.yaml}));
    location.href = "/editor?from=laydown";
  });

  function follow(job) {
    bar.hidden = false;
    bar.max = job.total || 1;
    bar.value = job.done || 0;
    if (job.state === "done") {
      return fetch("/api/comparisons/" + encodeURIComponent(job.run))
        .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
        .then(function (rj) {
          compareButton.disabled = false;
          if (!rj[0].ok) { say(compareStatus, rj[1].detail || "no result", "sw-error"); return; }
          say(compareStatus, "Done: B (moved) - A (as opened) on common random numbers.", "sw-ok");
          result.innerHTML = rj[1].html;  // the server's table, every value escaped there
          R.element("a", {href: rj[1].page_url, text: "this comparison on its own page"},
                    R.element("p", {}, result));
        });
    }
    if (job.state !== "running" && job.state !== "queued") {
      compareButton.disabled = false;
      say(compareStatus, "Comparison " + job.state + ": " + (job.error || ""), "sw-error");
      return;
    }
    say(compareStatus, "Running both laydowns: " + job.done + " of " + job.total + " (" + job.elapsed_s + " s)");
    setTimeout(function () {
      fetch("/api/jobs/" + encodeURIComponent(job.id)).then(function (r) { return r.json(); }).then(follow);
    }, 300);
  }

  compareButton.addEventListener("click", function () {
    var body = request();
    var reps = $("laydown-replications").value, seed = $("laydown-seed").value;
    if (reps !== "") body.replications = Number(reps);
    if (seed !== "") body.seed = Number(seed);
    compareButton.disabled = true;
    result.textContent = "";
    say(compareStatus, "Starting...");
    post("/api/laydown/compare", body).then(function (rj) {
      if (!rj[0].ok) {
        compareButton.disabled = false;
        say(compareStatus, typeof rj[1].detail === "string" ? rj[1].detail : "refused (" + rj[0].status + ")",
            "sw-error");
        return;
      }
      follow(rj[1]);
    }).catch(function (e) { compareButton.disabled = false; say(compareStatus, "Could not reach the server: " + e,
                                                                "sw-error"); });
  });

  var examples = $("laydown-example");
  fetch("/api/examples").then(function (r) { return r.json(); }).then(function (names) {
    names.filter(function (n) { return n.indexOf("campaign") !== 0; }).forEach(function (n) {
      R.element("option", {value: n, text: n}, examples);
    });
  });
  examples.addEventListener("change", function () {
    if (examples.value) openFrom("/api/examples/" + encodeURIComponent(examples.value), examples.value);
  });

  fetch("/static/vendor/natural-earth/europe-50m.geojson").then(function (r) { return r.json(); })
    .then(function (outline) { state.outline = outline; }, function () { state.outline = null; })
    .then(function () {
      var params = new URLSearchParams(location.search);
      if (params.get("run")) return openFrom("/api/runs/" + encodeURIComponent(params.get("run")) + "/scenario",
                                             "that run's scenario");
      if (params.get("example")) return openFrom("/api/examples/" + encodeURIComponent(params.get("example")),
                                                 params.get("example"));
      var handed = params.get("from") === "editor" && sessionStorage.getItem(HANDOFF_IN);
      if (handed) { var h = JSON.parse(handed); return open(h.name, h.text); }
      say(status, "Open an example, or a run's scenario from the runs list (laydown), or a file from the editor.",
          "sw-muted");
    });
})();
