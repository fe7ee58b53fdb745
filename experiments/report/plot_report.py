#!/usr/bin/env python3
"""Draws the plots of `coldlab report --out DIR` from the CSV files it wrote there.

Usage: plot_report.py DIR

Reads DIR/summary.csv, DIR/timeseries.csv and DIR/scenario1.csv (when there is one) and
writes, as PNG and SVG into DIR:
  timeseries-<run id>  hits/s, maximum and average latency, and users over time (the study's
                       Scenario 2 graphs), one figure per run;
  scenario1            latency of each open-loop request, bars coloured cold/warm, one panel
                       per run (the study's Scenario 1);
  comparison           mean and peak hits/s and maximum latency across memory sizes, grouped
                       by runtime (only when the runs know their memory size).
coldlab report runs it with the Python it was given and embeds the PNGs in report.md.
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, none wanted
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.patches import Patch  # noqa: E402

COLD = "#d62728"
WARM = "#1f77b4"
UNKNOWN = "#7f7f7f"


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(text):
    """A CSV cell as a float; NaN when empty, so matplotlib leaves a gap."""
    return float(text) if text != "" else math.nan


def by_run(rows):
    """Rows grouped by run id, in the file's order."""
    groups = {}
    for row in rows:
        groups.setdefault(row["run_id"], []).append(row)
    return groups


def save(fig, out_dir, stem):
    fig.savefig(os.path.join(out_dir, stem + ".png"), dpi=110)
    fig.savefig(os.path.join(out_dir, stem + ".svg"))
    plt.close(fig)


def plot_timeseries(out_dir, rows):
    for run_id, run_rows in by_run(rows).items():
        seconds = [int(r["second"]) for r in run_rows]
        # An hour-long open-loop run reads better in minutes.
        in_minutes = seconds[-1] > 600
        x = [s / 60 if in_minutes else s for s in seconds]
        fig, (hits_ax, latency_ax, users_ax) = plt.subplots(3, 1, sharex=True, figsize=(9, 7.5))
        # Each bucket is a second wide: the step of the last one is drawn to its end too.
        step_x = x + [(seconds[-1] + 1) / 60 if in_minutes else seconds[-1] + 1]
        hits = [int(r["hits"]) for r in run_rows]
        users = [int(r["users"]) for r in run_rows]
        hits_ax.plot(step_x, hits + hits[-1:], drawstyle="steps-post", color="#2ca02c",
                     label="hits/s")
        hits_ax.set_ylabel("hits/s")
        hits_ax.set_ylim(bottom=0)
        latency_ax.plot(x, [number(r["max_latency_ms"]) for r in run_rows], marker=".",
                        color=COLD, label="maximum latency")
        latency_ax.plot(x, [number(r["avg_latency_ms"]) for r in run_rows], marker=".",
                        color=WARM, label="average latency")
        latency_ax.set_ylabel("latency (ms)")
        latency_ax.set_ylim(bottom=0)
        users_ax.plot(step_x, users + users[-1:], drawstyle="steps-post", color="#9467bd",
                      label="users")
        users_ax.set_ylabel("users")
        users_ax.set_ylim(0, max(users) * 1.1 + 1)  # an open-loop run has no users: 0 of 1
        users_ax.set_xlabel("time since the first request (%s)" % ("min" if in_minutes else "s"))
        for ax in (hits_ax, latency_ax, users_ax):
            ax.grid(True, alpha=0.3)
            ax.legend(loc="upper right")
        fig.suptitle("%s (run %s): hits/s, latency and users per second"
                     % (run_rows[0]["label"], run_id))
        fig.tight_layout()
        save(fig, out_dir, "timeseries-" + run_id)


def plot_scenario1(out_dir, rows):
    runs = by_run(rows)
    if not runs:
        return
    columns = min(len(runs), 3)
    lines = math.ceil(len(runs) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(max(6.0, 4.5 * columns), 3.8 * lines + 0.6),
                             squeeze=False)
    for ax in axes.flat[len(runs):]:
        ax.set_visible(False)
    for ax, (run_id, run_rows) in zip(axes.flat, runs.items()):
        latencies = [number(r["latency_ms"]) for r in run_rows]
        heights = [0 if math.isnan(v) else v for v in latencies]
        colours = [COLD if r["start"] == "cold" else WARM if r["start"] == "warm" else UNKNOWN
                   for r in run_rows]
        positions = range(len(run_rows))
        bars = ax.bar(positions, heights, color=colours)
        for bar, value in zip(bars, latencies):
            ax.annotate("no answer" if math.isnan(value) else "%.0f" % value,
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(positions))
        ax.set_xticklabels(["#%s\n%.1f min" % (r["index"], float(r["minute"])) for r in run_rows],
                           fontsize=8)
        ax.set_ylabel("latency (ms)")
        ax.set_title("%s (run %s)" % (run_rows[0]["label"], run_id))
        ax.set_ylim(0, max(heights + [1]) * 1.3)  # room for the labels and the legend
        ax.grid(True, axis="y", alpha=0.3)
    axes.flat[0].legend(handles=[Patch(color=COLD, label="cold start"), Patch(color=WARM, label="warm")],
                        loc="upper center")
    fig.suptitle("Scenario 1: client-side latency per request, cold vs warm")
    fig.tight_layout()
    save(fig, out_dir, "scenario1")


def series_name(row):
    """What a bar group's colour stands for: the label without its memory size (so a sweep of
    other parameters stays apart), else the runtime."""
    label = row["label"].replace(" %s MB" % row["memory_mb"], "")
    return label if label != row["label"] else row["runtime"]


def plot_comparison(out_dir, rows):
    rows = [r for r in rows if r["memory_mb"] != ""]
    if not rows:
        return
    memories = sorted({int(r["memory_mb"]) for r in rows})
    series = sorted({series_name(r) for r in rows})
    panels = [("hits_per_s_mean", "mean hits/s", "hits/s"),
              ("hits_per_s_peak", "peak hits/s", "hits/s"),
              ("latency_max_ms", "maximum latency", "latency (ms)")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4))
    width = 0.8 / len(series)
    for ax, (column, title, unit) in zip(axes, panels):
        for i, name in enumerate(series):
            values = {int(r["memory_mb"]): number(r[column]) for r in rows if series_name(r) == name}
            xs = [m + (i - (len(series) - 1) / 2) * width for m in range(len(memories))]
            ax.bar(xs, [values.get(m, math.nan) for m in memories], width=width, label=name)
        ax.set_xticks(range(len(memories)))
        ax.set_xticklabels([str(m) for m in memories])
        ax.set_xlabel("memory (MB)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(title="runtime")
    fig.suptitle("Throughput and maximum latency across memory sizes")
    fig.tight_layout()
    save(fig, out_dir, "comparison")


def main(argv):
    if len(argv) != 2:
        print("usage: plot_report.py DIR", file=sys.stderr)
        return 2
    out_dir = argv[1]
    plot_timeseries(out_dir, read_csv(os.path.join(out_dir, "timeseries.csv")))
    scenario1 = os.path.join(out_dir, "scenario1.csv")
    if os.path.exists(scenario1):
        plot_scenario1(out_dir, read_csv(scenario1))
    plot_comparison(out_dir, read_csv(os.path.join(out_dir, "summary.csv")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
