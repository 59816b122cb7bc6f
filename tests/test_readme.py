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
    assert float(capsys.readouterr().out.strip()) == namespace["result"].summary()["totals"]["leaked_mean"]


def test_readme_scenario_is_valid() -> None:
    (text,) = _blocks("yaml")
    scenario = parse_scenario(text, file="README.md")
    assert scenario.doctrine.salvo == 2 and yaml.safe_load(text)["name"] == "two-shot check"


def test_readme_starts_with_exactly_two_commands() -> None:
    first = _blocks("bash")[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
