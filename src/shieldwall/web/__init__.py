"""The local web app (``shieldwall serve``): FastAPI pages and JSON over one runs folder."""
