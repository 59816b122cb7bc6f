/* shieldwall map replay of one replication: Leaflet, no tiles, an offline country outline.
 *
 * ShieldwallReplay.mount(element, data, outline) draws the laydown (assets, batteries with their
 * engagement and radar rings, radars), then moves the threats along their tracks as the time
 * slider moves: shots, intercept points (kills) and leakers at their targets appear at their
 * times. `data` is what shieldwall.report.replay.replay_data returns (its `classes` carry each
 * threat class's colour and kinematics from shieldwall's one table of classes); `outline` a GeoJSON
 * FeatureCollection (or null). Used by the HTML report and by the web app. */
(function (global) {
  "use strict";

  var SPEEDS = [1, 10, 60, 300, 1200];
  var SHOT_VISIBLE_S = 90;

  function clock(t) {
    t = Math.max(0, Math.round(t));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function icon(cls, size) {
    return L.divIcon({className: "sw-icon " + cls, iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
  }

  /* position of a threat at `tau` seconds after its launch: linear between track points */
  function along(path, tau) {
    var lo = 0, hi = path.length - 1;
    if (tau <= path[0][2]) return [path[0][0], path[0][1]];
    if (tau >= path[hi][2]) return [path[hi][0], path[hi][1]];
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (path[mid][2] <= tau) lo = mid; else hi = mid;
    }
    var a = path[lo], b = path[hi], f = (tau - a[2]) / Math.max(b[2] - a[2], 1e-9);
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
  }

  function element(tag, attrs, parent) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") el.textContent = attrs[k]; else el.setAttribute(k, attrs[k]);
    });
    if (parent) parent.appendChild(el);
    return el;
  }

  /* The map every page of shieldwall draws on: no tiles, the country outline under everything,
   * opened on what is defended: the assets and the batteries' engagement rings (not the radars'
   * reach, hundreds of km, which left the laydown a dot); zoom out to see the routes. The replay
   * and the laydown page (laydown.js) both start from it. */
  function baseMap(mapDiv, data, outline) {
    var map = L.map(mapDiv, {zoomSnap: 0.25, worldCopyJump: false, attributionControl: true});
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Outline: Natural Earth (public domain) \u00b7 notional laydown");
    // the view first (from the data): a canvas renderer added to a map with no view draws nothing
    var around = L.latLngBounds([]);
    (data.batteries || []).forEach(function (b) {
      around.extend(L.latLng(b.lat, b.lon).toBounds(2000 * Math.max(b.engage_km, 1)));
    });
    (data.assets || []).forEach(function (a) { around.extend(L.latLng(a.lat, a.lon).toBounds(6000)); });
    if (!around.isValid()) {
      (data.radars || []).forEach(function (r) { around.extend(L.latLng(r.lat, r.lon).toBounds(2000 * r.range_km)); });
    }
    if (around.isValid()) map.fitBounds(around.pad(0.1)); else map.setView([49, 32], 6);
    if (outline) {
      map.createPane("sw-outline").style.zIndex = 250;  // under every overlay, where tiles would be
      L.geoJSON(outline, {pane: "sw-outline", interactive: false, style: {color: "#9ca3af", weight: 1, fillColor: "#f4f1ea",
                                                       fillOpacity: 1}}).addTo(map);
    }
    return map;
  }

  /* a name beside its marker (textContent: user text is never HTML) */
  function nameLabel(lat, lon, text, cls) {
    var el = document.createElement("span");
    el.className = "sw-map-label " + cls;
    el.textContent = text;
    return L.marker([lat, lon], {icon: L.divIcon({className: "sw-map-label-box", html: el, iconSize: null,
                                                   iconAnchor: [-8, 7]}),
                                 interactive: false, keyboard: false});
  }

  function mount(root, data, outline) {
    root.classList.add("sw-replay");
    var mapDiv = element("div", {"class": "sw-map"}, root);
    var bar = element("div", {"class": "sw-controls"}, root);
    var play = element("button", {"class": "sw-play", type: "button", title: "Play / pause (space)", text: "Play"}, bar);
    var slider = element("input", {"class": "sw-slider", type: "range", min: "0", step: "1",
                                   max: String(Math.ceil(data.t_end || 0)), value: "0",
                                   "aria-label": "time in the raid"}, bar);
    var time = element("span", {"class": "sw-clock", text: clock(0)}, bar);
    var speedLabel = element("label", {"class": "sw-speed-label", text: "speed "}, bar);
    var speed = element("select", {"class": "sw-speed", "aria-label": "replay speed"}, speedLabel);
    SPEEDS.forEach(function (s) {
      var opt = element("option", {value: String(s), text: s + "\u00d7"}, speed);
      if (s === 300) opt.selected = true;
    });
    var counts = element("div", {"class": "sw-counts"}, root);

    var map = baseMap(mapDiv, data, outline);
    var canvas = L.canvas({padding: 0.3});
    var overlays = {};
    var radarRings = L.layerGroup(), engageRings = L.layerGroup(), routes = L.layerGroup();
    var laydown = L.layerGroup().addTo(map), kills = L.layerGroup().addTo(map), leaks = L.layerGroup().addTo(map);
    var labels = L.layerGroup().addTo(map);
    function label(lat, lon, text, cls) { return nameLabel(lat, lon, text, cls).addTo(labels); }
    var shots = L.layerGroup().addTo(map), threats = L.layerGroup().addTo(map);

    var zoneRings = L.layerGroup();
    var ZONE_STYLE = {ew: {color: "#9333ea", label: "electronic warfare"}, area: {color: "#ca8a04", label: "area defence"},
                      acoustic: {color: "#0d9488", label: "acoustic sensors"}};
    (data.zones || []).forEach(function (z) {
      var style = ZONE_STYLE[z.kind] || {color: "#6b7280", label: z.kind};
      L.circle([z.lat, z.lon], {radius: z.radius_km * 1000, color: style.color, weight: 1, dashArray: "6 4",
                                fillColor: style.color, fillOpacity: 0.05, className: "sw-zone sw-zone-" + z.kind})
        .bindTooltip("<b>" + esc(z.id) + "</b> " + style.label + "<br>" + esc(z.what) + ", " + z.radius_km + " km")
        .addTo(zoneRings);
    });
    if ((data.zones || []).length) zoneRings.addTo(map);
    (data.radars || []).forEach(function (r) {
      L.circle([r.lat, r.lon], {radius: r.range_km * 1000, color: "#2563eb", weight: 1, dashArray: "3 5",
                                fill: false, interactive: false}).addTo(radarRings);
      L.marker([r.lat, r.lon], {icon: icon("sw-radar", 12), title: r.id, keyboard: false})
        .bindTooltip(esc(r.id) + " (" + esc(r.type) + ", " + r.range_km + " km)").addTo(laydown);
    });
    (data.batteries || []).forEach(function (b) {
      var ring = L.circle([b.lat, b.lon], {radius: b.radar_km * 1000, color: "#2563eb", weight: 1,
                                           dashArray: "3 5", fill: false, interactive: false});
      ring.addTo(radarRings);
      L.circle([b.lat, b.lon], {radius: b.engage_km * 1000, color: "#15803d", weight: 1.5, fillColor: "#22c55e",
                                fillOpacity: 0.04, interactive: false}).addTo(engageRings);
      var stock = Object.keys(b.interceptors).map(function (k) { return esc(k) + ": " + b.interceptors[k]; });
      L.marker([b.lat, b.lon], {icon: icon("sw-battery", 12), title: b.id, keyboard: false, zIndexOffset: 500})
        .bindTooltip("<b>" + esc(b.id) + "</b> " + esc(b.system) + "<br>engages to " + b.engage_km +
                     " km, radar " + b.radar_km + " km<br>" + stock.join(", "))
        .addTo(laydown);
      label(b.lat, b.lon, b.id, "sw-label-battery");
    });
    (data.assets || []).forEach(function (a) {
      // above the batteries: a battery beside its asset no longer hides it
      L.marker([a.lat, a.lon], {icon: icon("sw-asset", 12), title: a.id, keyboard: false, zIndexOffset: 700})
        .bindTooltip("<b>" + esc(a.id) + "</b> value " + a.value + (a.kind ? " (" + esc(a.kind) + ")" : ""))
        .addTo(laydown);
      label(a.lat, a.lon, a.id, "sw-label-asset");
    });
    radarRings.addTo(map);
    engageRings.addTo(map);

    var classOf = {};
    (data.classes || []).forEach(function (c) { classOf[c.id] = c; });
    var tracks = (data.threats || []).map(function (th) {
      var cls = classOf[th.cls] || {colour: "#6b7280", kinematics: "polyline"};
      var colour = cls.colour;
      L.polyline(th.path.map(function (p) { return [p[0], p[1]]; }),
                 {renderer: canvas, color: colour, weight: 1, opacity: 0.25, interactive: false}).addTo(routes);
      var dot = L.circleMarker([th.path[0][0], th.path[0][1]],
                               {renderer: canvas, radius: cls.kinematics === "ballistic" ? 4 : 3, color: colour,
                                weight: 1, fillColor: colour, fillOpacity: 0.9, interactive: false});
      return {th: th, dot: dot, shown: false};
    });
    routes.addTo(map);
    var batteryAt = {};
    (data.batteries || []).forEach(function (b) { batteryAt[b.id] = [b.lat, b.lon]; });
    var shotLines = (data.shots || []).filter(function (s) { return batteryAt[s.battery]; }).map(function (s) {
      return {s: s, line: L.polyline([batteryAt[s.battery], [s.lat, s.lon]],
                                     {renderer: canvas, color: "#0891b2", weight: 1.5, opacity: 0.8,
                                      interactive: false}), shown: false};
    });
    var killMarks = (data.kills || []).map(function (k) {
      return {t: k.t, m: L.marker([k.lat, k.lon], {icon: icon("sw-kill", 10), keyboard: false})
        .bindTooltip("intercept: " + esc(k.type) + " #" + k.threat + " by " + esc(k.battery || "?") +
                     " at " + clock(k.t)), shown: false};
    });
    var HOW = {suppressed: "lost to jamming", diverted: "diverted by jamming", "area-kill": "shot down by an area defence"};
    var endedMarks = (data.ended || []).map(function (k) {
      return {t: k.t, how: k.how, m: L.circleMarker([k.lat, k.lon], {radius: 4, weight: 2,
        color: k.how === "area-kill" ? "#ca8a04" : "#9333ea", fill: false, className: "sw-ended"})
        .bindTooltip(esc(HOW[k.how] || k.how) + ": " + esc(k.type) + " #" + k.threat + " at " + clock(k.t)), shown: false};
    });
    var radarAt = {};
    (data.radars || []).forEach(function (r) { radarAt[r.id] = [r.lat, r.lon]; });
    // a battery or (k.radar) a stand-alone radar destroyed by an attack
    var lostAt = function (k) { return k.radar !== undefined ? radarAt[k.radar] : batteryAt[k.battery]; };
    var lostMarks = (data.lost || []).filter(lostAt).map(function (k) {
      var what = k.radar !== undefined ? "radar " + esc(k.radar) : "battery " + esc(k.battery);
      return {t: k.t, radar: k.radar !== undefined, m: L.marker(lostAt(k), {icon: icon("sw-lost", 20), keyboard: false,
                                                                           zIndexOffset: 1100})
        .bindTooltip(what + " destroyed by " + esc(k.type) + " #" + k.threat + " at " + clock(k.t)), shown: false};
    });
    var leakMarks = (data.leaks || []).map(function (k) {
      return {t: k.t, m: L.marker([k.lat, k.lon], {icon: icon("sw-leak", 16), keyboard: false, zIndexOffset: 1000})
        .bindTooltip("leaker: " + esc(k.type) + " #" + k.threat + " hit " + esc(k.target) + " at " + clock(k.t)),
        shown: false};
    });

    if ((data.zones || []).length) overlays["zones"] = zoneRings;
    overlays["names"] = labels;
    overlays["radar coverage"] = radarRings;
    overlays["engagement rings"] = engageRings;
    overlays["routes"] = routes;
    overlays["threats"] = threats;
    overlays["shots"] = shots;
    overlays["intercepts"] = kills;
    overlays["leakers"] = leaks;
    L.control.layers(null, overlays, {collapsed: false, position: "topright"}).addTo(map);
    L.control.scale({imperial: false}).addTo(map);


    function toggle(item, layer, want) {
      var obj = item.dot || item.line || item.m;
      if (want && !item.shown) { layer.addLayer(obj); item.shown = true; }
      else if (!want && item.shown) { layer.removeLayer(obj); item.shown = false; }
    }

    var state = {t: 0, playing: false, last: null};
    function update(t) {
      state.t = Math.max(0, Math.min(t, data.t_end || 0));
      var airborne = 0, killed = 0, leaked = 0;
      tracks.forEach(function (k) {
        var on = state.t >= k.th.t0 && state.t < k.th.t1;
        if (on) { k.dot.setLatLng(along(k.th.path, state.t - k.th.t0)); airborne += 1; }
        toggle(k, threats, on);
      });
      shotLines.forEach(function (k) { toggle(k, shots, state.t >= k.s.t && state.t < k.s.t + SHOT_VISIBLE_S); });
      killMarks.forEach(function (k) { var on = state.t >= k.t; killed += on ? 1 : 0; toggle(k, kills, on); });
      leakMarks.forEach(function (k) { var on = state.t >= k.t; leaked += on ? 1 : 0; toggle(k, leaks, on); });
      var jammed = 0, areaKilled = 0;
      endedMarks.forEach(function (k) {
        var on = state.t >= k.t;
        if (on) { if (k.how === "area-kill") areaKilled += 1; else jammed += 1; }
        toggle(k, kills, on);
      });
      lostMarks.forEach(function (k) { toggle(k, leaks, state.t >= k.t); });
      slider.value = String(Math.round(state.t));
      time.textContent = clock(state.t) + " / " + clock(data.t_end || 0);
      var lostNow = lostMarks.filter(function (k) { return k.shown && !k.radar; }).length;
      var radarsNow = lostMarks.filter(function (k) { return k.shown && k.radar; }).length;
      counts.textContent = "in the air " + airborne + " \u00b7 intercepted " + killed + " \u00b7 leaked " + leaked +
        (areaKilled ? " \u00b7 area defences " + areaKilled : "") + (jammed ? " \u00b7 lost to jamming " + jammed : "") +
        (lostNow ? " \u00b7 batteries lost " + lostNow : "") + (radarsNow ? " \u00b7 radars lost " + radarsNow : "") + " (of " + tracks.length + " launched in replication 0)";
      root.setAttribute("data-time", String(Math.round(state.t)));
    }

    function frame(now) {
      if (!state.playing) return;
      if (state.last !== null) update(state.t + (now - state.last) / 1000 * Number(speed.value));
      state.last = now;
      if (state.t >= (data.t_end || 0)) { setPlaying(false); return; }
      requestAnimationFrame(frame);
    }
    function setPlaying(on) {
      state.playing = on;
      state.last = null;
      play.textContent = on ? "Pause" : "Play";
      if (on) {
        if (state.t >= (data.t_end || 0)) update(0);
        requestAnimationFrame(frame);
      }
    }
    play.addEventListener("click", function () { setPlaying(!state.playing); });
    slider.addEventListener("input", function () { update(Number(slider.value)); });
    root.addEventListener("keydown", function (e) {
      if (e.key === " " && e.target !== slider && e.target.tagName !== "SELECT") {
        e.preventDefault();
        setPlaying(!state.playing);
      }
    });
    if (!tracks.length) {
      play.disabled = true;
      slider.disabled = true;
    }
    update(0);
    var api = {map: map, update: update, play: function () { setPlaying(true); },
               pause: function () { setPlaying(false); }, state: state};
    root.shieldwallReplay = api;
    return api;
  }

  global.ShieldwallReplay = {mount: mount, clock: clock, baseMap: baseMap, nameLabel: nameLabel, icon: icon,
                             esc: esc, element: element};
})(window);
