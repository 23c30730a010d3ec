"""The PromQL helpers the observability tests rely on: if they were wrong, the live test would prove nothing."""

from __future__ import annotations

import pytest

from tests.observability.queries import metric_names, substitute_grafana_variables, without_thresholds


def test_metric_names_skip_functions_keywords_labels_and_durations():
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{status!="500",le=~"1|2"}[5m] offset 1h)))'
        " > bool 2 * on(job) group_left(instance) max without (pod) (y) or on() vector(0) and absent(z)"
    )
    assert metric_names(expr) == {"x_bucket", "y", "z"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up == 0", "up == bool 0"),
        ("sum(a) > 0.05", "sum(a) > bool 0.05"),
        ("a > bool 1", "a > bool 1"),
        (
            'x{status!="5..",route=~"/v1/.*"} >= 2 and on() y<=3',
            'x{status!="5..",route=~"/v1/.*"} >= bool 2 and on() y<= bool 3',
        ),
    ],
)
def test_without_thresholds_turns_filters_into_bool_comparisons(expr, expected):
    assert without_thresholds(expr) == expected


def test_grafana_variables_are_substituted():
    expr = "rate(a[$__rate_interval]) + increase(b[${__range}]) + rate(c[$__interval])"
    assert substitute_grafana_variables(expr, "10s", "5m", "2s") == "rate(a[10s]) + increase(b[5m]) + rate(c[2s])"
