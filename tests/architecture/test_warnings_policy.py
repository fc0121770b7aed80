"""A warning raised from greenfleet's own code fails the test that raised it (pyproject's filterwarnings);
libraries' warnings do not."""

from __future__ import annotations

import warnings

import pytest


def _warn_from(module_name: str) -> None:
    code = compile("import warnings\nwarnings.warn('careful', UserWarning)\n", f"<{module_name}>", "exec")
    exec(code, {"__name__": module_name})


def test_a_warning_from_greenfleet_code_is_an_error() -> None:
    with pytest.raises(UserWarning, match="careful"):
        _warn_from("greenfleet.somewhere")


def _action(category: type[Warning], module_name: str) -> str:
    """The action of the first filter in force that matches (as the warnings module decides)."""
    for action, message, cat, module, lineno in warnings.filters:
        if issubclass(category, cat) and (module is None or module.match(module_name)) and not lineno and (
                message is None or message.match("careful")):
            return str(action)
    return "default"


def test_a_warning_from_a_library_is_not_an_error() -> None:
    assert _action(UserWarning, "greenfleet.router.proxy") == "error"
    assert _action(UserWarning, "somelibrary.module") != "error"
    assert _action(DeprecationWarning, "somelibrary.module") == "ignore"
