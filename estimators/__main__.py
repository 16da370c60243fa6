"""``python -m estimators evaluate STORE --model NAME ...``: see :mod:`estimators.evaluation.cli`."""

from .evaluation.cli import entry_point

if __name__ == "__main__":
    entry_point()
