"""Every PromQL expression the project ships (dashboard panels, alert rules) and small tools to test them.

A tiny PromQL tokenizer is enough here: label matchers ``{...}``, ranges ``[...]`` and strings are
single tokens, so comparison operators and metric names are never confused with their contents.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
ALERTS = ROOT / "infra" / "prometheus" / "alerts.yml"
SCRAPE_CONFIG = ROOT / "infra" / "prometheus" / "prometheus.yml"
ALERT_TESTS = Path(__file__).resolve().parent / "alerts_test.yml"

_TOKEN = re.compile(
    r"""(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
      |(?P<matchers>\{(?:"(?:\\.|[^"\\])*"|[^}"])*\})
      |(?P<range>\[[^\]]*\])
      |(?P<number>[0-9][0-9a-zA-Z_.]*)
      |(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
      |(?P<comparison>==|!=|>=|<=|>|<)
      |(?P<space>\s+)
      |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
AGGREGATORS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = AGGREGATORS | LABEL_LIST_KEYWORDS | {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
GRAFANA_VARIABLE = re.compile(r"\$(\{)?(__rate_interval|__interval|__range)(?(1)\})")


@dataclass(frozen=True)
class Query:
    source: str  # "dashboard <uid> / <panel title> / <refId>" or "alert <name>"
    expr: str
    instant: bool = False


def _tokens(expr: str) -> list[tuple[str, str]]:
    return [(match.lastgroup, match.group()) for match in _TOKEN.finditer(expr)]


def _significant(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [token for token in tokens if token[0] != "space"]


def metric_names(expr: str) -> set[str]:
    """Series names an expression selects (not functions, keywords, labels or durations)."""
    tokens = _significant(_tokens(expr))
    names, index = set(), 0
    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if kind == "ident" and text in LABEL_LIST_KEYWORDS and following == "(":
            index = next(i for i in range(index, len(tokens)) if tokens[i][1] == ")")
        elif kind == "ident" and text not in KEYWORDS and following != "(":
            names.add(text)
        index += 1
    return names


def without_thresholds(expr: str) -> str:
    """Every comparison made a ``bool`` comparison: the same series, 0/1 instead of filtered away.

    An alert that is not firing returns nothing, which says nothing about whether its metrics exist.
    Its ``bool`` form returns one sample per series the rule compares, so "returns data" proves that
    every selector of the rule matches live series and that the arithmetic between them lines up.
    """
    tokens, out = _tokens(expr), []
    for index, (kind, text) in enumerate(tokens):
        out.append(text)
        rest = _significant(tokens[index + 1 :])
        if kind == "comparison" and not (rest and rest[0][1] == "bool"):
            spaced = index + 1 < len(tokens) and tokens[index + 1][0] == "space"
            out.append(" bool" if spaced else " bool ")
    return "".join(out)


def substitute_grafana_variables(expr: str, rate_interval: str, range_: str, interval: str) -> str:
    """Grafana's built-in interval variables replaced as Grafana would before querying."""
    values = {"__rate_interval": rate_interval, "__range": range_, "__interval": interval}
    return GRAFANA_VARIABLE.sub(lambda match: values[match.group(2)], expr)


def load_dashboards() -> list[dict]:
    return [json.loads(path.read_text()) for path in DASHBOARDS]


def panels(dashboard: dict) -> list[dict]:
    """Every panel that shows data (rows excluded), also inside collapsed rows."""
    found = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def dashboard_queries() -> list[Query]:
    return [
        Query(
            f"dashboard {board['uid']} / {panel['title']} / {target['refId']}",
            target["expr"],
            bool(target.get("instant")),
        )
        for board in load_dashboards()
        for panel in panels(board)
        for target in panel["targets"]
    ]


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def alert_queries() -> list[Query]:
    return [Query(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
