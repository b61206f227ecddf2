"""Python benchmark (issue 17): modelsign_rs against model_signing through the same Python
API, and modelsign's CLI against model_signing's CLI, in one run, on a 2 GiB model of four
files and on 20,000 small files. Prints the times and both ratios (model_signing's time over
ours) and writes its section of bench/RESULTS.md. Run via bench/python/run.sh.

The ratios answer issue 17's question: does going through Python cost modelsign_rs any of
the lead the CLI has? model_signing's CLI hashes files/sha256 only, so everything here does.
"""
import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench as cli_bench  # noqa: E402  (bench/bench.py: models, timing, machine)

WORKLOADS = ["4x512MiB", "20000x4KiB"]
CONFIG = "files-sha256"
SECTION = "## Python package: modelsign_rs against model_signing (issue 17)"
# Whether a Python ratio is "within 10 %" of the CLI ratio.
TOLERANCE = 0.10


class Timer:
    """measure() for cli_bench.timed_rounds: a run of model_signing_op.py counts for the time
    it reports of its API calls (interpreter start and import excluded); its whole process's
    wall time is kept beside it. The 1-minute load average is sampled at every run."""

    def __init__(self):
        self.process = {}
        self.load = []

    def __call__(self, cmd):
        elapsed, rss, out = cli_bench.run_timed(cmd)
        self.load.append(float(Path("/proc/loadavg").read_text().split()[0]))
        reported = re.search(r"^api_seconds=([0-9.]+)$", out, re.M)
        if not reported:
            return elapsed, rss
        self.process.setdefault(tuple(map(str, cmd)), []).append(elapsed)
        return float(reported.group(1)), rss


def commands_for(root: Path, sigs: Path, ms: str):
    """Every timed command for one model, by (tool, op); each tool verifies its own
    signature."""
    api = [sys.executable, str(cli_bench.BENCH / "model_signing_op.py")]
    ms_py = [sys.executable, "-m", "model_signing"]
    wheel_cli = Path(sys.executable).parent / "modelsign"
    key, pub = cli_bench.KEY, cli_bench.PUB
    sig = {tool: sigs / f"{root.name}-{tool}.sig"
           for tool in ("api-rs", "api-ms", "cli-rs", "cli-ms", "wheel-cli")}
    return {
        ("modelsign_rs API", "sign"): api + ["sign", CONFIG, root, sig["api-rs"], key, "modelsign_rs"],
        ("modelsign_rs API", "verify"): api + ["verify", CONFIG, root, sig["api-rs"], pub, "modelsign_rs"],
        ("model_signing API", "sign"): api + ["sign", CONFIG, root, sig["api-ms"], key, "model_signing"],
        ("model_signing API", "verify"): api + ["verify", CONFIG, root, sig["api-ms"], pub, "model_signing"],
        ("modelsign CLI", "sign"): [ms, "sign", "key", root, "--private-key", key, "--signature", sig["cli-rs"]],
        ("modelsign CLI", "verify"): [ms, "verify", "key", root, "--public-key", pub, "--signature", sig["cli-rs"]],
        ("model_signing CLI", "sign"): ms_py + ["sign", "key", root, "--private_key", key, "--signature", sig["cli-ms"]],
        ("model_signing CLI", "verify"): ms_py + ["verify", "key", root, "--signature", sig["cli-ms"], "--public_key", pub],
        # The `modelsign` command the wheel installs: the CLI's code behind a Python entry point.
        ("wheel's modelsign command", "sign"): [wheel_cli, "sign", "key", root, "--private-key", key, "--signature", sig["wheel-cli"]],
        ("wheel's modelsign command", "verify"): [wheel_cli, "verify", "key", root, "--public-key", pub, "--signature", sig["wheel-cli"]],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--modelsign", required=True, help="the release CLI binary")
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=WORKLOADS, choices=WORKLOADS,
                        help="only these models (a trial run; RESULTS.md wants both)")
    args = parser.parse_args()
    work = Path(args.work)
    sigs = work / "sigs-python"
    sigs.mkdir(parents=True, exist_ok=True)
    models = cli_bench.make_models(work, args.models)
    timer = Timer()
    started = time.time()
    results = []
    for name, (root, size, count) in models.items():
        cli_bench.warm(root)
        by_label = {f"{tool} {op}": cmd for (tool, op), cmd in commands_for(root, sigs, args.modelsign).items()}
        # Verification needs the signatures and the rounds run in shuffled order: sign once first.
        for label, cmd in by_label.items():
            if label.endswith(" sign"):
                timer(cmd)
        # Ours take a fraction of model_signing's time: sample them several times per round
        # (as bench/bench.py does), model_signing once.
        samples = cli_bench.SMALL_MODEL_SAMPLES if size < cli_bench.GIB else cli_bench.LARGE_MODEL_SAMPLES
        repeat = {label: samples for label in by_label if not label.startswith("model_signing")}
        measured = timed_rounds_with_process(by_label, args.runs, repeat, timer)
        results.append((name, size, count, measured))
        for label, (seconds, rss, process) in measured.items():
            extra = f" (process {process:.3f} s)" if process is not None else ""
            print(f"{name:11} {label:34} {seconds:8.3f} s{extra} {rss:7.1f} MiB", flush=True)
    section = write_section(results, args.runs, timer.load, time.time() - started)
    print(section)


def timed_rounds_with_process(by_label, runs, repeat, timer):
    """cli_bench.timed_rounds, plus the median whole-process time of the API runs."""
    before = {key: len(v) for key, v in timer.process.items()}
    measured = cli_bench.timed_rounds(by_label, runs, repeat, measure=timer)
    out = {}
    for label, (seconds, rss) in measured.items():
        key = tuple(map(str, by_label[label]))
        process = timer.process.get(key, [])[before.get(key, 0):]
        out[label] = (seconds, rss, statistics.median(process) if process else None)
    return out


def write_section(results, runs, load, wall):
    load_note = (f"1-minute load average over the run: {min(load):.2f} to {max(load):.2f} "
                 f"(median {statistics.median(load):.2f}) on {os.cpu_count()} cores")
    lines = [
        SECTION,
        "",
        f"Machine: {cli_bench.machine()}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"with `bash bench/python/run.sh` ({wall:.0f} s); {load_note}: other work shared the machine.",
        "",
        "To rerun: `bash bench/python/run.sh` (`BENCH_RUNS` rounds, default 5; models in `BENCH_DIR`,",
        "default .cache/bench, 2.2 GiB; about 10 minutes on this machine when quiet). It rewrites",
        "this section only.",
        "",
        "What runs: a release wheel of modelsign-rs (`maturin build --release`) installed in a venv with",
        "model-signing 1.1.1 and pyOpenSSL at the versions scripts/test.sh pins. In one run, for each",
        "model: signing and verifying (files serialization, SHA-256, ECDSA P-256 key, hash workers at",
        "their default, all cores) with `modelsign_rs` and with `model_signing` through the same lines",
        "of model_signing's API (bench/model_signing_op.py, only the import differs), with our",
        "`modelsign` CLI (target/release) and model_signing's CLI, and with the `modelsign` command the",
        "wheel installs. Every command runs in each of the",
        f"{runs} rounds, in shuffled order (bench/bench.py's `timed_rounds`); ours {cli_bench.LARGE_MODEL_SAMPLES} times per round on",
        f"the 2 GiB model and {cli_bench.SMALL_MODEL_SAMPLES} times on the small files, model_signing's once; each figure",
        "is the median. Page cache warm (every file read once before the rounds, as bench/run.sh does).",
        "",
        "API times are the API calls alone, from building the configuration to the end of",
        "`sign`/`verify`, as the process reports them (interpreter start and import excluded); the",
        "API process column is the whole process. CLI times are whole processes. A ratio is",
        "model_signing's time over ours; the Python ratio checked against the CLI's is the whole",
        "processes' (both then pay model_signing's import); the last column is the Python-side",
        "cost: modelsign_rs's API calls over the CLI doing the same work (1.00: none).",
        "",
        "| model | operation | tool | time (s) | API process (s) | peak RSS (MiB) |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, _, _, measured in results:
        for label, (seconds, rss, process) in measured.items():
            tool, op = label.rsplit(" ", 1)
            proc = f"{process:.3f}" if process is not None else ""
            lines.append(f"| {name} | {op} | {tool} | {seconds:.3f} | {proc} | {rss:.1f} |")
    # Like with like: each CLI run is a whole process, model_signing's import (about 1.5 s,
    # most of its time on a large model at the SHA-256 limit) included, so the Python ratio
    # checked against it is the whole processes' one. The API calls' ratio is what a
    # long-lived program that imported the module once sees.
    lines += [
        "",
        "| model | operation | Python ratio (whole processes) | CLI ratio | Python / CLI ratio | "
        "within 10 % | Python ratio (API calls alone) | modelsign_rs API calls / modelsign CLI |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, _, _, m in results:
        for op in ("sign", "verify"):
            rs, ms = m[f"modelsign_rs API {op}"], m[f"model_signing API {op}"]
            cli_rs, cli_ms = m[f"modelsign CLI {op}"][0], m[f"model_signing CLI {op}"][0]
            api_ratio, process_ratio, cli_ratio = ms[0] / rs[0], ms[2] / rs[2], cli_ms / cli_rs
            relative = process_ratio / cli_ratio
            verdict = "yes" if abs(relative - 1) <= TOLERANCE else "no"
            lines.append(f"| {name} | {op} | {process_ratio:.2f}x | {cli_ratio:.2f}x | {relative:.2f} | "
                         f"{verdict} | {api_ratio:.2f}x | {rs[0] / cli_rs:.2f} |")
    lines.append("")
    text = "\n".join(lines)
    replace_section(cli_bench.BENCH / "RESULTS.md", text)
    return text


def replace_section(path: Path, text: str):
    """Puts `text` in place of this benchmark's section of RESULTS.md (up to the next `## `
    heading), or at the end; the other benchmarks' sections stay as they are."""
    old = path.read_text() if path.exists() else ""
    start = old.find(SECTION + "\n")
    if start < 0:
        path.write_text(old.rstrip("\n") + "\n\n" + text)
        return
    end = old.find("\n## ", start + len(SECTION))
    rest = old[end + 1:] if end >= 0 else ""
    path.write_text(old[:start] + text + ("\n" + rest if rest else ""))


if __name__ == "__main__":
    main()
