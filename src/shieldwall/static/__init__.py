"""Static assets (scripts, styles, vendored Leaflet and the Natural Earth outline) shared by the
HTML report, which inlines them, and the web app, which serves them. A package of its own so
that neither reads the other's files: report never imports web."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent
