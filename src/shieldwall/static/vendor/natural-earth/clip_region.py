"""Clip Natural Earth 1:50m countries (world-atlas 2.0.2, converted to GeoJSON with
topojson-client 3.1.0) to the region box and round coordinates to 0.01 degree."""
import json, sys

W, S, E, N = 14.0, 40.0, 50.0, 60.0

def clip(ring):
    def edge(pts, inside, cross):
        out = []
        for i, p in enumerate(pts):
            q = pts[i - 1]
            if inside(p):
                if not inside(q):
                    out.append(cross(q, p))
                out.append(p)
            elif inside(q):
                out.append(cross(q, p))
        return out
    def at_x(x):
        return lambda a, b: (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))
    def at_y(y):
        return lambda a, b: (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)
    pts = [tuple(p) for p in ring[:-1]]
    for inside, cross in ((lambda p: p[0] >= W, at_x(W)), (lambda p: p[0] <= E, at_x(E)),
                          (lambda p: p[1] >= S, at_y(S)), (lambda p: p[1] <= N, at_y(N))):
        if not pts:
            return None
        pts = edge(pts, inside, cross)
    rounded = []
    for x, y in pts:
        p = [round(x, 2), round(y, 2)]
        if not rounded or rounded[-1] != p:
            rounded.append(p)
    if len(rounded) < 3:
        return None
    return rounded + [rounded[0]]

src = json.load(open(sys.argv[1]))
features = []
for f in src["features"]:
    g = f["geometry"]
    if g is None:
        continue
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    out = []
    for poly in polys:
        rings = [clip(r) for r in poly]
        if rings[0] is None:
            continue
        out.append([r for r in rings if r is not None])
    if out:
        features.append({"type": "Feature", "properties": {"name": f["properties"]["name"]},
                         "geometry": {"type": "MultiPolygon", "coordinates": out}})
json.dump({"type": "FeatureCollection", "bbox": [W, S, E, N], "features": features},
          open(sys.argv[2], "w"), separators=(",", ":"))
print(len(features), [f["properties"]["name"] for f in features])
