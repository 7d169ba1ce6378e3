"""Notebook parameters: widgets when ``dbutils`` is there, else ``CDF_REPLICATOR_<NAME>`` or the defaults."""

from __future__ import annotations

import pytest

from cdf_replicator.errors import ConfigError
from cdf_replicator.widgets import env_name, parse_flag, parse_int, read_parameters, require, split_list


class FakeWidgets:
    """``dbutils.widgets``: ``text`` creates a widget once (a job's parameter wins over the default), ``get`` reads."""

    def __init__(self, job_parameters: dict[str, str]) -> None:
        self.values = dict(job_parameters)
        self.created: list[tuple[str, str]] = []

    def text(self, name: str, default: str) -> None:
        self.created.append((name, default))
        self.values.setdefault(name, default)

    def get(self, name: str) -> str:
        return self.values[name]


class FakeDbutils:
    def __init__(self, job_parameters: dict[str, str]) -> None:
        self.widgets = FakeWidgets(job_parameters)


def test_on_databricks_every_parameter_is_a_widget_and_job_parameters_win() -> None:
    dbutils = FakeDbutils({"view": " sp/M/1/Pump "})
    environ = {"CDF_REPLICATOR_VIEW": "ignored on Databricks"}

    params = read_parameters(dbutils, {"config": "conf/demo.yaml", "view": ""}, environ)

    assert params == {"config": "conf/demo.yaml", "view": "sp/M/1/Pump"}
    assert dbutils.widgets.created == [("config", "conf/demo.yaml"), ("view", "")]


def test_off_databricks_the_environment_overrides_the_defaults() -> None:
    environ = {"CDF_REPLICATOR_DROP_TABLES": "yes", "CDF_REPLICATOR_ROOT": "unrelated"}

    params = read_parameters(None, {"config": "conf/demo.yaml", "drop_tables": "false"}, environ)

    assert params == {"config": "conf/demo.yaml", "drop_tables": "yes"}
    assert env_name("drop_tables") == "CDF_REPLICATOR_DROP_TABLES"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("Yes", True), ("1", True), ("on", True), ("false", False), ("NO", False), ("", False)],
)
def test_flags(text: str, expected: bool) -> None:
    assert parse_flag("drop_tables", text) is expected


def test_a_bad_flag_names_the_parameter() -> None:
    with pytest.raises(ConfigError, match=r"^drop_tables: must be true or false, not 'maybe'$"):
        parse_flag("drop_tables", "maybe")


def test_whole_numbers_with_a_minimum() -> None:
    assert parse_int("version", " 12 ") == 12
    with pytest.raises(ConfigError, match=r"^version: must be a whole number, not '1.5'$"):
        parse_int("version", "1.5")
    with pytest.raises(ConfigError, match=r"^history: must be at least 1, not 0$"):
        parse_int("history", "0", minimum=1)


def test_a_required_parameter_says_where_to_set_it() -> None:
    assert require("view", "sp/M/1/V") == "sp/M/1/V"
    with pytest.raises(ConfigError, match=r"^view: is required: set the widget view, or CDF_REPLICATOR_VIEW off"):
        require("view", "")


def test_comma_separated_lists_drop_blanks() -> None:
    assert split_list(" a/M/1/X, ,b/M/1/Y ,") == ["a/M/1/X", "b/M/1/Y"]
    assert split_list("") == []
