"""``nnkit explain --plot``: the image, each map, the Grad-CAM overlay and the class probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnkit.plots.figures import save_figure
from nnkit.term.env import Environment

TITLES = {"gradcam": "Grad-CAM", "saliency": "saliency |∂score/∂x|", "occlusion": "occlusion: drop in p"}


def explanation_figure(image: np.ndarray, maps: dict, report: dict):
    """Panels: input, each map at the image's size, Grad-CAM over the image, probabilities."""
    from nnkit.nn.explain import resize_map
    from nnkit.plots.style import NOTEBOOK, SLIDE, new_figure

    shown = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    grey = shown.ndim == 2
    panels = 2 + len(maps) + ("gradcam" in maps)
    # one row up to 3 panels, else two rows: a strip of 6 would be 20 inches wide, its text tiny on a slide
    rows = 1 if panels <= 3 else 2
    cols = -(-panels // rows)
    figure, axes = new_figure(SLIDE if rows == 2 else (SLIDE[0], NOTEBOOK[1]), rows, cols)
    axes = np.ravel(axes)
    for spare in axes[panels:]:
        spare.set_visible(False)
    picture = axes[0].imshow(np.clip(shown, 0, 1), cmap="gray" if grey else None, vmin=0, vmax=1)
    if grey:
        figure.colorbar(picture, ax=axes[0], fraction=0.046, pad=0.03).set_label("pixel value")
    axes[0].set_title("input (as the model sees it)")
    k = 1
    for name, entry in maps.items():
        values = np.asarray(entry["values"], dtype=np.float64)
        # Each map at its own resolution (Grad-CAM's peak stays 1, as in -f json); the overlay is resized.
        if name == "occlusion":
            limit = float(np.abs(values).max()) or 1.0
            artist = axes[k].imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            artist = axes[k].imshow(values, cmap="inferno", vmin=0)
        extra = f" ({entry['layer']}, {values.shape[0]}×{values.shape[1]})" if "layer" in entry else ""
        axes[k].set_title(TITLES[name] + extra)
        figure.colorbar(artist, ax=axes[k], fraction=0.046, pad=0.03)
        k += 1
        if name == "gradcam":
            axes[k].imshow(np.clip(shown, 0, 1), cmap="gray" if grey else None, vmin=0, vmax=1)
            big = resize_map(values, shown.shape[:2]) if values.shape != shown.shape[:2] else values
            heat = axes[k].imshow(big, cmap="jet", alpha=0.45, vmin=0, vmax=1)
            figure.colorbar(heat, ax=axes[k], fraction=0.046, pad=0.03).set_label("Grad-CAM")
            axes[k].set_title("Grad-CAM over the image")
            k += 1
    for axis in axes[:k]:
        axis.set_xticks([])
        axis.set_yticks([])
    names = list(report["probabilities"])
    values = list(report["probabilities"].values())
    colours = ["tab:red" if n == str(report["class"]) else "tab:blue" for n in names]
    axes[k].barh(range(len(names)), values, color=colours)
    axes[k].set_yticks(range(len(names)), names)
    axes[k].invert_yaxis()
    axes[k].set_xlim(0, 1)
    axes[k].set_xlabel("probability")
    axes[k].set_title(f"predicted {report['prediction']}; explained: {report['class']}")
    title = f"nnkit explain {report['model']}: {Path(report['input']).name}"
    if report.get("caution"):
        title += "\ncaution: unlike the training images — the prediction may mean nothing"
    figure.suptitle(title)
    return figure


def write_explanation_plot(path: str | Path, image, maps: dict, report: dict, env: Environment | None = None) -> None:
    """Draw :func:`explanation_figure` and write it as a PNG, atomically."""
    save_figure(explanation_figure(np.asarray(image), maps, report), path, env)
