"""Reading one metadata cell as the type its column must have, whether it comes as text (a CSV) or typed (Arrow)."""

import math
import numbers
import re

import pandas as pd

__all__ = ["BadCell", "is_blank", "parse_float", "parse_int", "parse_text"]

_INTEGER = re.compile(r"[+-]?\d+")


class BadCell(ValueError):
    """One cell's problem, e.g. "fold is blank"."""


def is_blank(value) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def parse_int(column, value) -> int:
    if isinstance(value, bool):
        raise BadCell(f"{column} {value!r} is not an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)  # a typed column holding whole numbers as floats
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise BadCell(f"{column} {value!r} is not an integer")


def parse_float(column, value) -> float:
    if isinstance(value, bool):
        raise BadCell(f"{column} {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise BadCell(f"{column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise BadCell(f"{column} {value!r} is not a finite number")
    return number


def parse_text(column, value) -> str:
    return value.strip() if isinstance(value, str) else str(value)
