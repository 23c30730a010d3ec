from collections import Counter

import pytest

from tools.mypy_baseline import check, normalize

ERROR = 'infra/x.py:12: error: Item "None" of "int | None" has no attribute "real"  [union-attr]'
ENTRY = 'infra/x.py: error: Item "None" of "int | None" has no attribute "real"  [union-attr]'


def test_an_entry_is_the_error_without_its_line_number():
    assert normalize(ERROR) == ENTRY
    assert (
        normalize('a.py:3:7: error: Name "f" already defined on line 2  [no-redef]')
        == 'a.py: error: Name "f" already defined on line N  [no-redef]'
    )


def test_the_errors_of_the_baseline_pass_wherever_they_moved(capsys):
    assert check([ERROR.replace(":12:", ":40:")], Counter([ENTRY])) == 0


@pytest.mark.parametrize(
    "errors, baseline, says",
    [
        ([ERROR], Counter(), "1 new error(s)"),
        ([ERROR, ERROR.replace(":12:", ":13:")], Counter([ENTRY]), "1 new error(s)"),  # once more in the same file
        ([], Counter([ENTRY]), "no longer occur: well done, remove them with `.venv/bin/python tools/mypy_baseline.py"),
    ],
)
def test_a_new_error_and_a_baseline_entry_that_no_longer_occurs_both_fail(errors, baseline, says, capsys):
    assert check(errors, baseline) == 1
    assert says in capsys.readouterr().out


def test_a_new_error_is_shown_with_its_line_number(capsys):
    check([ERROR], Counter())
    assert ERROR in capsys.readouterr().out
