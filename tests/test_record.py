"""The attack record reader: every semantic edge case of the record on a small CSV written here,
with hand-computed expectations; and its located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shieldwall.errors import ScenarioError
from shieldwall.scenario.record import load_model_map, night_of, read_record, shares, split_count

HEADER = "time_start,time_end,model,launch_place,target,launched,destroyed,not_reach_goal,still_attacking,source"
ROWS = [
    # national morning report (date only): the night of 1 January, 18:00 to 09:00
    "2024-01-02,2024-01-02 08:00,Shahed-136/131,Kursk oblast,Ukraine,40,30,6,2,kpszsu/posts/1",
    # regional row inside that span, fewer launched: a repeat, not counted
    "2024-01-02 03:00,2024-01-02 05:00,Shahed-136/131,,Odesa oblast,5,5,,,PvKPivden/posts/2",
    # regional row late in the morning (no overlap): its own attack
    "2024-01-02 11:00,2024-01-02 11:00,Shahed-136/131,,Odesa oblast,3,3,,,PvKPivden/posts/3",
    # several models: 7 shared 4 / 3 by largest remainder
    "2024-01-03 02:00,2024-01-03 06:00,X-101/X-555 and Kalibr,Caspian Sea and Black Sea,Kyiv,7,6,,,kpszsu/posts/4",
    # one model, two catalog types: 3 -> iskander-m 2, kn-23 1
    "2024-01-03 04:00,2024-01-03 04:00,Iskander-M/KN-23,Belgorod oblast,Kharkiv oblast,3,0,,,kpszsu/posts/5",
    # unknown to the catalog: reported, not mapped
    "2024-01-03 04:00,2024-01-03 04:00,Orlan-10,,east,2,2,,,kpszsu/posts/6",
    # a mapped and an unmapped model in one row: 5 -> shahed 3, Lancet 2
    "2024-01-05 22:00,2024-01-06 02:00,Shahed-136/131 and Lancet,,south,5,4,1,,kpszsu/posts/7",
    # no count
    "2024-01-06 22:00,2024-01-06 22:00,Kalibr,,Ukraine,,,,,kpszsu/posts/8",
]


def write(tmp_path: Path, rows: list[str] = ROWS, header: str = HEADER) -> Path:
    path = tmp_path / "record.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_nights_models_outcomes_and_repeats(tmp_path: Path) -> None:
    record = read_record(write(tmp_path))
    assert (record.first, record.last, record.n_nights) == (dt.date(2024, 1, 1), dt.date(2024, 1, 6), 6)
    assert record.rows == 8 and record.rows_without_count == 1
    by_line = {a.line: a for a in record.attacks}
    national, repeat, afternoon = by_line[2], by_line[3], by_line[4]
    assert national.night == dt.date(2024, 1, 1) and national.start == dt.datetime(2024, 1, 1, 18)
    assert (national.destroyed, national.not_reach_goal, national.still_attacking, national.neutralised) == (30, 6, 2, 36)
    assert repeat.regional and repeat.repeat_of == 2 and not repeat.counted
    assert afternoon.regional and afternoon.counted and afternoon.night == dt.date(2024, 1, 1)
    assert by_line[5].threats == {"kh-101": 4, "kalibr": 3} and by_line[5].compound
    assert by_line[5].target == "Kyiv" and by_line[5].launch_place == "Caspian Sea and Black Sea"
    assert by_line[6].threats == {"iskander-m": 2, "kn-23": 1} and not by_line[6].compound
    assert by_line[7].threats == {} and by_line[7].unmapped == {"Orlan-10": 2}
    assert by_line[8].threats == {"shahed-136": 3} and by_line[8].unmapped == {"Lancet": 2}
    nights = record.nights()
    assert nights[dt.date(2024, 1, 1)] == {"shahed-136": 43}  # 40 national + 3 afternoon; the repeat is not counted
    assert nights[dt.date(2024, 1, 2)] == {"kh-101": 4, "kalibr": 3, "iskander-m": 2, "kn-23": 1}
    assert nights[dt.date(2024, 1, 5)] == {"shahed-136": 3}
    assert record.unmapped() == {"Orlan-10": {"rows": 1, "launched": 2},
                                 "Shahed-136/131 and Lancet": {"rows": 1, "launched": 2}}
    book = record.bookkeeping()
    assert book["regional_repeats_left_out"] == 1 and book["rows_naming_several_models"] == 2
    assert book["rows_used"] == 5


def test_regional_rules(tmp_path: Path) -> None:
    path = write(tmp_path)
    keep = read_record(path, regional="keep")
    assert keep.nights()[dt.date(2024, 1, 1)] == {"shahed-136": 48}
    drop = read_record(path, regional="drop")
    assert drop.nights()[dt.date(2024, 1, 1)] == {"shahed-136": 40}


def test_window_and_night_rule(tmp_path: Path) -> None:
    assert night_of("2023-05-04 01:30") == dt.date(2023, 5, 3)
    assert night_of("2023-05-04 12:00") == dt.date(2023, 5, 4)
    assert night_of("2023-05-04") == dt.date(2023, 5, 3)
    record = read_record(write(tmp_path), start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 5))
    assert {a.night for a in record.attacks} == {dt.date(2024, 1, 2), dt.date(2024, 1, 5)}
    assert split_count(7, 2) == [4, 3] and split_count(2, 3) == [1, 1, 0]


def test_loss_reporting_is_read_per_month_of_the_whole_file(tmp_path: Path) -> None:
    """A month splits losses from kills where some row of it in the file reports not_reach_goal,
    also a row outside the window read; other months' rows are lumped (their destroyed may hold
    the losses: the record before July 2024 and its 2026 rows)."""
    rows = ["2024-02-03 22:00,2024-02-04 04:00,Shahed-136/131,,Ukraine,50,40,,,kpszsu/1",   # February: no loss
            "2024-03-02 22:00,2024-03-03 04:00,Shahed-136/131,,Ukraine,50,40,,,kpszsu/2",   # March, in the window
            "2024-03-20 22:00,2024-03-21 04:00,Shahed-136/131,,Ukraine,50,30,12,,kpszsu/3",  # March, a loss, outside
            "2026-01-10 22:00,2026-01-11 04:00,Shahed-136/131,,Ukraine,90,80,0,,kpszsu/4"]  # 2026: always 0
    whole = read_record(write(tmp_path, rows))
    assert [a.losses_split for a in whole.attacks] == [False, True, True, False]
    window = read_record(write(tmp_path, rows), start=dt.date(2024, 2, 1), end=dt.date(2024, 3, 10))
    assert [(a.line, a.losses_split) for a in window.attacks] == [(2, False), (3, True)]
    book = window.bookkeeping()
    assert book["months_losses_split"] == ["2024-03"] and book["months_losses_lumped"] == ["2024-02"]


def test_decoys_counted_inside_shahed_and_a_user_map(tmp_path: Path) -> None:
    shipped = load_model_map()
    assert shipped.decoy_share("Shahed-136/131", dt.date(2024, 6, 30)) == 0.0
    assert shipped.decoy_share("Shahed-136/131", dt.date(2024, 7, 1)) == 0.2
    assert shipped.decoy_share("Shahed-136/131", dt.date(2024, 12, 1)) == 0.4
    assert shipped.decoy_threat("Shahed-136/131") == "gerbera-decoy"
    assert shipped.decoy_share("Kalibr", dt.date(2024, 12, 1)) == 0.0
    user = tmp_path / "models.yaml"
    user.write_text("version: 1\nkind: record-models\nmodels:\n  Orlan-10: {threats: [shahed-136]}\n"
                    "  Kalibr: {threats: [kh-101]}\n", encoding="utf-8")
    merged = load_model_map(user)
    assert merged.threats("Orlan-10") == ["shahed-136"] and merged.threats("Kalibr") == ["kh-101"]
    assert merged.threats("Iskander-M") == ["iskander-m"]  # the shipped entries remain
    assert load_model_map(user, over_builtin=False).threats("Iskander-M") == []
    assert shares("Orlan-10 and Kalibr", 5, merged) == ({"shahed-136": 3, "kh-101": 2}, {})


def test_bad_map_and_bad_rows_are_located(tmp_path: Path) -> None:
    user = tmp_path / "models.yaml"
    user.write_text("version: 1\nmodels:\n  Kalibr: {threats: [kalbr]}\n  X: {threat: [kh-101]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_model_map(user)
    text = str(err.value)
    assert "models.X" in text and "threat" in text
    rows = [*ROWS[:2], "2024-13-01,,Kalibr,,Kyiv,3,1,,,kpszsu", "2024-01-04,,Kalibr,,Kyiv,three,1,,,kpszsu",
            "2024-01-04,,Kalibr,,Kyiv,3,-1,,,kpszsu"]
    with pytest.raises(ScenarioError) as err:
        read_record(write(tmp_path, rows))
    problems = err.value.problems
    assert [(p.line, p.path) for p in problems] == [(4, "time_start"), (5, "launched"), (6, "destroyed")]
    assert problems[1].found == "'three'" and "a count" in problems[2].expected
    with pytest.raises(ScenarioError, match="missing column `launched`"):
        read_record(write(tmp_path, [], header="time_start,model"))
    with pytest.raises(ScenarioError, match="no attacks in the chosen dates"):
        read_record(write(tmp_path), start=dt.date(2030, 1, 1))
    with pytest.raises(ScenarioError, match="cannot read the file"):
        read_record(tmp_path / "missing.csv")
