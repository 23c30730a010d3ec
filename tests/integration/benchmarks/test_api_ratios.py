"""`make bench-api`'s ratio table: the API's CPU per transaction against the echo at full speed (the
goal's ratio) and against the echo at the API's pace, each from its own runs."""

from __future__ import annotations

from benchmarks.api import PACED, Budget, print_api_ratios


def budget(label: str, connections: int, accepted: int, **cpu: float) -> Budget:
    return Budget(label, connections, accepted, 10.0, cpu)


def test_the_goal_ratio_uses_the_echo_at_full_speed_and_the_paced_ratio_the_paced_echo(capsys):
    print_api_ratios(
        [
            budget("ceiling: bare Flask echo", 16, 10_000, ceiling=4.0),  # 400 us per request
            budget("POST /v1/transactions, sqlite, no Idempotency-Key", 16, 1_000, api=1.2),  # 1,200 us
            budget(f"ceiling: bare Flask echo {PACED} (25 ms between requests)", 16, 1_000, ceiling=0.8),  # 800
        ]
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if "sqlite" in line)
    assert [cell.strip() for cell in row.strip("|").split("|")][2:] == ["1,200", "400", "3.00", "<= 2.0", "800", "1.50"]


def test_without_a_paced_run_the_paced_columns_stay_empty(capsys):
    print_api_ratios(
        [
            budget("ceiling: bare Flask echo", 64, 10_000, ceiling=4.0),
            budget("POST /v1/transactions, mysql, fresh key per request", 64, 1_000, api=1.0),
        ]
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if "mysql" in line)
    assert [cell.strip() for cell in row.strip("|").split("|")][2:] == ["1,000", "400", "2.50", "<= 2.5", "", ""]
