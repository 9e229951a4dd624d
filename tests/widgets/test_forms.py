"""The form generated from a config dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets
import pytest

from nasbench.errors import NasbenchError
from nasbench.strategies import get_strategy, make_config
from widgets._number_box import NumberBox
from widgets.forms import ConfigForm


@dataclass
class _Config:
    steps: int = field(default=3, metadata={"help": "how many", "min": 1, "max": 5})
    rate: float = field(default=0.5, metadata={"help": "a rate", "min": 0.0, "max": 1.0})
    flag: bool = field(default=False, metadata={"help": "on or off"})
    mode: str = field(default="a", metadata={"help": "which", "choices": ("a", "b")})
    name: str = "x"


def test_controls_follow_types_and_metadata():
    form = ConfigForm(_Config)
    c = form.controls
    assert isinstance(c["steps"], NumberBox) and c["steps"].whole
    assert (c["steps"].min, c["steps"].max) == (1, 5)
    assert isinstance(c["rate"], NumberBox) and not c["rate"].whole
    assert (c["rate"].min, c["rate"].max) == (0.0, 1.0)
    assert isinstance(c["flag"], widgets.Checkbox)
    assert isinstance(c["mode"], widgets.Dropdown) and list(c["mode"].options) == ["a", "b"]
    assert isinstance(c["name"], widgets.Text)
    assert c["steps"].tooltip == "how many"


def test_values_out_of_range_are_kept_as_typed_not_clamped():
    # A bounded ipywidgets box would turn 50 into 5 without a word; the config refuses it.
    form = ConfigForm(_Config)
    form.controls["steps"].value = 50
    form.controls["rate"].value = -3.0
    assert form.values()["steps"] == 50 and isinstance(form.values()["steps"], int)
    assert form.values()["rate"] == -3.0
    assert form.controls["steps"].problem() == "'steps' must be a whole number from 1 to 5, not 50."
    form.set_values({"steps": 2, "rate": 0.0, "mode": "b", "name": "y", "unknown": 1})
    assert form.config() == _Config(steps=2, rate=0.0, mode="b", name="y")


def test_a_fraction_in_a_whole_number_field_reaches_the_config_as_typed():
    # An ipywidgets int box strips '.' as it is typed (3.7 -> 37); the form keeps 3.7.
    form = ConfigForm(get_strategy("darts").config_cls)
    form.controls["order"].value = 1.5
    assert form.values()["order"] == 1.5
    with pytest.raises(NasbenchError, match=r"order must be an integer, got 1\.5"):
        make_config("darts", form.values())
    form.controls["order"].value = 2.0
    assert form.values()["order"] == 2 and isinstance(form.values()["order"], int)


def test_strategy_form_round_trips_through_make_config():
    form = ConfigForm(get_strategy("darts").config_cls)
    assert form.controls["order"].max == 2
    form.controls["order"].value = 2
    form.controls["arch_lr"].value = 1e-3
    config = make_config("darts", form.values())
    assert config.order == 2 and config.arch_lr == 1e-3


def test_brackets_nested_past_the_recursion_limit_stay_text_and_are_refused_in_one_line():
    # A bad paste into a list field: json.loads raises RecursionError, not a decode error.
    form = ConfigForm(get_strategy("nsga2").config_cls)
    form.controls["objectives"].value = "[" * 3000
    assert form.values()["objectives"] == "[" * 3000
    with pytest.raises(NasbenchError) as refused:
        make_config("nsga2", form.values())
    assert "\n" not in str(refused.value) and "unknown objective" in str(refused.value)


def test_carry_takes_shared_values_the_form_holds_as_given_and_keeps_defaults_else():
    import dataclasses

    @dataclasses.dataclass
    class Old:
        lr: float = 0.1
        depth: int = 3
        mode: str = dataclasses.field(default="a", metadata={"choices": ("a", "b")})
        only_old: int = 1

    @dataclasses.dataclass
    class New:
        lr: float = 0.5
        depth: int = dataclasses.field(default=2, metadata={"min": 1, "max": 4})
        mode: str = dataclasses.field(default="a", metadata={"choices": ("a", "c")})

    old = ConfigForm(Old)
    old.set_values({"lr": 0.01, "depth": 9, "mode": "b", "only_old": 5})
    assert old.edited() == {"lr": 0.01, "depth": 9, "mode": "b", "only_old": 5}
    new = ConfigForm(New)
    # depth 9 is past New's range and "b" is not offered: both keep New's defaults.
    assert new.carry(old.edited()) == ["lr"]
    assert new.values() == {"lr": 0.01, "depth": 2, "mode": "a"}


def test_an_untouched_form_of_list_and_nan_defaults_reports_nothing_edited():
    import dataclasses
    import math

    @dataclasses.dataclass
    class Choices:
        lr: tuple[float, ...] = (0.01, 0.05)  # a text box gives it back as a list
        pairs: tuple[tuple[int, int], ...] = ((1, 2),)
        floor: float = math.nan

    form = ConfigForm(Choices)
    assert form.edited() == {}
    form.set_values({"lr": [0.01, 0.1]})
    assert form.edited() == {"lr": [0.01, 0.1]}
