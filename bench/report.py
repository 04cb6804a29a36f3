#!/usr/bin/python3
"""Turns the runs of scripts/bench.sh into summary.json, table.md and PNG plots.

Usage: bench/report.py RESULTS_DIR   (the folder with runs/*.json)

Run names are CASE-WORKLOAD[-N]: a-rps-64, d-cps, b-bulk-1, a-open-0.5. Every
synack figure is put next to the kernel's for the same workload and the same
number of cores (a against d, b against d2) as a ratio from the same run.
"""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CASES = {
    "a": "synack, 1 lcore (net_ring pair)",
    "b": "synack, 2 lcores (net_ring pair)",
    "d": "Linux, 1 core (loopback)",
    "d2": "Linux, 2 cores (loopback)",
    "cm": "synack, 2 processes over memif",
    "cv": "synack, 2 processes over virtio-user/vhost",
    "e": "Linux client to synack server, veth + AF_PACKET",
    "el": "Linux client to Linux server, veth",
}
KERNEL_OF = {"a": "d", "b": "d2", "cm": "d2", "cv": "d2", "e": "el"}


def load_ceilings(folder):
    """testpmd's figures (case f), by PMD: ring, memif, vhost."""
    return {f.name.split(".")[0][2:]: json.loads(f.read_text()) for f in sorted((folder / "runs").glob("f-*.ceiling.json"))}


# The PMD under each synack case, for its testpmd ceiling.
PMD_OF = {"a": "ring", "b": "ring", "cm": "memif", "cv": "vhost"}


def load(folder):
    runs = {}
    for f in sorted((folder / "runs").glob("*.json")):
        if f.name.endswith((".ceiling.json", ".callgrind.json")):
            continue
        try:
            runs[f.stem] = json.loads(f.read_text())
        except json.JSONDecodeError:
            print(f"report: {f} is not JSON; left out", file=sys.stderr)
    return runs


def figure(run, workload):
    if workload == "cps":
        return run["connections_per_s"]
    if workload.startswith("bulk"):
        return run["goodput_gbit_s"]
    return run["requests_per_s"]


def unit(workload):
    return "conn/s" if workload == "cps" else "Gbit/s" if workload.startswith("bulk") else "req/s"


def summarise(runs, ceilings):
    rows = []
    for name, r in runs.items():
        case, workload = name.split("-", 1)
        if workload.startswith("open"):
            continue
        lat = r["latency_ns"]
        row = {
            "case": case,
            "workload": workload,
            "figure": figure(r, workload),
            "unit": unit(workload),
            "p50_us": lat["p50"] / 1e3,
            "p99_us": lat["p99"] / 1e3,
            "p99_9_us": lat["p99_9"] / 1e3,
            "cycles_per_request": r["cycles_per_request"],
            "busy_cycles_per_packet": r["busy_cycles_per_packet"],
            "retransmits": r["retransmits"],
            "failed": r["client"]["failed"],
        }
        ceiling = ceilings.get(PMD_OF.get(case, ""))
        if ceiling and r["seconds"] > 0:
            # Frames both engines moved per second, against what testpmd
            # forwards over the same PMD on one core.
            row["packets_per_s"] = r["packets"] / r["seconds"]
            row["testpmd_pps"] = ceiling["rx_pps"]
            row["of_ceiling"] = row["packets_per_s"] / ceiling["rx_pps"]
            row["testpmd_cycles_per_packet"] = ceiling["cycles_per_packet"]
        kernel = runs.get(f"{KERNEL_OF.get(case, '')}-{workload}")
        if kernel is not None and figure(kernel, workload) > 0:
            row["kernel"] = figure(kernel, workload)
            row["ratio"] = row["figure"] / row["kernel"]
        rows.append(row)
    return rows


def sweep(runs, case):
    points = []
    for name, r in runs.items():
        c, workload = name.split("-", 1)
        if c == case and workload.startswith("open-"):
            lat = r["latency_ns"]
            points.append((r["rate"], r["requests_per_s"], lat["p50"] / 1e3, lat["p99"] / 1e3, lat["p99_9"] / 1e3))
    return sorted(points)


def table(rows, ceilings):
    out = ["| case | workload | figure | kernel, same cores | ratio | p50 us | p99 us | p99.9 us | cycles/request | busy cycles/packet | packets/s | of testpmd |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["case"], r["workload"])):
        kernel = f"{r['kernel']:,.3f}" if r["unit"] == "Gbit/s" and "kernel" in r else f"{r.get('kernel', 0):,.0f}" if "kernel" in r else ""
        fig = f"{r['figure']:,.3f}" if r["unit"] == "Gbit/s" else f"{r['figure']:,.0f}"
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else ""
        out.append(f"| {r['case']} | {r['workload']} | {fig} {r['unit']} | {kernel} | {ratio} | {r['p50_us']:.1f} | "
                   f"{r['p99_us']:.1f} | {r['p99_9_us']:.1f} | {r['cycles_per_request']:,.0f} | {r['busy_cycles_per_packet']:,.0f} | "
                   f"{r.get('packets_per_s', 0):,.0f} | {r.get('of_ceiling', 0) * 100:.2f}% |")
    out += ["", "testpmd ceiling (io forwarding of 64-byte frames, one forwarding core):", "",
            "| PMD | packets/s | cycles/packet |", "|---|---|---|"]
    for pmd, c in ceilings.items():
        out.append(f"| {pmd} | {c['rx_pps']:,} | {c['cycles_per_packet']} |")
    return "\n".join(out) + "\n"


def plots(folder, runs, rows):
    made = []
    # Requests/s against connections.
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    for case, label in CASES.items():
        # A run that moved nothing (no figure) is left out, not drawn as 0.
        pts = sorted((int(r["workload"].split("-")[1]), r["figure"]) for r in rows
                     if r["case"] == case and r["workload"].startswith("rps-") and r["figure"] > 0)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("connections")
    ax.set_ylabel("64-byte requests/s")
    ax.set_title("Requests per second against open connections")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(folder / "rps_by_connections.png", dpi=110)
    plt.close(fig)
    made.append("rps_by_connections.png")
    # Latency against offered load (cases a and d, when swept).
    if sweep(runs, "a") or sweep(runs, "d"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for case in ("a", "d"):
            pts = sweep(runs, case)
            if pts:
                for idx, (name, style) in enumerate((("p50", "-"), ("p99", "--"), ("p99.9", ":"))):
                    ax.plot([p[1] for p in pts], [p[2 + idx] for p in pts], style, marker="o", label=f"{CASES[case]} {name}")
        ax.set_yscale("log")
        ax.set_xlabel("requests/s achieved (open loop, 64 connections)")
        ax.set_ylabel("latency, us (from the intended send time)")
        ax.set_title("Latency against offered load")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / "latency_by_load.png", dpi=110)
        plt.close(fig)
        made.append("latency_by_load.png")
    # Connections/s and goodput, as bars.
    for workload_prefix, title, name in (("cps", "Connections per second (64 in flight, server closes first)", "cps.png"),
                                         ("bulk", "Goodput, Gbit/s", "goodput.png")):
        bars = [(f"{r['case']} {r['workload']}", r["figure"]) for r in sorted(rows, key=lambda r: (r["workload"], r["case"]))
                if r["workload"].startswith(workload_prefix)]
        if not bars:
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar([b[0] for b in bars], [b[1] for b in bars])
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        made.append(name)
    return made


def main():
    folder = pathlib.Path(sys.argv[1])
    runs = load(folder)
    ceilings = load_ceilings(folder)
    rows = summarise(runs, ceilings)
    callgrind = folder / "runs" / "a-callgrind.callgrind.json"
    summary = {
        "instructions": json.loads(callgrind.read_text()) if callgrind.exists() else None,
        "testpmd_ceiling": ceilings,
        "cases": {c: CASES[c] for c in sorted({r["case"] for r in rows})},
        "rows": rows,
        "sweeps": {c: [dict(zip(("rate", "requests_per_s", "p50_us", "p99_us", "p99_9_us"), p)) for p in sweep(runs, c)]
                   for c in ("a", "d")},
        "runs": runs,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    text = table(rows, ceilings)
    if summary["instructions"]:
        i = summary["instructions"]
        text += (f"\nInstructions per request, case a (callgrind, 64 connections, both engines and the workload): "
                 f"{i['instructions_per_request']:,.0f} ({i['instructions']:,} over {i['requests']:,} requests)\n")
    (folder / "table.md").write_text(text)
    made = plots(folder, runs, rows)
    print(text)
    print(f"report: {folder}/summary.json, table.md, " + ", ".join(made))


if __name__ == "__main__":
    main()
