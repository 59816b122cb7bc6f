"""The README's Python example and its scenario are run as written."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from conftest import ROOT
from shieldwall.scenario.load import parse_scenario

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_python_example_runs(capsys) -> None:  # type: ignore[no-untyped-def]
    (code,) = _blocks("python")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert len(namespace["frame"]) == 500
    result = namespace["result"]  # the labelled views it names (issue 20 item 4: no bare arrays needed)
    assert namespace["rounds"].index.names == ["replication", "battery", "interceptor"]
    assert namespace["rounds"].sum() == result.rounds.sum()
    assert set(namespace["engagements"]["replication"]) == set(range(500))
    assert len(namespace["why"]) == result.leaked.sum()
    assert {"battery", "interceptor", "quantity", "median"} <= set(namespace["timelines"].columns)
    assert float(capsys.readouterr().out.strip()) == namespace["result"].summary()["totals"]["leaked_mean"]


def test_readme_scenario_is_valid() -> None:
    (text,) = [b for b in _blocks("yaml") if "two-shot check" in b]
    scenario = parse_scenario(text, file="README.md")
    assert scenario.doctrine.salvo == 2 and yaml.safe_load(text)["name"] == "two-shot check"


def test_readme_starts_with_exactly_two_commands() -> None:
    first = _blocks("bash")[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _walkthrough_variants() -> tuple[str, str, str]:
    """The README's walk-through edits, applied as written: its ``sed`` line to the shipped
    city-defence file, then its catalog block above ``assets:``."""
    original = (ROOT / "examples" / "city-defence.yaml").read_text(encoding="utf-8")
    (sed,) = re.findall(r"sed 's/(.*?)/(.*?)/' examples/city-defence.yaml > more-iris.yaml", README)
    assert original.count(sed[0]) == 3  # the three IRIS-T SLM batteries
    more_iris = original.replace(sed[0], sed[1])
    (override,) = [b for b in _blocks("yaml") if "iris-t:" in b and "ballistic: 0.0" in b]
    no_ballistic = more_iris.replace("\nassets:", "\n" + override.rstrip("\n") + "\nassets:", 1)
    return original, more_iris, no_ballistic


def _says(phrase: str) -> None:
    """The README's walk-through holds this phrase (whitespace as in running text)."""
    text = " ".join(README.split())
    assert phrase in text, f"the README's walk-through should say {phrase!r}"


def _minutes(clock: str) -> str:
    """``3:39:14`` -> ``3:39`` (rounded to the minute), as the walk-through prints times."""
    h, m, s = (int(x) for x in clock.split(":"))
    total = round((h * 3600 + m * 60 + s) / 60)
    return f"{total // 60}:{total % 60:02d}"


def test_readme_walkthrough_says_what_the_model_says() -> None:
    """Each claim of the walk-through, on its seed and replications: more IRIS-T missiles cut
    leakers but not value lost, because IRIS-T then shoots first at the ballistic missiles (Kinzhal
    leakers rise); keeping IRIS-T off ballistic missiles cuts value lost and armed leakers. And
    every number it prints, as it prints it (a change of the model that moves one is a change of
    the README too)."""
    from shieldwall.campaign.compare import compare_inputs
    from shieldwall.engine.runner import run

    original, more_iris, no_ballistic = (parse_scenario(t, file=f"variant-{i}.yaml")
                                         for i, t in enumerate(_walkthrough_variants()))
    step3 = compare_inputs(original, more_iris, labels=("a", "b"), replications=1000, seed=2024)["metrics"]
    assert step3["leaked"]["difference_ci95"][1] < 0
    low, high = step3["value_lost"]["difference_ci95"]
    assert low < 0 < high, "the README says value lost shows no clear difference"

    results = [run(scenario, replications=1000, seed=2024, engagements=0) for scenario in (original, more_iris)]
    s0, s1 = (r.summary() for r in results)
    kinzhal = [s["threats_by_type"]["kinzhal"]["leaked_mean"] for s in (s0, s1)]
    assert kinzhal[1] > 5 * kinzhal[0] and kinzhal[1] > 0.1

    step4 = compare_inputs(original, no_ballistic, labels=("a", "c"), replications=1000, seed=2024)["metrics"]
    assert step4["value_lost"]["difference_ci95"][1] < 0
    assert step4["leaked_armed"]["difference_ci95"][1] < 0
    assert step4["interceptor_cost_usd"]["difference_ci95"][1] < 0

    # 1. run the night
    t = s0["totals"]
    _says(f"{t['leaked_mean']:.2f} threats leak per raid, {t['decoys_leaked_mean']:.2f} of them decoys, "
          f"and value lost is {t['value_lost_mean']:.1f} asset units. Four warnings")
    dry = [re.match(r"battery (\S+) runs out of .*median (\d+:\d\d:\d\d)", w) for w in s0["warnings"]]
    assert len(s0["warnings"]) == 4 and all(dry), s0["warnings"]
    assert sorted(m[1] for m in dry) == ["iris-1", "iris-2", "iris-3", "nasams-1"]
    times = sorted((m[2] for m in dry), key=lambda c: [int(x) for x in c.split(":")])
    _says(f"(median {_minutes(times[0])} to {_minutes(times[-1])} after the start)")
    # 2. why it leaked: every leaker engaged and missed, pointing at the last layers
    causes = t["leak_causes"]
    assert causes["missed"] == pytest.approx(t["leaked_mean"]) and sum(causes.values()) == pytest.approx(causes["missed"])
    top = sorted(((sum(v.values()), b) for b, v in s0["leak_causes_by_battery"].items() if b != "(none)"),
                 reverse=True)[:3]
    _says('"most leakers point at ' + ", ".join(b for _, b in top) + '"')
    # 3. more IRIS-T missiles
    m = step3["leaked"]
    _says(f"Leakers fall by {-m['difference_mean']:.2f} [{-m['difference_ci95'][1]:.2f}, "
          f"{-m['difference_ci95'][0]:.2f}]")
    m = step3["value_lost"]
    _says(f'("no clear difference", {m["difference_mean"]:+.1f} [{low:.1f}, {high:.1f}])')
    iskander = [s["threats_by_type"]["iskander-m"]["leaked_mean"] for s in (s0, s1)]
    _says(f"Kinzhal leakers rose from {kinzhal[0]:.2f} to {kinzhal[1]:.2f} per raid and Iskander-M "
          f"from {iskander[0]:.2f} to {iskander[1]:.2f}, and now point at ")
    why = results[1].leak_causes_frame()
    pointed = why[why.threat_type.isin(["kinzhal", "iskander-m"])].battery.value_counts()
    _says(f"and now point at {pointed.index[0]}.")
    # 4. IRIS-T off ballistic missiles
    v, a, c = (step4[k] for k in ("value_lost", "leaked_armed", "interceptor_cost_usd"))
    _says(f"saves {-v['difference_mean']:.1f} [{-v['difference_ci95'][1]:.1f}, {-v['difference_ci95'][0]:.1f}] "
          f"units of value per raid, with {-a['difference_mean']:.2f} fewer armed leakers and "
          f"${-c['difference_mean'] / 1e6:.0f}M less spent")
