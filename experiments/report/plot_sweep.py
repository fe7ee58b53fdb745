#!/usr/bin/env python3
"""Draws the plots of `coldlab simulate --sweep --out DIR` from DIR/sweep.csv.

Usage: plot_sweep.py DIR

Writes, as PNG and SVG into DIR:
  cold-vs-memory  cold-start % against the memory budget, one line per keep-alive policy
                  (FaasCache's figure; only when the sweep has more than one budget);
  pareto          3rd-quartile app cold-start % against wasted memory time normalised to a
                  fixed 10-minute keep-alive, one point per policy and budget (the Pareto
                  figure of Shahrad et al.; only when the baseline was run).
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, none wanted
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)


def save(fig, out_dir, stem):
    fig.savefig(os.path.join(out_dir, stem + ".png"), dpi=110)
    fig.savefig(os.path.join(out_dir, stem + ".svg"))
    plt.close(fig)


def label(policy):
    """A policy's name for a legend: with its parameters when they are short."""
    return policy if len(policy) <= 28 else policy.split(":")[0]


def by_policy(rows):
    groups = {}
    for row in rows:
        groups.setdefault(row["keep_alive"], []).append(row)
    return groups


def legend(ax):
    # Beside the axes: a sweep has many policies and its points fill the plot.
    ax.legend(fontsize="small", bbox_to_anchor=(1.02, 1), loc="upper left", borderaxespad=0)


def plot_cold_vs_memory(out_dir, rows):
    budgets = {int(r["memory_budget_mb"]) for r in rows}
    if len(budgets) < 2:
        return
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for policy, group in by_policy(rows).items():
        group.sort(key=lambda r: int(r["memory_budget_mb"]))
        ax.plot([int(r["memory_budget_mb"]) / 1024 for r in group], [float(r["cold_pct"]) for r in group],
                marker="o", label=label(policy))
    ax.set_xlabel("memory budget (GB)")
    ax.set_ylabel("cold starts (% of requests that ran)")
    ax.set_title("Cold starts against memory")
    ax.grid(True, alpha=0.3)
    legend(ax)
    fig.tight_layout()
    save(fig, out_dir, "cold-vs-memory")


def plot_pareto(out_dir, rows):
    rows = [r for r in rows if r["wasted_pct_of_fixed_10m"] != ""]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(9, 4.5))
    several_budgets = len({r["memory_budget_mb"] for r in rows}) > 1
    for policy, group in by_policy(rows).items():
        xs = [float(r["p75_app_cold_pct"]) for r in group]
        ys = [float(r["wasted_pct_of_fixed_10m"]) for r in group]
        ax.scatter(xs, ys, label=label(policy))
        if several_budgets:
            for r, x, y in zip(group, xs, ys):
                ax.annotate(f"{int(r['memory_budget_mb']) / 1024:g} GB", (x, y), fontsize="x-small",
                            xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("3rd-quartile app cold-start (%)")
    ax.set_ylabel("wasted memory time (% of fixed 10 min)")
    ax.set_title("Cold starts against wasted memory")
    ax.grid(True, alpha=0.3)
    legend(ax)
    fig.tight_layout()
    save(fig, out_dir, "pareto")


def main():
    out_dir = sys.argv[1]
    with open(os.path.join(out_dir, "sweep.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    plot_cold_vs_memory(out_dir, rows)
    plot_pareto(out_dir, rows)


if __name__ == "__main__":
    main()
