"""Inject each fault many times, at seeded random moments and places, and count how often featstore's promise held.

    python tests/fault_campaign.py                      # the counts of the report (about 30 minutes on 2 cores)
    python tests/fault_campaign.py --scale 0.2          # a fifth of them
    python tests/fault_campaign.py --scale 0.01 --clips 10   # each fault once or twice (a few minutes)
    python tests/fault_campaign.py --only sigkill,flips

The tests (tests/test_faults_*.py, test_integrity.py, test_resume.py) inject every
fault a few times; this script repeats them with the same helpers (faults.py) and
prints one row per promise: how many times the fault was injected, and how many
times the promise held. A row whose counts differ is a bug; the failures are
listed below the table.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import faults  # noqa: E402

sys.path.insert(0, str(faults.ROOT))  # this source tree's featstore, whatever is installed
from featstore import FeatureStore, StoreChangedError, StoreCorruptError  # noqa: E402
from featstore._blas import reproducible_blas  # noqa: E402
from featstore.store import VIEWS  # noqa: E402
from featstore.verify import verify_store  # noqa: E402


class Campaign:
    def __init__(self, root: Path, rng, n_clips: int):
        self.root, self.rng = root, rng
        self.rows = []  # (fault, promise, injected, held)
        self.failures = []
        self.dataset = root / "data"
        subprocess.run([sys.executable, "-m", "featstore", "synth", self.dataset, "--n-clips", str(n_clips), "--quiet"],
                       env=faults.featstore_env(), check=True)
        self.reference = root / "reference.h5"
        self.build_ok(self.argv(self.reference))
        started = time.monotonic()
        self.build_ok(self.argv(root / "timing.h5"))
        self.duration = time.monotonic() - started  # of a whole build, process start included
        (root / "timing.h5").unlink()

    def argv(self, out, *extra):
        return ["build", self.dataset, "--out", out, "--jobs", "2", "--quiet", *extra]

    def build_ok(self, argv, **kwargs):
        result = faults.run(argv, **kwargs)
        if result.returncode != 0:
            raise RuntimeError(f"build failed: {result.stderr}")
        return result

    def fresh(self) -> Path:
        folder = self.root / "work"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return folder

    def record(self, fault, promise, results):
        held = sum(1 for ok, _ in results if ok)
        self.rows.append((fault, promise, len(results), held))
        self.failures += [f"{fault}: {why}" for ok, why in results if not ok]
        print(f"{fault}: {held} of {len(results)}", flush=True)

    # --- SIGKILL, SIGTERM, SIGINT at random moments ------------------------------------

    def kill_at_random(self, out, signum, *extra, group=False):
        """Signal a build at a random moment (the whole process group, as a terminal's Ctrl-C, if ``group``)."""
        build = faults.start(self.argv(out, *extra), new_session=group)
        # From 0.1 s on: before that Python itself is starting, and the command line
        # has not taken over the signals yet (see the README).
        time.sleep(self.rng.uniform(0.1, 1.1 * self.duration))
        if build.poll() is not None:
            return build.wait(), ""
        (os.killpg if group else os.kill)(build.pid, signum)
        _, stderr = build.communicate(timeout=600)
        return build.returncode, stderr

    def sigkill(self, n):
        plain, resumed = [], []
        for i in range(n):
            folder = self.fresh()
            out = folder / "s.h5"
            resume = i % 2 == 1
            code, _ = self.kill_at_random(out, signal.SIGKILL)
            finished = out.exists()
            why = []
            if finished and verify_store(out):
                why.append(f"a store at the output that does not verify (exit {code})")
            after = faults.run(self.argv(out, *(["--overwrite"] if finished else []), *(["--resume"] if resume else [])))
            if after.returncode != 0:
                why.append(f"the next build failed: {after.stderr.strip()}")
            if faults.work_folders(out):
                why.append(f"left behind after the next build: {faults.work_folders(out)}")
            if resume and not finished and faults.different_datasets(self.reference, out):
                why.append(f"resumed store differs from an uninterrupted build: {faults.different_datasets(self.reference, out)}")
            (resumed if resume else plain).append((not why, "; ".join(why)))
        self.record("SIGKILL at a random moment, next build plain", "no partial store; the next build removes the rest", plain)
        self.record("SIGKILL at a random moment, next build --resume", "resumed store = uninterrupted build, bit for bit", resumed)

    def sigterm_sigint(self, n):
        for signum, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT to the process group (Ctrl-C)")):
            results = []
            for _ in range(n):
                out = self.fresh() / "s.h5"
                code, stderr = self.kill_at_random(out, signum, group=signum == signal.SIGINT)
                why = []
                if out.exists():  # the signal came after the store was in place
                    if verify_store(out):
                        why.append("the store does not verify")
                elif code != 128 + signum or stderr.splitlines() != [f"interrupted: nothing was written to {out}"]:
                    why.append(f"exit {code}, stderr {stderr!r}")
                if faults.work_folders(out) or not out.exists() and list(out.parent.iterdir()):
                    why.append(f"left behind: {list(out.parent.iterdir())}")
                results.append((not why, "; ".join(why)))
            self.record(f"{name} at a random moment", "one line, exit 128+signal, nothing left", results)

    def synthetic_kill(self, n):
        results = []
        for i in range(n):
            folder = self.fresh()
            tmpdir = folder / "tmp"
            tmpdir.mkdir()
            out = folder / "s.h5"
            signum = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)[i % 3]
            build = faults.start(["build", "synthetic:400", "--out", out, "--jobs", "2", "--quiet"], tmpdir=tmpdir,
                                 new_session=True)
            time.sleep(self.rng.uniform(1.0, 6.0))
            workers = faults.children(build.pid)
            (os.killpg if signum == signal.SIGINT else os.kill)(build.pid, signum)
            _, stderr = build.communicate(timeout=600)
            gone = faults.wait_until(lambda: not any(faults.alive(p) for p in workers), timeout=3, step=0.05)
            faults.run(["build", self.dataset, "--out", folder / "next.h5", "--jobs", "2", "--quiet"], tmpdir=tmpdir)
            why = [] if gone else [f"workers alive 3 s after the kill: {[p for p in workers if faults.alive(p)]}"]
            if signum != signal.SIGKILL and stderr.splitlines() != [f"interrupted: nothing was written to {out}"]:
                why.append(f"{signal.Signals(signum).name}: stderr {stderr!r}")
            if list(tmpdir.iterdir()):
                why.append(f"generated data left after the next build: {list(tmpdir.iterdir())}")
            results.append((not why, "; ".join(why)))
        self.record("SIGKILL, SIGTERM or Ctrl-C during a synthetic build's data generation",
                    "one line (not after SIGKILL), workers gone within 3 s, data removed", results)

    # --- races, readers -------------------------------------------------------------------

    def races(self, n):
        for overwrite in (False, True):
            results, at_the_end = [], 0
            for _ in range(n):
                out = self.fresh() / "s.h5"
                if overwrite:
                    shutil.copy(self.reference, out)
                builds = [faults.start(self.argv(out, *(["--overwrite"] if overwrite else []))) for _ in range(2)]
                done = [(b.returncode, err) for b in builds for _, err in [b.communicate(timeout=600)]]
                codes = sorted(code for code, _ in done)
                losers = [err for code, err in done if code != 0]
                # Without --overwrite exactly one wins. With it, a build that started after
                # the other finished may replace that store: that is what it was asked to do.
                allowed = ("was replaced by another file while",) if overwrite else ("appeared while", "already exists")
                why = []
                if codes[0] != 0 or codes[-1] not in (0, 1) or (not overwrite and codes != [0, 1]):
                    why.append(f"exit codes {codes}")
                if any(len(err.splitlines()) != 1 or not any(a in err for a in allowed) for err in losers):
                    why.append(f"loser said {losers!r}")
                if verify_store(out) or faults.work_folders(out):
                    why.append("store does not verify, or leftovers")
                at_the_end += sum("while this build ran" in err for err in losers)
                results.append((not why, "; ".join(why)))
            name = "two builds at once" + (", --overwrite" if overwrite else "")
            self.record(f"{name} ({at_the_end} lost at the final step)", "never a silent replacement; the loser says so",
                        results)

    def readers(self, n):
        other = self.root / "reference-seed1.h5"
        if not other.exists():
            self.build_ok(["build", "synthetic:60", "--out", other, "--seed", "1", "--quiet"], tmpdir=self.root)
        stores = {str(p): FeatureStore(p).load("mfcc_stats") for p in (self.reference, other)}
        results, reads = [], 0
        for i in range(n):
            out = self.fresh() / "s.h5"
            old, new = (self.reference, other) if i % 2 == 0 else (other, self.reference)
            shutil.copy(old, out)
            source = ["synthetic:60", "--seed", "1"] if new == other else [self.dataset]
            rebuild = faults.start(["build", *source, "--out", out, "--overwrite", "--quiet"], tmpdir=self.root)
            seen, ended, why = [], False, []
            while not ended:  # read until the rebuild has ended, and once more after
                ended = rebuild.poll() is not None
                try:
                    X, y, groups, meta = FeatureStore(out).load("mfcc_stats")
                except StoreChangedError:  # replaced between opening and loading: refused, as promised
                    ended = False
                    continue
                match = [p for p, (X2, y2, g2, _) in stores.items()
                         if X.shape == X2.shape and np.array_equal(X, X2) and np.array_equal(y, y2)]
                seen.append(match[0] if len(match) == 1 else None)
            reads += len(seen)
            if None in seen or seen[0] != str(old) or seen[-1] != str(new):
                why.append(f"reads saw {[s and Path(s).name for s in seen]}")
            results.append((not why, "; ".join(why)))
        self.record(f"reads during a rebuild ({reads} reads)", "each read wholly the old or the new store", results)

    # --- full disk --------------------------------------------------------------------------

    def disk_full(self, n):
        results, refused = [], 0
        with faults.small_tmpfs(self.root / "tmpfs", size=f"{int(2.4 * self.reference.stat().st_size / 2**20) + 4}m") as folder:
            if folder is None:
                print("disk full: cannot mount a tmpfs here; skipped")
                return
            injected = 0
            while injected < n:
                for p in folder.iterdir():
                    p.unlink()
                out = folder / "s.h5"
                shutil.copy(self.reference, out)
                build = faults.start(self.argv(out, "--overwrite"))
                time.sleep(self.rng.uniform(0.5, self.duration))
                if build.poll() is not None:
                    build.communicate()
                    continue  # finished before the disk filled: not an injection
                faults.fill_disk(folder)
                _, stderr = build.communicate(timeout=600)
                injected += 1
                why = []
                if build.returncode == 0:  # the filler came after the last write: the store must be whole
                    if verify_store(out):
                        why.append("completed, but the store does not verify")
                else:  # refused before decoding (the disk filled while it started), or a write failed
                    said = ("Not enough free space for a store", "No room to write in")
                    if build.returncode != 1 or len(stderr.splitlines()) != 1 or not any(w in stderr for w in said):
                        why.append(f"exit {build.returncode}: {stderr!r}")
                    refused += "Not enough free space" in stderr
                    if verify_store(out) or faults.different_datasets(self.reference, out):
                        why.append("the old store changed")
                if sorted(p.name for p in folder.iterdir()) != ["filler", "s.h5"]:
                    why.append(f"left behind: {sorted(p.name for p in folder.iterdir())}")
                results.append((not why, "; ".join(why)))
        self.record(f"disk filled during a --overwrite build, tmpfs ({refused} refused before decoding)",
                    "one line, exit 1, old store untouched, nothing left", results)

    # --- flipped bits -------------------------------------------------------------------------

    def flips(self, n):
        small = self.root / "small.h5"
        if not small.exists():  # with augmented views: they are digested like the other features
            self.build_ok(["build", "synthetic:30", "--out", small, "--augment", "gain:-6,6", "--quiet"],
                          tmpdir=self.root)
        chunks = faults.feature_chunks(small)
        results = []
        path = self.root / "flipped.h5"
        for _ in range(n):
            fold, name, first_row, offset, size = chunks[self.rng.integers(len(chunks))]
            byte, bit = int(self.rng.integers(size)), int(self.rng.integers(8))
            shutil.copy(small, path)
            faults.flip_bit(path, offset + byte, bit)
            prefix = f"fold {fold}: {name} of clip"
            found = any(p.startswith(prefix) and "disagrees with its digest" in p for p in verify_store(path))
            try:
                if name == VIEWS:
                    FeatureStore(path).load("logmel", folds=[fold], views=True)
                else:
                    FeatureStore(path).load(name, folds=[fold])
                refused = False
            except StoreCorruptError:
                refused = True
            results.append((found and refused, f"{prefix} byte {byte} bit {bit}: verify found {found}, load refused {refused}"))
        self.record("one bit flipped in feature data", "verify names it (fold, dataset, clip); load refuses", results)

        size = small.stat().st_size
        paths = []
        for i in range(n):
            paths.append(self.root / "anywhere" / f"{i}.h5")
            paths[-1].parent.mkdir(exist_ok=True)
            shutil.copy(small, paths[-1])
            faults.flip_bit(paths[-1], int(self.rng.integers(size)), int(self.rng.integers(8)))
        results, detected = [], 0
        for path in paths:  # one process each: a crash inside HDF5 would show as one
            try:
                result = subprocess.run([sys.executable, "-m", "featstore", "verify", path], capture_output=True,
                                        text=True, env=faults.featstore_env(), timeout=300)
            except subprocess.TimeoutExpired:
                results.append((False, f"{path.name}: verify still running after 300 s"))
                continue
            crashed = result.returncode not in (0, 1) or "Traceback" in result.stderr
            detected += result.returncode == 1
            results.append((not crashed, f"{path.name}: exit {result.returncode} {result.stderr[-300:]!r}"))
        self.record(f"one bit flipped anywhere in the file ({detected} reported as problems)",
                    "verify never crashes nor hangs, exits 0 or 1", results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count by this")
    parser.add_argument("--only", help="comma-separated: sigkill,signals,synthetic,races,readers,disk,flips")
    parser.add_argument("--clips", type=int, default=200, help="clips of the data set built (default: 200)")
    args = parser.parse_args(argv)
    counts = {"sigkill": 40, "signals": 20, "synthetic": 10, "races": 20, "readers": 10, "disk": 20, "flips": 200}
    chosen = args.only.split(",") if args.only else list(counts)
    with tempfile.TemporaryDirectory(prefix="fault-campaign-") as tmp:
        campaign = Campaign(Path(tmp), np.random.default_rng(args.seed), args.clips)
        print(f"a build of {args.clips} clips takes {campaign.duration:.1f} s here (process start included)")
        methods = {"sigkill": campaign.sigkill, "signals": campaign.sigterm_sigint, "synthetic": campaign.synthetic_kill,
                   "races": campaign.races, "readers": campaign.readers, "disk": campaign.disk_full,
                   "flips": campaign.flips}
        least = {"sigkill": 2}  # its two rows take turns: one injection each at the least
        for name in chosen:
            methods[name](max(least.get(name, 1), round(counts[name] * args.scale)))
    print("\n| fault | promise | injected | promise held |\n|---|---|---|---|")
    for fault, promise, injected, held in campaign.rows:
        print(f"| {fault} | {promise} | {injected} | {held} |")
    for failure in campaign.failures:
        print("FAILED:", failure)
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    reproducible_blas()
    raise SystemExit(main())
