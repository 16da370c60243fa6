"""The README's examples run as written, so the documentation cannot drift from the code.

Every ```python block of README.md (and of benchmarks/README.md) runs, in the
order of the file and in one namespace per file, as a reader pasting them into
one session would, in a folder holding a small store under the name the blocks
use, "urbansound8k.h5". The code is the README's, character for character; only
sizes shrink:

* the store holds 100 synthetic clips, the fewest with every class in every
  fold, of 0.5 s instead of 4 s (64 x 41 log-mels instead of 64 x 321), with
  one augmented view, a gain, which needs no pitch shift or stretch; beside it,
  "esc50.h5" holds 250 synthetic ESC-50 clips (every class in every fold) of 0.5 s;
* ``MelCNNClassifier`` trains 1 epoch by default instead of 10, and
  ``make_stats_boosting`` 5 boosting iterations instead of 300.

The shell commands of the README's "Other datasets" section run too, as
written, in a folder holding the table of clips and the class folders they name.

A block that cannot run small is preceded in its file by the line
``<!-- not run by the tests: REASON -->`` and is reported as skipped with that
reason. benchmarks/README.md has no Python blocks today; the command lines of
its shell blocks are checked against each script's argument parser here, and
their ``--quick`` runs happen in tests/test_benchmarks.py.
"""

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest
import sklearn

from estimators import MelCNNClassifier, make_stats_boosting
from featstore import FeatureConfig, build_store, make_synthetic_dataset, open_source

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md"]
SKIP = re.compile(r"<!--\s*not run by the tests:\s*(.+?)\s*-->")


def fenced_blocks(path, language):
    """``(first line number, code, text of the line before the fence)`` of each block."""
    lines = path.read_text().splitlines()
    blocks, start = [], None
    for number, line in enumerate(lines, start=1):
        if start is None and line.strip() == f"```{language}":
            start = number + 1
        elif start is not None and line.strip() == "```":
            before = next((t for t in reversed(lines[: start - 2]) if t.strip()), "")
            blocks.append((start, "\n".join(lines[start - 1 : number - 1]), before))
            start = None
    return blocks


def _python_cases():
    for path in READMES:
        for line, code, before in fenced_blocks(path, "python"):
            skip = SKIP.search(before)
            marks = [pytest.mark.skip(reason=skip.group(1))] if skip else []
            yield pytest.param(path, line, code, id=f"{path.relative_to(ROOT)}:{line}", marks=marks)


def test_the_readme_has_python_examples():
    """Guards the extraction: a broken fence pattern must not make the tests vacuous."""
    assert len(fenced_blocks(ROOT / "README.md", "python")) >= 5


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory):
    """A folder with a small store at the name the README uses."""
    root = make_synthetic_dataset(
        tmp_path_factory.mktemp("synthetic") / "UrbanSound8K", n_clips=100, seed=0, progress=False
    )
    folder = tmp_path_factory.mktemp("readme")
    build_store(
        open_source(root), folder / "urbansound8k.h5", config=FeatureConfig(clip_seconds=0.5, augment="gain:-6"),
        n_jobs=2, progress=False,
    )
    with open_source("synthetic-esc50:250", n_jobs=2) as esc50:
        build_store(esc50, folder / "esc50.h5", config=FeatureConfig(clip_seconds=0.5), n_jobs=2, progress=False)
    return folder


@pytest.fixture(scope="module")
def small_runs():
    """One training epoch by default; scikit-learn's configuration restored afterwards."""
    config = sklearn.get_config()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(MelCNNClassifier.__init__.__kwdefaults__, "max_epochs", 1)
        patch.setitem(make_stats_boosting.__kwdefaults__, "max_iter", 5)
        yield
    sklearn.set_config(**config)


NAMESPACES = {}  # README path -> the namespace its blocks share
FAILED = set()  # README paths with a block that failed


@pytest.mark.parametrize("path, line, code", list(_python_cases()))
def test_python_block_runs(path, line, code, store_folder, small_runs, monkeypatch):
    if path in FAILED:
        pytest.skip(f"an earlier block of {path.name} failed")
    monkeypatch.chdir(store_folder)
    namespace = NAMESPACES.setdefault(path, {"__name__": "__readme__"})
    # padded so that tracebacks point at the README's own line numbers
    compiled = compile("\n" * (line - 1) + code, str(path), "exec")
    try:
        exec(compiled, namespace)
    except BaseException:
        FAILED.add(path)
        raise


# ----------------------------------------------------------------------------
# README.md, "Other datasets": its commands run as written


def _section(path, heading):
    """The lines of ``path`` from ``heading`` to the next heading of its level."""
    lines = path.read_text().splitlines()
    start = lines.index(heading)
    level = heading.split(" ")[0] + " "
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(level)), len(lines))
    return "\n".join(lines[start:end])


def _other_datasets_commands():
    section = _section(ROOT / "README.md", "## Other datasets")
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("python -m featstore")]


def test_the_other_datasets_section_has_its_commands():
    commands = _other_datasets_commands()
    assert [c.split()[3] for c in commands] == ["synth", "build", "build", "build", "build"]


def test_the_other_datasets_commands_run_as_written(tmp_path):
    import subprocess
    import sys

    import pandas as pd
    import soundfile as sf
    from conftest import tone

    rows = []
    (tmp_path / "my-clips").mkdir()
    for i, (label, fold) in enumerate([("dog", 1), ("cat", 1), ("dog", 2), ("cat", 2)]):
        sf.write(tmp_path / "my-clips" / f"{i}.wav", tone(seconds=0.5, sample_rate=16000, freq=300 + 200 * i), 16000)
        rows.append({"file_name": f"{i}.wav", "label": label, "fold": fold})
    pd.DataFrame(rows).to_csv(tmp_path / "my-clips.csv", index=False)
    for label, freq in (("yes", 300), ("no", 700)):
        (tmp_path / "my-folders" / label).mkdir(parents=True)
        for speaker in range(6):
            sf.write(tmp_path / "my-folders" / label / f"spk{speaker}_nohash_0.wav",
                     tone(seconds=0.3, sample_rate=16000, freq=freq), 16000)
    for command in _other_datasets_commands():
        argv = [sys.executable, *shlex.split(command)[1:]]
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stderr)
    from featstore import FeatureStore

    assert FeatureStore(tmp_path / "esc50.h5").layout == "esc50"
    assert len(FeatureStore(tmp_path / "esc10.h5").class_names) == 10
    assert FeatureStore(tmp_path / "my-clips.h5").class_names == ("cat", "dog")
    assert set(FeatureStore(tmp_path / "my-folders.h5").folds) <= {1, 2, 3, 4, 5}


# ----------------------------------------------------------------------------
# benchmarks/README.md: its command lines parse with the scripts' own parsers


def _commands(path):
    """``(line, script name, argv)`` of every ``python benchmarks/<script>.py`` command."""
    for start, code, _ in fenced_blocks(path, "bash"):
        variables = {"URBANSOUND8K_FOLD1": "fold1-copies"}
        text, first = "", None
        for number, physical in enumerate(code.splitlines(), start=start):
            first = number if first is None else first
            if physical.endswith("\\"):
                text += physical[:-1] + " "
                continue
            text, command, first_line = "", text + physical, first
            first = None
            command = re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], command)
            assignment = re.fullmatch(r"\s*(\w+)=(.*)", command)
            if assignment:
                variables[assignment.group(1)] = " ".join(shlex.split(assignment.group(2)))
                continue
            # "[--epochs 5]" marks optional arguments: parse them too
            words = shlex.split(command.replace("[", "").replace("]", ""), comments=True)
            if words[:1] == ["python"] and words[1].startswith("benchmarks/"):
                yield first_line, Path(words[1]).stem, words[2:]


class _Parsed(Exception):
    """Raised in place of running a script once its arguments are parsed."""


@pytest.mark.parametrize(
    "script, argv",
    [pytest.param(s, a, id=f"{s}:{n}") for n, s, a in _commands(ROOT / "benchmarks" / "README.md")],
)
def test_benchmark_commands_of_the_readme_parse(script, argv, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    module = importlib.import_module(script)
    parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, args=None, namespace=None):
        raise _Parsed(parse_args(parser, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    with pytest.raises(_Parsed):
        module.main(argv)
