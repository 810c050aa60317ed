"""Search spaces from Python: ``Float``, ``Int`` and ``Categorical``, written as the TOML space
file that ``nasbo tune --space`` reads (so a study made here is the same as one made there)."""

import json
import math
import os


def _num(x, what):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{what}: {x!r} is not a number")
    if not math.isfinite(x):
        raise ValueError(f"{what}: {x!r} is not finite")
    return x


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(_num(v, "choice"))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise ValueError(f"choice {v!r}: a choice is a string, a number or a boolean")


_WHEN_KEYS = ("in", "ge", "gt", "le", "lt")


def _when(when, name):
    """A condition as TOML: ``{"param": "parent", "in": [...]}`` or with ``ge``/``gt``/``le``/``lt``."""
    if when is None:
        return ""
    if not isinstance(when, dict) or not isinstance(when.get("param"), str):
        raise ValueError(
            f"parameter `{name}`: when must be a dict with `param` (the parent's name) and "
            "`in` (its values) or a bound ge/gt/le/lt"
        )
    unknown = set(when) - {"param", *_WHEN_KEYS}
    if unknown:
        raise ValueError(f"parameter `{name}`: unknown keys {sorted(unknown)} in when")
    parts = [f"param = {json.dumps(when['param'], ensure_ascii=False)}"]
    if "in" in when:
        parts.append("in = [" + ", ".join(_scalar(v) for v in when["in"]) + "]")
    for k in ("ge", "gt", "le", "lt"):
        if k in when:
            parts.append(f"{k} = {float(_num(when[k], name + ': when.' + k))!r}")
    return "when = { " + ", ".join(parts) + " }\n"


class Float:
    """A real parameter in ``[low, high]``, on a log scale with ``log=True``."""

    def __init__(self, low, high, *, log=False, when=None):
        self.low, self.high, self.log, self.when = low, high, bool(log), when

    def _toml(self, name):
        return (
            f"type = \"float\"\nlow = {float(_num(self.low, name + ': low'))!r}\n"
            f"high = {float(_num(self.high, name + ': high'))!r}\n"
            f"log = {'true' if self.log else 'false'}\n" + _when(self.when, name)
        )

    def __repr__(self):
        return f"Float({self.low!r}, {self.high!r}, log={self.log})"


class Int:
    """An integer parameter in ``[low, high]`` (every ``step``-th from ``low``)."""

    def __init__(self, low, high, *, log=False, step=1, when=None):
        self.low, self.high, self.log, self.step, self.when = low, high, bool(log), step, when

    def _toml(self, name):
        for what, v in (("low", self.low), ("high", self.high), ("step", self.step)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"parameter `{name}`: {what} = {v!r} is not an integer")
        return (
            f"type = \"int\"\nlow = {self.low}\nhigh = {self.high}\nstep = {self.step}\n"
            f"log = {'true' if self.log else 'false'}\n" + _when(self.when, name)
        )

    def __repr__(self):
        return f"Int({self.low!r}, {self.high!r}, log={self.log}, step={self.step})"


class Categorical:
    """One of ``choices`` (strings; numbers and booleans are kept as their text)."""

    def __init__(self, choices, *, when=None):
        self.choices, self.when = list(choices), when

    def _toml(self, name):
        return (
            "type = \"categorical\"\nchoices = ["
            + ", ".join(_scalar(c) for c in self.choices)
            + "]\n"
            + _when(self.when, name)
        )

    def __repr__(self):
        return f"Categorical({self.choices!r})"


def space_toml(space):
    """The space as TOML text: from a dict name -> ``Float``/``Int``/``Categorical``, from a
    path to a TOML space file, or from TOML text."""
    if space is None:
        return None
    if isinstance(space, dict):
        out = []
        for name, p in space.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"parameter name {name!r}: a non-empty string")
            if not isinstance(p, (Float, Int, Categorical)):
                raise ValueError(
                    f"parameter `{name}`: {p!r} is not a nasbo.Float, nasbo.Int or nasbo.Categorical"
                )
            out.append(
                "[[param]]\nname = " + json.dumps(name, ensure_ascii=False) + "\n" + p._toml(name)
            )
        return "\n".join(out)
    if isinstance(space, os.PathLike) or (
        isinstance(space, str) and "\n" not in space and space.endswith(".toml")
    ):
        with open(space, encoding="utf-8") as f:
            return f.read()
    if isinstance(space, str):
        return space
    raise ValueError(
        f"space: {type(space).__name__} is not a dict of parameters, a TOML file or TOML text"
    )
