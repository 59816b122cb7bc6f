"""The one exception hierarchy. A ShieldwallError is a user mistake: the CLI prints its
message and exits with status 2, never a traceback. Anything else is a bug in shieldwall."""

from __future__ import annotations

from dataclasses import dataclass, field


class ShieldwallError(Exception):
    """Base of every error caused by user input."""

    exit_code = 2


@dataclass
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    message: str
    path: str = ""  # field path, e.g. "batteries[1].interceptors.pac3-mse"
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    expected: str | None = None
    found: str | None = None
    hint: str | None = None

    def render(self, file: str | None) -> str:
        where = file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        head = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        parts = [head]
        if self.expected is not None:
            parts.append(f"    expected: {self.expected}")
        if self.found is not None:
            parts.append(f"    found:    {self.found}")
        if self.hint:
            parts.append(f"    hint:     {self.hint}")
        return "\n".join(parts)


@dataclass
class ScenarioError(ShieldwallError):
    """A scenario (or catalog, or campaign) file that cannot be used as written."""

    file: str | None
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{self.file or '<input>'}: {n} problem{'s' if n != 1 else ''} found"
        return head + "\n" + "\n".join(p.render(self.file) for p in self.problems)


class CatalogError(ShieldwallError):
    """An unknown catalog id or an inconsistent catalog entry."""


class UsageError(ShieldwallError):
    """A command-line argument that cannot work (bad path, bad option value)."""
