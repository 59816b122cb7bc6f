"""The README's Python example and its scenario are run as written."""

from __future__ import annotations

import os
import re

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


def test_readme_walkthrough_says_what_the_model_says() -> None:
    """Each claim of the walk-through, on its seed and replications: more IRIS-T missiles cut
    leakers but not value lost, because IRIS-T then shoots first at the ballistic missiles (Kinzhal
    leakers rise); keeping IRIS-T off ballistic missiles cuts value lost and armed leakers."""
    from shieldwall.campaign.compare import compare_inputs
    from shieldwall.engine.runner import run

    original, more_iris, no_ballistic = (parse_scenario(t, file=f"variant-{i}.yaml")
                                         for i, t in enumerate(_walkthrough_variants()))
    step3 = compare_inputs(original, more_iris, labels=("a", "b"), replications=1000, seed=2024)["metrics"]
    assert step3["leaked"]["difference_ci95"][1] < 0
    low, high = step3["value_lost"]["difference_ci95"]
    assert low < 0 < high, "the README says value lost shows no clear difference"

    kinzhal = []
    for scenario in (original, more_iris):
        result = run(scenario, replications=1000, seed=2024, engagements=0)
        kinzhal.append(result.leaked[:, result.compiled.threat_type_ids.index("kinzhal")].mean())
    assert kinzhal[1] > 5 * kinzhal[0] and kinzhal[1] > 0.1

    step4 = compare_inputs(original, no_ballistic, labels=("a", "c"), replications=1000, seed=2024)["metrics"]
    assert step4["value_lost"]["difference_ci95"][1] < 0
    assert step4["leaked_armed"]["difference_ci95"][1] < 0
    assert step4["interceptor_cost_usd"]["difference_ci95"][1] < 0
