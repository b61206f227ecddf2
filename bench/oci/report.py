"""Tables of the OCI registry benchmark (bench/oci/run.sh), from the steps it timed and the
trace log of its olareg: markdown on stdout. Exits 1 when signing or verifying from the
registry fetched a layer blob, which it must never do."""

import argparse
import collections
import json
import pathlib
import re
import sys

SERVE = re.compile(r'msg=ServeHTTP .*?method=(\S+) url=("[^"]*"|\S+) status=(\d+)')
LENGTH = re.compile(r"Content-Length:\[(\d+)\]")

STEPS = {
    "push": "setup: `oras push` of the artifact (not compared)",
    "sign": "(a) `modelsign sign key oci://… --attach`",
    "verify": "(b) `modelsign verify key oci://…` (signature from the registry)",
    "pull": "(c) `oras pull` into a new folder",
    "pull_then_sign_pull": "(d) `oras pull` into a new folder, then …",
    "pull_then_sign_sign": "(d) … `modelsign sign key FOLDER` (local files)",
    "sign_cached_folder": "reference: `modelsign sign key FOLDER`, the same files all in the page cache",
}


def human(n):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} bytes"


def size(n):
    """Bytes for a table: exact, and in binary units when that is shorter to read."""
    return f"{n:,} ({human(n)})" if n >= 1024 else f"{n:,}"


def requests(lines):
    """(method, url, status, request body bytes, response body bytes) per request."""
    found = []
    for line in lines:
        m = SERVE.search(line)
        if not m:
            continue
        method, url, status = m.group(1), m.group(2).strip('"'), int(m.group(3))
        req, _, resp = line.partition(" resp-headers=")
        req_len = LENGTH.search(req.partition(" req-headers=")[2])
        resp_len = LENGTH.search(resp)
        up = int(req_len.group(1)) if req_len else 0
        # The log shows the headers olareg's handler set. A 200 without Content-Length was sent
        # chunked: its size is not in the log (None). Other answers without one (201, 202, 404)
        # have an empty or a short error body: 0.
        if resp_len and method != "HEAD":
            down = int(resp_len.group(1))
        else:
            down = None if method == "GET" and status in (200, 206) else 0
        found.append((method, url, status, up, down))
    return found


def kind(url, layers, config):
    path = url.split("?")[0]
    if path == "/v2/":
        return "/v2/ (API version check)"
    m = re.match(r"/v2/.+?/(manifests|blobs|referrers)/(.*)", path)
    if not m:
        return path
    what, rest = m.groups()
    if what == "blobs":
        if rest.startswith("uploads"):
            return "blobs/uploads/… (upload session)"
        if rest in layers:
            return "blobs/<layer>"
        if rest == config:
            return "blobs/<config>"
        return "blobs/<other: signature bundle or its config>"
    if what == "referrers":
        return "referrers/<manifest digest>" + ("?artifactType=…" if "?" in url else "")
    if rest.startswith("sha256-") and rest.endswith(".sig"):
        return "manifests/sha256-<hex>.sig (tag fallback)"
    if rest.startswith("sha256:"):
        return "manifests/<digest>"
    return "manifests/<tag>"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--netns", required=True)
    ap.add_argument("--pulled-cached", help="bytes of the pulled files in the page cache, and their size")
    args = ap.parse_args()

    manifest = json.loads(pathlib.Path(args.manifest).read_text())
    layers = {layer["digest"] for layer in manifest["layers"]}
    layer_bytes = sum(layer["size"] for layer in manifest["layers"])
    config = manifest["config"]["digest"]
    log = pathlib.Path(args.log).read_text().splitlines()

    rows = {}
    for line in pathlib.Path(args.steps).read_text().splitlines():
        name, seconds, lo, start, end = line.split("\t")
        reqs = requests(log[int(start):int(end)])
        rows[name] = {
            "seconds": float(seconds),
            "lo": int(lo),
            "requests": reqs,
            "up": sum(r[3] for r in reqs),
            "down": sum(r[4] or 0 for r in reqs),
            "unsized": sum(r[4] is None for r in reqs),
            "layer_gets": [r for r in reqs if r[0] == "GET" and kind(r[1], layers, config) == "blobs/<layer>"],
        }
    d = {
        "seconds": rows["pull_then_sign_pull"]["seconds"] + rows["pull_then_sign_sign"]["seconds"],
        "lo": rows["pull_then_sign_pull"]["lo"] + rows["pull_then_sign_sign"]["lo"],
        "requests": rows["pull_then_sign_pull"]["requests"] + rows["pull_then_sign_sign"]["requests"],
        "up": rows["pull_then_sign_pull"]["up"] + rows["pull_then_sign_sign"]["up"],
        "down": rows["pull_then_sign_pull"]["down"] + rows["pull_then_sign_sign"]["down"],
        "unsized": rows["pull_then_sign_pull"]["unsized"] + rows["pull_then_sign_sign"]["unsized"],
        "layer_gets": rows["pull_then_sign_pull"]["layer_gets"],
    }

    print(f"Artifact: {len(layers)} layers, {size(layer_bytes)} bytes of random data "
          f"(`{pathlib.Path(args.model).name}/`: application/vnd.cncf.model.weight.v1.raw layers of an "
          f"application/vnd.cncf.model.manifest.v1+json artifact); image manifest "
          f"{manifest.get('config', {}).get('mediaType', '?')} config. Traffic measured in the "
          f"{args.netns}.\n")
    print("| step | time (s) | bytes on lo (both directions) | HTTP requests | HTTP bodies down | HTTP bodies up | layer blobs fetched |")
    print("|---|---:|---:|---:|---:|---:|---:|")

    def row(label, r):
        print(f"| {label} | {r['seconds']:.3f} | {size(r['lo'])} | {len(r['requests'])} | "
              f"{size(r['down'])}{' + ' + str(r['unsized']) + ' unsized' if r['unsized'] else ''} | "
              f"{size(r['up'])} | {len(r['layer_gets'])} |")

    for name in ("push", "sign", "verify", "pull", "pull_then_sign_pull", "pull_then_sign_sign"):
        row(STEPS[name], rows[name])
    row("(d) pull + sign FOLDER, in all", d)
    row(STEPS["sign_cached_folder"], rows["sign_cached_folder"])

    sign, verify, pull = rows["sign"], rows["verify"], rows["pull"]
    print("\n| baseline / modelsign from the manifest | bytes ratio | time ratio |")
    print("|---|---:|---:|")
    for label, base, ours in (
        ("(c) pull / (a) sign --attach", pull, sign),
        ("(d) pull + sign FOLDER / (a) sign --attach", d, sign),
        ("(c) pull / (b) verify", pull, verify),
        ("(c) pull + reference sign FOLDER (cached) / (a) sign --attach", {
            "lo": pull["lo"], "seconds": pull["seconds"] + rows["sign_cached_folder"]["seconds"]}, sign),
    ):
        print(f"| {label} | {base['lo'] / ours['lo']:,.0f}x | {base['seconds'] / ours['seconds']:,.1f}x |")

    print("\nEvery request of (a) and (b), from olareg's trace log. Bodies are the Content-Length "
          "headers olareg set (HEAD answers carry no body; 201, 202 and 404 answers without one, "
          "empty or a short error, count 0); a 200 sent without one (chunked) is counted as "
          "unsized. The loopback bytes include everything.\n")
    print("| step | request | status | count | response bodies | request bodies |")
    print("|---|---|---|---:|---:|---:|")
    for name in ("sign", "verify"):
        groups = collections.OrderedDict()
        for method, url, status, up, down in rows[name]["requests"]:
            key = (method, kind(url, layers, config), status)
            g = groups.setdefault(key, [0, 0, 0, 0])
            g[0] += 1
            g[1] += down or 0
            g[3] += down is None
            g[2] += up
        for (method, what, status), (count, down, up, unsized) in groups.items():
            down = f"{down:,}" + (f" + {unsized} unsized" if unsized else "")
            print(f"| ({'a' if name == 'sign' else 'b'}) {name} | `{method} {what}` | {status} | {count} | {down} | {up:,} |")

    def pings(r):
        return sum(1 for q in r["requests"] if q[1] == "/v2/")

    print(f"\nReading (this run): signing from the manifest put {human(sign['lo'])} on loopback in "
          f"{len(sign['requests'])} requests ({pings(sign)} of them `GET /v2/`), verifying "
          f"{human(verify['lo'])} in {len(verify['requests'])} ({pings(verify)}); neither fetched a "
          f"layer. Their HTTP bodies are the image manifest, the signature bundle and its manifest, and "
          f"the referrers index: {human(sign['up'] + sign['down'])} and {human(verify['up'] + verify['down'])}; "
          f"the rest is HTTP, TCP and IP headers and ACKs. Pulling moved {human(pull['lo'])} "
          f"({pull['lo'] / layer_bytes:.3f} times the layers' {human(layer_bytes)}) in "
          f"{pull['seconds']:.1f} s: {pull['lo'] / sign['lo']:,.0f} times signing's bytes and "
          f"{pull['seconds'] / sign['seconds']:,.0f} times its time. Pulling and then signing the files, "
          f"what signing a model in a registry took before, took {d['seconds']:.1f} s, "
          f"{d['seconds'] / sign['seconds']:,.0f} times as long as signing from the manifest. "
          f"Loopback with a warm page cache moved the pull at {pull['lo'] / pull['seconds'] / (1 << 30):.2f} GiB/s; "
          f"over a network the pull's time grows with its bytes ({layer_bytes * 8 / 1e9:.0f} s for the "
          f"layers alone at 1 Gbit/s) while signing's stays a few round trips and one ECDSA signature, "
          f"so on a real network the time ratios only grow.")
    cached = pathlib.Path(args.pulled_cached) if args.pulled_cached else None
    if cached and cached.is_file() and cached.read_text().strip():
        res, total = (int(x) for x in cached.read_text().split())
        print(f"\nWhen (d)'s `modelsign sign key FOLDER` started, the page cache held {human(res)} of the "
              f"{human(total)} pulled ({100 * res / total:.0f} %, `fincore`), and it took "
              f"{rows['pull_then_sign_sign']['seconds']:.1f} s; signing the same bytes all in the page "
              f"cache took {rows['sign_cached_folder']['seconds']:.1f} s (the reference row): with less memory "
              f"free, (d) would also read the pulled files back from the disk. Signing the files is "
              f"hashing on both cores, so on a shared machine (load average above) it takes longer "
              f"than in bench/run.sh's section of bench/RESULTS.md; one run's ratios are single samples.")

    bad = [(n, r) for n in ("sign", "verify") for r in rows[n]["layer_gets"]]
    if bad:
        print("\n**Error: modelsign fetched layer blobs:** " + "; ".join(f"{n}: {r[0]} {r[1]}" for n, r in bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
