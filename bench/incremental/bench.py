"""Incremental re-signing benchmark; run through bench/incremental/run.sh.

Three measurements on one model, each command run once per round in shuffled order so that
compared commands share the machine's conditions (see bench/bench.py's timed_rounds):
  full      sign key MODEL                                   (every byte hashed)
  one       sign key MODEL --reuse v1.sig --changed README.md (one 1 KiB file changed)
  tenth     sign key MODEL --reuse v1.sig --changed F ...    (10 % of the files rewritten)
  baseline  sign key SUBSET, a folder of hard links to just the rewritten files (hashing
            those bytes alone, in the same page cache)
and the acceptance ratios: full / one (>= 100) and tenth / baseline (<= 1.15).
"""
import argparse
import base64
import json
import datetime
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KEY = REPO / "examples/keys/demo-TEST-ONLY.pem"


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def statement(signature: Path) -> bytes:
    """The statement a signature signs (the DSSE payload), to compare re-signs with a full sign."""
    return base64.b64decode(json.loads(signature.read_text())["dsseEnvelope"]["payload"])


def make_model(root: Path, files: int, size: int):
    marker = root / f".complete-{files}-{size}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    print(f"creating {files} files, {size >> 20} MiB in all, in {root} ...", flush=True)
    each = size // files
    for i in range(files):
        path = root / f"layers/{i // 100:02d}/part-{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(each))
    marker.write_text("")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--modelsign", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size-mib", type=int, default=4096)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    model = work / "model"
    sigs = work / "sigs"
    subset = work / "subset"
    sigs.mkdir(parents=True, exist_ok=True)
    make_model(model, args.files, args.size_mib << 20)
    (model / "README.md").write_text("# model\n" + "x" * 1000)
    ms = args.modelsign

    def sign(target, out, *extra):
        return [ms, "sign", "key", target, "--private-key", KEY, "--signature", sigs / out, "-q", *extra]

    # The earlier signature, and the page cache warmed by it.
    run(sign(model, "v1.sig"))
    run(sign(model, "v1.sig"))
    parts = sorted((model / "layers").rglob("*.bin"))

    def linked_copy(name, rewritten=()):
        """The model as a folder of hard links (same page cache), README.md rewritten, and
        the `rewritten` parts replaced by new random bytes of the same size."""
        root = work / name
        shutil.rmtree(root, ignore_errors=True)
        rewritten = set(rewritten)
        for path in parts:
            copy = root / path.relative_to(model)
            copy.parent.mkdir(parents=True, exist_ok=True)
            if path in rewritten:
                copy.write_bytes(os.urandom(path.stat().st_size))
            else:
                os.link(path, copy)
        (root / "README.md").write_text("# model, v2\n" + "y" * 1000)
        return root

    # One small change: README.md rewritten. 10 % of the bytes: every tenth part rewritten
    # too; the subset links to those new files only (hashing those bytes alone).
    one_model = linked_copy("model-one")
    rewritten = parts[::10]
    tenth_model = linked_copy("model-tenth", rewritten)
    shutil.rmtree(subset, ignore_errors=True)
    for path in rewritten:
        link = subset / path.relative_to(model)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(tenth_model / path.relative_to(model), link)
    changed_flags = [a for p in rewritten for a in ("--changed", p.relative_to(model))]
    changed_bytes = sum(p.stat().st_size for p in rewritten)

    commands = {
        "full": sign(one_model, "full.sig"),
        "one": sign(one_model, "one.sig", "--reuse", sigs / "v1.sig", "--changed", "README.md"),
        "tenth": sign(tenth_model, "tenth.sig", "--reuse", sigs / "v1.sig", "--changed", "README.md", *changed_flags),
        "baseline": sign(subset, "subset.sig"),
    }
    # Correctness first: the re-signs sign what a full sign of the same folder signs.
    for label, root in (("one", one_model), ("tenth", tenth_model)):
        run(commands[label])
        run(sign(root, f"{label}-full.sig"))
        if statement(sigs / f"{label}.sig") != statement(sigs / f"{label}-full.sig"):
            sys.exit(f"the {label} re-sign signed another statement than the full sign")
    verify = [ms, "verify", "key", tenth_model, "--public-key", REPO / "examples/keys/demo-TEST-ONLY.pub", "-q"]
    run(verify + ["--signature", sigs / "tenth.sig"])
    times = {label: [] for label in commands}
    order = random.Random(args.runs)
    labels = list(commands)
    for _ in range(args.runs):
        order.shuffle(labels)
        for label in labels:
            times[label].append(run(commands[label]))
    median = {label: statistics.median(t) for label, t in times.items()}
    total = sum(p.stat().st_size for p in parts) + (one_model / "README.md").stat().st_size
    one_ratio = median["full"] / median["one"]
    tenth_ratio = median["tenth"] / median["baseline"]
    rows = [
        ("full sign", f"{len(parts) + 1} files, {total / 2**30:.2f} GiB hashed", median["full"]),
        ("re-sign, README.md changed", "1 file hashed, the rest reused", median["one"]),
        ("re-sign, 10 % rewritten", f"{len(rewritten) + 1} files, {changed_bytes / 2**20:.0f} MiB hashed", median["tenth"]),
        ("sign the rewritten files alone", f"{len(rewritten)} files, {changed_bytes / 2**20:.0f} MiB", median["baseline"]),
    ]
    table = ["| operation | work | median (s) |", "|---|---|---:|"]
    table += [f"| {name} | {work_done} | {seconds:.4f} |" for name, work_done, seconds in rows]
    verdict = [
        f"full sign / re-sign after one small change: **{one_ratio:.0f}x** (acceptance: >= 100x)",
        f"re-sign after 10 % changed / hashing those bytes alone: **{tenth_ratio:.3f}x** (acceptance: <= 1.15x)",
    ]
    print("\n".join(table))
    print("\n".join(verdict))
    if args.no_results:
        return
    cpu = platform.processor() or platform.machine()
    (HERE / "RESULTS.md").write_text(
        "# Incremental re-signing\n\n"
        f"Measured {datetime.date.today()} with `bash bench/incremental/run.sh` on {os.cpu_count()} cores "
        f"({cpu}), Linux {platform.release()}, warm page cache, release build; medians of {args.runs} rounds, "
        "each round running every command once in shuffled order. Every re-sign starts from the same "
        "earlier signature `v1.sig` of the unchanged model (verified with its key each time), and the "
        "re-signed statements are checked equal to a full sign's before timing.\n\n"
        + "\n".join(table) + "\n\n" + "\n".join(f"- {v}" for v in verdict) + "\n"
    )


if __name__ == "__main__":
    main()
