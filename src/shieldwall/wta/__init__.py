"""Weapon-target assignment: problems, instance readers and generators, and solvers registered by id.

>>> from shieldwall.wta import generate_square, get_solver
>>> problem = generate_square(8, seed=1)
>>> result = get_solver("exact", time_limit_s=10).solve(problem)
>>> result.status
'optimal'
"""

from shieldwall.wta.problem import (
    InstanceFormatError,
    Problem,
    WTAError,
    check_assignment,
    evaluate,
    generate_andersen,
    generate_square,
    read_andersen,
    read_instance,
    read_square,
)
from shieldwall.wta.solvers import (
    ExactSolver,
    GreedySolver,
    LocalSearchSolver,
    Result,
    Solver,
    get_solver,
    register,
    solver_ids,
)

__all__ = [
    "Problem", "Result", "Solver", "WTAError", "InstanceFormatError",
    "evaluate", "check_assignment", "read_instance", "read_andersen", "read_square",
    "generate_square", "generate_andersen",
    "GreedySolver", "LocalSearchSolver", "ExactSolver", "get_solver", "register", "solver_ids",
]
