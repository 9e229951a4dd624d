"""A form generated from a config dataclass (a strategy's hyperparameters).

Each field becomes one control: ``int`` and ``float`` -> a
:class:`~widgets._number_box.NumberBox` with the field's ``min``/``max`` metadata as its
range, ``bool`` -> ``Checkbox``, a field with ``choices`` metadata -> ``Dropdown``,
anything else -> ``Text`` (JSON for lists). The ``help`` metadata becomes the
control's tooltip. The form holds values only, as typed (a number past the range is not
clamped); the config class validates them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from typing import Any

import ipywidgets as widgets
import traitlets

from nasbench.errors import NasbenchError
from widgets._number_box import NumberBox

_DESCRIPTION_STYLE = {"description_width": "160px"}


def _field_type(config_cls: type, field: dataclasses.Field) -> Any:
    """The field's type; string annotations (``from __future__ import annotations``) resolved."""
    try:
        return typing.get_type_hints(config_cls)[field.name]
    except Exception:  # noqa: BLE001 - fall back to the default's type
        default = field.default
        return type(default) if default is not dataclasses.MISSING else str


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return None


def control_for(config_cls: type, field: dataclasses.Field, value: Any = None) -> widgets.Widget:
    """Return the control for one dataclass field.

    Args:
        config_cls: the dataclass (to resolve the field's type).
        field: one of ``dataclasses.fields(config_cls)``.
        value: the initial value; the field's default when None.

    Returns:
        An ipywidgets control whose ``description`` is the field name and whose
        ``tooltip`` is the ``help`` metadata.

    Example:
        >>> from nasbench.strategies import get_strategy
        >>> cls = get_strategy("darts").config_cls
        >>> order = [f for f in dataclasses.fields(cls) if f.name == "order"][0]
        >>> control_for(cls, order).max
        2
        >>> control_for(cls, order).read()
        1
    """
    meta = field.metadata
    value = _default(field) if value is None else value
    kind = _field_type(config_cls, field)
    common = {
        "description": field.name,
        "tooltip": meta.get("help", ""),
        "style": _DESCRIPTION_STYLE,
        "layout": widgets.Layout(width="360px", max_width="100%"),
    }
    # An exclusive bound (above/below) is shown as the range too; the config refuses it.
    lo = meta.get("min") if meta.get("min") is not None else meta.get("above")
    hi = meta.get("max") if meta.get("max") is not None else meta.get("below")
    if meta.get("choices") is not None:
        options = list(meta["choices"])
        return widgets.Dropdown(
            options=options, value=value if value in options else options[0], **common
        )
    if kind is bool:
        return widgets.Checkbox(value=bool(value), indent=False, **common)
    if kind is int:
        return NumberBox(int(value), min=lo, max=hi, whole=True, **common)
    if kind is float:
        # A step of 0.1 would make the arrows useless for learning rates like 3e-4.
        step = abs(float(value)) / 10 if value else 0.1
        return NumberBox(float(value), min=lo, max=hi, step=step, **common)
    text = value if isinstance(value, str) else json.dumps(value)
    return widgets.Text(value=text, **common)


class ConfigForm(widgets.VBox):
    """A form over the fields of a config dataclass.

    Args:
        config_cls: the dataclass (e.g. ``get_strategy("darts").config_cls``).
        values: initial values by field name; defaults elsewhere.
        exclude: field names left out of the form (and of :meth:`values`), for
            settings another control already holds.

    Attributes:
        controls: field name -> control.

    Example:
        >>> form = ConfigForm(get_strategy("darts").config_cls)  # doctest: +SKIP
        >>> form.controls["order"].value = 2  # doctest: +SKIP
        >>> form.values()["order"]  # doctest: +SKIP
        2
    """

    def __init__(
        self,
        config_cls: type,
        values: dict[str, Any] | None = None,
        exclude: tuple[str, ...] = (),
    ) -> None:
        values = values or {}
        self.config_cls = config_cls
        self.controls: dict[str, widgets.Widget] = {
            f.name: control_for(config_cls, f, values.get(f.name))
            for f in dataclasses.fields(config_cls)
            if f.name not in exclude
        }
        super().__init__(children=list(self.controls.values()))
        self.add_class("nasbench-config-form")

    def values(self) -> dict[str, Any]:
        """Return the form's values by field name, typed as the dataclass declares them."""
        out: dict[str, Any] = {}
        for name, control in self.controls.items():
            value = control.value
            if isinstance(control, NumberBox) and control.whole and float(value).is_integer():
                value = int(value)  # the box holds a float; 3.7 stays, for the config to refuse
            if isinstance(control, widgets.Text):
                try:
                    value = json.loads(value)
                except (json.JSONDecodeError, RecursionError):
                    # A plain string field; or brackets nested past Python's recursion limit
                    # (a bad paste), kept as text for the config's own one-line check.
                    pass
            out[name] = value
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Set controls from a dict (unknown names are ignored)."""
        for name, value in values.items():
            control = self.controls.get(name)
            if control is None:
                continue
            if isinstance(control, widgets.Text) and not isinstance(value, str):
                value = json.dumps(value)
            control.value = value

    def config(self) -> Any:
        """Return an instance of the dataclass built from the form's values."""
        return self.config_cls(**self.values())

    def edited(self) -> dict[str, Any]:
        """The values changed from the dataclass's defaults, by field name.

        Example:
            >>> form = ConfigForm(get_strategy("darts").config_cls)  # doctest: +SKIP
            >>> form.controls["order"].value = 2  # doctest: +SKIP
            >>> form.edited()  # doctest: +SKIP
            {'order': 2}
        """
        defaults = {f.name: _default(f) for f in dataclasses.fields(self.config_cls)}
        return {
            name: value
            for name, value in self.values().items()
            if not _same_value(value, defaults.get(name))
        }

    def carry(self, values: dict[str, Any]) -> list[str]:
        """Take over another form's values (:meth:`edited`) for the fields this one shares.

        A value is taken only as given: one this form's control does not offer or holds
        out of its range, or one the dataclass refuses here (its ``validate()``), keeps the
        default.

        Args:
            values: field name -> value.

        Returns:
            The names of the values taken.
        """
        taken = []
        for name, value in values.items():
            control = self.controls.get(name)
            if control is None:
                continue
            before = control.value
            try:
                self.set_values({name: value})
            except traitlets.TraitError:  # a choice this field does not offer
                continue
            out_of_range = isinstance(control, NumberBox) and control.problem()
            if self.values()[name] == value and not out_of_range and self._valid():
                taken.append(name)
            else:
                control.value = before
        return taken

    def _valid(self) -> bool:
        try:
            config = self.config()
            validate = getattr(config, "validate", None)
            if validate is not None:
                validate()
        except (NasbenchError, TypeError, ValueError):
            return False
        return True


def _same_value(value: Any, default: Any) -> bool:
    """Whether a control's value is the field's default as the form would show it: a text
    box gives a tuple default back as a list, and NaN equals itself here."""
    if isinstance(value, float) and isinstance(default, float):
        return value == default or (math.isnan(value) and math.isnan(default))
    return _as_json(value) == _as_json(default)


def _as_json(value: Any) -> Any:
    """``value`` as a JSON text box gives it back (tuples as lists, at any depth)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):  # not JSON: compared as it is
        return value
