"""Standard minimization test problems for the peer-optimizer benchmark (nasbo's copy of
../shared/peers/problems.py, with shifted Ackley 5 and the held-out problems of issue 24, the
same functions and boxes as crates/tuner/src/testfns/heldout.rs; nasbo's names, lowercase).

Every problem exposes: name, dim, bounds (list of (lo, hi)), params (list of
Param describing type/log-scaling, used by the optimizer adapters), f(x) taking
a 1-D numpy array in the *original* domain, and f_opt (None if unknown).

Formulas follow the Virtual Library of Simulation Experiments (Surjanovic &
Bingham); they were checked against botorch.test_functions at random points.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import numpy as np


@dataclass
class Param:
    name: str
    lo: float
    hi: float
    kind: str = "float"  # "float" or "int"
    log: bool = False

    # unit-cube <-> native value mapping (log-scaled where log=True)
    def from_unit(self, u: float):
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            v = math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
        else:
            v = self.lo + u * (self.hi - self.lo)
        if self.kind == "int":
            v = int(round(v))
            v = min(max(v, int(self.lo)), int(self.hi))
        return v

    def to_unit(self, v) -> float:
        if self.log:
            return (math.log(v) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return (v - self.lo) / (self.hi - self.lo)


@dataclass
class Problem:
    name: str
    dim: int
    bounds: List[Tuple[float, float]]
    f: Callable[[np.ndarray], float]
    f_opt: Optional[float]
    params: List[Param] = field(default_factory=list)
    budget: int = 0

    def __post_init__(self):
        if not self.params:
            self.params = [Param(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(self.bounds)]
        if not self.budget:
            self.budget = min(20 * self.dim, 100)

    # x given as list/array of native values (ints for int params)
    def __call__(self, x) -> float:
        return float(self.f(x))

    def from_unit(self, u) -> list:
        return [p.from_unit(ui) for p, ui in zip(self.params, u)]

    def to_unit(self, x) -> np.ndarray:
        return np.array([p.to_unit(v) for p, v in zip(self.params, x)], dtype=float)


# ---------------------------------------------------------------- functions

def branin(x):
    x1, x2 = x[0], x[1]
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                         [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650],
                         [4047, 8828, 8732, 5743, 1091, 381]])

_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])



def hartmann6(x):
    x = np.asarray(x, dtype=float)
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def ackley(x, a=20.0, b=0.2, c=2 * math.pi):
    x = np.asarray(x, dtype=float)
    d = x.size
    return float(-a * np.exp(-b * np.sqrt(np.sum(x ** 2) / d))
                 - np.exp(np.sum(np.cos(c * x)) / d) + a + math.e)



def rosenbrock(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1) ** 2))




BRANIN_OPT = 0.39788735772973816            # = 5/(4 pi) exactly; lit. 0.397887
HARTMANN6_OPT = -3.3223680114155147         # lit. -3.32237


def synthetic_problems() -> List[Problem]:
    return [
        Problem("Branin", 2, [(-5.0, 10.0), (0.0, 15.0)], branin, BRANIN_OPT, budget=40),
        Problem("Hartmann6", 6, [(0.0, 1.0)] * 6, hartmann6, HARTMANN6_OPT),
        Problem("Ackley5", 5, [(-32.768, 32.768)] * 5, ackley, 0.0),
        Problem("Rosenbrock4", 4, [(-5.0, 10.0)] * 4, rosenbrock, 0.0, budget=80),
    ]


SHIFT = [0.3, 0.7, 0.2, 0.6, 0.35, 0.8, 0.25, 0.65, 0.4, 0.75]


def shifted_box(d, width, minimizer):
    out = []
    for k in range(d):
        lo = minimizer - SHIFT[k % len(SHIFT)] * width
        out.append((lo, lo + width))
    return out


def levy(x):
    x = np.asarray(x, dtype=float)
    w = 1.0 + (x - 1.0) / 4.0
    s = math.sin(math.pi * w[0]) ** 2
    s += float(np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)))
    return s + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


def griewank(x):
    x = np.asarray(x, dtype=float)
    i = np.arange(1, x.size + 1)
    return float(np.sum(x ** 2) / 4000.0 - np.prod(np.cos(x / np.sqrt(i))) + 1.0)


def rastrigin(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(x ** 2 - 10 * np.cos(2 * math.pi * x) + 10))


SCHWEFEL_X = 420.9687468116308
SCHWEFEL_C = 418.98288727243374


def schwefel(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(SCHWEFEL_C - x * np.sin(np.sqrt(np.abs(x)))))


MICHALEWICZ_X = [2.202905519169125, 1.5707963320632525, 1.2849915692299487, 1.9230584701523643,
                 1.7204697719558144, 1.5707963285510154, 1.4544139721828078, 1.7560865209680583,
                 1.655717416889273, 1.570796327848568]


def michalewicz(x):
    x = np.asarray(x, dtype=float)
    i = np.arange(1, x.size + 1)
    return float(-np.sum(np.sin(x) * np.sin(i * x ** 2 / math.pi) ** 20))


STYBLINSKI_TANG_X = -2.903534020556906


def styblinski_tang(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(0.5 * (x ** 4 - 16 * x ** 2 + 5 * x)))


def held_out_problems() -> List[Problem]:
    """Issue 24's held-out problems, 100 trials each, as nasbo's `bench` gives them."""
    return [
        Problem("shiftedlevy4", 4, shifted_box(4, 20.0, 1.0), levy, 0.0, budget=100),
        Problem("schwefel4", 4, [(-500.0, 500.0)] * 4, schwefel, 0.0, budget=100),
        Problem("michalewicz5", 5, [(0.0, math.pi)] * 5, michalewicz,
                michalewicz(MICHALEWICZ_X[:5]), budget=100),
        Problem("shiftedgriewank6", 6, shifted_box(6, 1200.0, 0.0), griewank, 0.0, budget=100),
        Problem("shiftedrastrigin6", 6, shifted_box(6, 10.24, 0.0), rastrigin, 0.0, budget=100),
        Problem("styblinskitang8", 8, [(-5.0, 5.0)] * 8, styblinski_tang,
                styblinski_tang([STYBLINSKI_TANG_X] * 8), budget=100),
        Problem("shiftedlevy10", 10, shifted_box(10, 20.0, 1.0), levy, 0.0, budget=100),
    ]


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                         [381, 5743, 8828]])


def hartmann3(x):
    x = np.asarray(x, dtype=float)
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H3_A * (x - _H3_P) ** 2, axis=1))))


def held_out_second_problems() -> List[Problem]:
    """The second held-out set (nasbo's `--problem heldout2`), 100 trials each."""
    return [
        Problem("shiftedlevy6", 6, shifted_box(6, 20.0, 1.0), levy, 0.0, budget=100),
        Problem("shiftedlevy8", 8, shifted_box(8, 20.0, 1.0), levy, 0.0, budget=100),
        Problem("shiftedgriewank3", 3, shifted_box(3, 1200.0, 0.0), griewank, 0.0, budget=100),
        Problem("shiftedgriewank8", 8, shifted_box(8, 1200.0, 0.0), griewank, 0.0, budget=100),
        Problem("shiftedrastrigin4", 4, shifted_box(4, 10.24, 0.0), rastrigin, 0.0, budget=100),
        Problem("shiftedrastrigin8", 8, shifted_box(8, 10.24, 0.0), rastrigin, 0.0, budget=100),
        Problem("rosenbrock6", 6, [(-5.0, 10.0)] * 6, rosenbrock, 0.0, budget=100),
        Problem("shiftedackley8", 8, [(-20.0, 45.536)] * 8, ackley, 0.0, budget=100),
        Problem("schwefel6", 6, [(-500.0, 500.0)] * 6, schwefel, 0.0, budget=100),
        Problem("michalewicz8", 8, [(0.0, math.pi)] * 8, michalewicz,
                michalewicz(MICHALEWICZ_X[:8]), budget=100),
        Problem("styblinskitang5", 5, [(-5.0, 5.0)] * 5, styblinski_tang,
                styblinski_tang([STYBLINSKI_TANG_X] * 5), budget=100),
        Problem("hartmann3", 3, [(0.0, 1.0)] * 3, hartmann3, -3.862782147820756, budget=100),
    ]


def all_problems() -> List[Problem]:
    return synthetic_problems() + [
        Problem("shiftedackley5", 5, [(-20.0, 45.536)] * 5, ackley, 0.0, budget=100),
    ] + held_out_problems() + held_out_second_problems()


def named_set(name: str) -> Optional[List[str]]:
    """The problem names of `--problems heldout`, `heldout2` or `all`; None for another value."""
    sets = {"heldout": held_out_problems, "heldout2": held_out_second_problems,
            "all": all_problems}
    return [p.name for p in sets[name]()] if name in sets else None


def get_problem(name: str) -> Problem:
    for p in all_problems():
        if p.name == name:
            return p
    raise KeyError(name)
