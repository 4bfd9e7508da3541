"""The composition plot: population, pool and panel share of every value of every quota
feature, side by side (matplotlib, Agg backend)."""
from __future__ import annotations

import pathlib

# feature -> value -> share of the people
Shares = dict[str, dict[str, float]]


def plot_shares(path: pathlib.Path, population: Shares, pool: Shares, panel: Shares,
                labels: dict[str, dict[str, str]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    features = list(population)
    fig, axes = plt.subplots(1, len(features), figsize=(4.2 * len(features), 4.6), dpi=110,
                             sharey=True)
    for ax, feature in zip(np.atleast_1d(axes), features, strict=True):
        values = list(population[feature])
        x = np.arange(len(values))
        w = 0.27
        for offset, (name, data, colour) in zip((-w, 0, w), (
                ("population", population, "#8c8c8c"), ("pool (volunteers)", pool, "#e6a23c"),
                ("panel", panel, "#0b4f8a")), strict=True):
            ax.bar(x + offset, [data[feature].get(v, 0) for v in values], w, label=name,
                   color=colour)
        ax.set_xticks(x, [v.replace(" og ", "\nog ").replace("videregaaende", "videregående")
                          for v in values], rotation=30, ha="right", fontsize=8)
        ax.set_title(labels[feature]["en"])
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    np.atleast_1d(axes)[0].set_ylabel("share")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
