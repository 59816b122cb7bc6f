// world-atlas countries-50m (TopoJSON) -> GeoJSON, with Crimea merged into Ukraine
// (Natural Earth 4.1.0 draws it de facto; shieldwall draws internationally recognised borders).
const tc = require(process.argv[2]);
const topo = require(process.argv[3]);
const geoms = topo.objects.countries.geometries;
const ru = geoms.find(g => g.properties.name === "Russia");
const ua = geoms.find(g => g.properties.name === "Ukraine");
const inCrimea = poly => {
  const f = tc.feature(topo, {type: "Polygon", arcs: poly});
  const xs = f.geometry.coordinates[0].map(p => p[0]), ys = f.geometry.coordinates[0].map(p => p[1]);
  return Math.min(...xs) > 32 && Math.max(...xs) < 37 && Math.min(...ys) > 44 && Math.max(...ys) < 46.5;
};
const crimea = ru.arcs.filter(inCrimea);
if (crimea.length !== 1) throw new Error("expected one Crimea polygon, got " + crimea.length);
ru.arcs = ru.arcs.filter(p => !inCrimea(p));
const merged = tc.merge(topo, [ua, {type: "Polygon", arcs: crimea[0]}]);
const fc = tc.feature(topo, topo.objects.countries);
const i = fc.features.findIndex(f => f.properties.name === "Ukraine");
fc.features[i].geometry = merged;
require("fs").writeFileSync(process.argv[4], JSON.stringify(fc));
