"""The picture of ``--lr-find``: the loss against the learning rate (log scale), with the suggestion.

The raw loss of each mini-batch in grey, the smoothed loss the rule reads in colour, the falling
stretch (fastai's valley) shaded, the suggested rate marked, and the optimiser's default beside it.
"""

from __future__ import annotations

import numpy as np


def lr_find_figure(report: dict, title: str):
    """Draw ``--lr-find``'s report (``lrs``, ``losses``, ``smoothed``, ``valley``, ``suggestion``)."""
    from nnkit.plots.style import NOTEBOOK, new_figure, wrap

    figure, axis = new_figure(NOTEBOOK)
    lrs, losses, smoothed = (np.asarray(report[key]) for key in ("lrs", "losses", "smoothed"))
    axis.plot(lrs, losses, color="0.7", lw=1, label="loss of each mini-batch")
    axis.plot(lrs, smoothed, color="#1f5fa8", lw=2, label="smoothed loss (moving average, β 0.98)")
    start, end = report["valley"]
    axis.axvspan(start, end, color="#2a9d8f", alpha=0.15, label="where the loss keeps falling (valley)")
    suggestion = report["suggestion"]
    axis.axvline(suggestion, color="#c2410c", lw=2, label=f"suggested lr {suggestion:.3g}")
    axis.plot(suggestion, np.interp(np.log(suggestion), np.log(lrs), smoothed), "o", color="#c2410c", ms=8)
    axis.axvline(report["default_lr"], color="black", ls=":", lw=1.2,
                 label=f"{report['optimizer']}'s default lr {report['default_lr']:g}")
    axis.set_xscale("log")
    low = float(np.nanmin(smoothed))
    high = float(smoothed[0]) if np.isfinite(smoothed[0]) else float(np.nanmax(smoothed))
    axis.set_ylim(low - 0.1 * (high - low) - 1e-9, max(high, low) + 0.6 * (high - low) + 1e-9)
    axis.set_xlabel("learning rate (log scale)")
    axis.set_ylabel("training loss")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    axis.set_title(wrap(title, 80))
    return figure
