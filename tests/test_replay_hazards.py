"""The map replay shows the hazards along the paths (docs/model.md, Hazards; docs/viewer.md):
electronic-warfare, area-defence and acoustic zones drawn as discs, and a threat lost to jamming,
diverted or shot down by an area defence ends where and when the event log says (it no longer
flies on to its target), in the replay data (here) and in Chromium (tests/test_web_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES
from shieldwall.engine.runner import run
from shieldwall.report.replay import HAZARD_ENDS, replay_data
from shieldwall.scenario.load import load_scenario

ZONES = {
    "ew_zones": [{"id": "jam", "lat": 48.2, "lon": 33.5, "radius_km": 120, "affects": ["gnss"], "loss_per_km": 0.01,
                  "divert_share": 0.3}],
    "area_defences": [{"id": "mfg", "type": "mobile-fire-group", "lat": 48.8, "lon": 32.3, "radius_km": 40,
                       "units": 30}],
    "acoustic_sensors": [{"id": "ears", "type": "acoustic-node", "lat": 48.8, "lon": 32.3, "radius_km": 40,
                          "sensors": 300}],
}


def _scenario():  # type: ignore[no-untyped-def]
    """The small example with a jamming disc across the drones' route, mobile fire groups and an
    acoustic field on their approach (detection on, so the field acts)."""
    return load_scenario(EXAMPLES / "small.yaml").with_({**ZONES, "mechanisms": {"detection": True}})


def write_hazard_run(out: Path) -> Path:
    """A run folder of the scenario with its report (also the browser test's)."""
    from shieldwall.report.html import write_report

    run(_scenario(), replications=20, seed=3, out_dir=out)
    write_report(out)
    return out


@pytest.fixture(scope="module")
def hazard_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hazard_run(tmp_path_factory.mktemp("hazards") / "run")


def test_the_replay_data_has_the_zones_and_each_hazard_end(hazard_run: Path) -> None:
    import pandas as pd

    events = pd.read_parquet(hazard_run / "events.parquet")
    tracks = pd.read_parquet(hazard_run / "tracks.parquet")
    data = replay_data(_scenario(), events, tracks)
    assert [(z["kind"], z["id"]) for z in data["zones"]] == [("ew", "jam"), ("area", "mfg"), ("acoustic", "ears")]
    ended = events[events.event.isin(HAZARD_ENDS)]
    assert len(ended) > 0 and {"suppressed", "area-kill"} <= set(ended.event)
    assert [(e["threat"], e["how"]) for e in data["ended"]] == list(zip(ended.threat.astype(int), ended.event))
    by_threat = {t["i"]: t for t in data["threats"]}
    for row in ended.itertuples():  # the threat's dot stops where it was lost, not at its target
        assert by_threat[int(row.threat)]["outcome"] == row.event
        assert by_threat[int(row.threat)]["t1"] == round(float(row.time_s), 1)
    plain = replay_data(load_scenario(EXAMPLES / "small.yaml"), events[~events.event.isin(HAZARD_ENDS)], tracks)
    assert "zones" not in plain and "ended" not in plain  # a run without them keeps its replay data as it was


def test_the_report_and_the_console_show_the_area_defences_and_acoustic_fields(hazard_run: Path) -> None:
    """summary.json's area_defences and detection.acoustic blocks become two tables (report.md,
    report.html, the terminal), one row each; a run without them has neither table."""
    import json

    from shieldwall.report.tables import acoustic_table, area_defences_table, raid_tables

    summary = json.loads((hazard_run / "summary.json").read_text(encoding="utf-8"))
    area, acoustic = area_defences_table(summary), acoustic_table(summary)
    assert area is not None and [r[0] for r in area.rows] == ["mfg"]
    assert area.rows[0][2] == f"{summary['area_defences']['mfg']['kills_mean']:.2f}"
    assert acoustic is not None and acoustic.rows[0][:3] == ["ears", "main", "300"]
    assert "shahed-136" in acoustic.rows[0][3]  # the built-in sensor hears the catalog's Shahed
    html = (hazard_run / "report.html").read_text(encoding="utf-8")
    assert "Area defences (mean per raid)" in html and "Acoustic sensors" in html
    plain = {k: v for k, v in summary.items() if k not in ("area_defences", "detection")}
    assert [t.key for t in raid_tables(plain)].count("area-defences") == 0
    assert acoustic_table(plain) is None and area_defences_table(plain) is None
