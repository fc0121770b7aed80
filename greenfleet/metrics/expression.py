"""Metric math: a small, safe evaluator for arithmetic on metric ids, parsed with ``ast`` and never
``eval``-ed.

Grammar: numbers, metric ids (``m1``, ``errors``; a lowercase letter then letters, digits, ``_``), ``+ - * /``,
unary ``-``, parentheses, and the functions ``FILL(x, value)`` (missing points take ``value``) and
``ABS(x)``. Evaluation is point by point over the alarm's (or query's) periods: a point is missing when an
operand is missing there, and a division by zero gives a missing point (CloudWatch drops non-finite
results).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence

from greenfleet.errors import ValidationError

Values = list[float | None]
_ID = re.compile(r"[a-z][a-zA-Z0-9_]{0,254}")
_OPS: dict[type[ast.operator], Callable[[float, float], float | None]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b if b != 0 else None,
}
MAX_LENGTH = 1024


def check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationError(f"{field}: '{value}' is not a valid id: it must start with a lowercase letter "
                              "and hold only letters, digits and underscores")
    return value


class Expression:
    def __init__(self, text: str, field: str = "Expression") -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"{field} must be a non-empty string")
        if len(text) > MAX_LENGTH:
            raise ValidationError(f"{field} must be at most {MAX_LENGTH} characters")
        self.text = text
        self.field = field
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValidationError(f"{field}: '{text}' is not a valid expression ({exc.msg})") from None
        self.ids: set[str] = set()
        self._check(tree.body)
        self._tree = tree.body

    def _fail(self, what: str) -> ValidationError:
        return ValidationError(f"{self.field}: {what} is not supported in '{self.text}'; use metric ids, "
                               "numbers, + - * /, parentheses, FILL(x, value) and ABS(x)")

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _OPS:
                raise self._fail(f"the operator {type(node.op).__name__}")
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise self._fail(f"the operator {type(node.op).__name__}")
            self._check(node.operand)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self._fail(f"the constant {node.value!r}")
        elif isinstance(node, ast.Name):
            self.ids.add(check_id(node.id, self.field))
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            arity = {"FILL": 2, "ABS": 1}.get(name or "")
            if arity is None or node.keywords or len(node.args) != arity:
                raise self._fail(f"the call {ast.unparse(node)}")
            self._check(node.args[0])
            if name == "FILL" and not isinstance(node.args[1], (ast.Constant, ast.UnaryOp)):
                raise self._fail("FILL with a non-constant value")
            for arg in node.args[1:]:
                self._check(arg)
        else:
            raise self._fail(f"'{ast.unparse(node)}'")

    def evaluate(self, inputs: Mapping[str, Sequence[float | None]], length: int) -> Values:
        """The expression at each of ``length`` points; ``inputs`` maps every id used to its points."""
        missing = self.ids - set(inputs)
        if missing:
            raise ValidationError(f"{self.field}: unknown id(s) {', '.join(sorted(missing))}")
        result = self._eval(self._tree, inputs, length)
        return [None if v is None or not math.isfinite(v) else v for v in result]

    def _eval(self, node: ast.AST, inputs: Mapping[str, Sequence[float | None]], length: int) -> Values:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))
            return [float(node.value)] * length
        if isinstance(node, ast.Name):
            return list(inputs[node.id])
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, inputs, length)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return [None if v is None else sign * v for v in operand]
        if isinstance(node, ast.BinOp):
            op = _OPS[type(node.op)]
            left = self._eval(node.left, inputs, length)
            right = self._eval(node.right, inputs, length)
            return [None if a is None or b is None else op(a, b) for a, b in zip(left, right, strict=True)]
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        values = self._eval(node.args[0], inputs, length)
        if node.func.id == "ABS":
            return [None if v is None else abs(v) for v in values]
        fill = self._eval(node.args[1], inputs, length)
        return [f if v is None else v for v, f in zip(values, fill, strict=True)]
