"""optimize --plot: no marker hides another (Rosenbrock's momentum and Adam end on the minimum's star)."""

import itertools

import numpy as np

from nnkit.course.optimizer_race import SURFACES, descend
from nnkit.plots import style
from nnkit.plots.figures import pyplot
from nnkit.plots.optimizer_race import optimize_figure


def _markers(axis):
    """(label, centre in points, size in points) of every single-point marker drawn on the contours."""
    figure = axis.get_figure(root=True)
    figure.canvas.draw()
    found = []
    for line in axis.get_lines():
        if len(line.get_xdata()) != 1 or line.get_marker() in (None, "None", ""):
            continue
        centre = line.get_transform().transform([line.get_xdata()[0], line.get_ydata()[0]]) * 72 / figure.dpi
        found.append((line.get_label(), line.get_marker(), centre, line.get_markersize()))
    return found


def test_rosenbrock_ends_are_moved_off_the_minimum_and_joined_to_where_they_ended():
    surface = SURFACES["rosenbrock"]
    paths = [descend(surface, name, surface.start) for name in surface.settings]
    ends = {path.optimizer: path.points[-1] for path in paths}
    # the case of the issue: two optimizers end within a marker's width of the minimum
    near = [name for name, end in ends.items() if np.hypot(*(end - surface.minimum)) < 0.05]
    assert {"momentum", "adam"} <= set(near)
    figure = optimize_figure(surface, paths, surface.start, 0.01)
    axis = figure.axes[0]
    markers = _markers(axis)
    assert sum(marker == "X" for _, marker, _, _ in markers) == len(paths)
    for (a, _, pa, sa), (b, _, pb, sb) in itertools.combinations(markers, 2):
        assert np.hypot(*(pa - pb)) >= (sa + sb) / 2, (a, b)  # no marker covers another
    # each moved end has a thin line in its colour from its true end point
    leaders = [text for text in axis.texts if getattr(text, "arrow_patch", None) is not None]
    assert len(leaders) >= len(near)
    leader_points = {tuple(np.round(text.xy, 9)) for text in leaders}
    for name in near:
        assert tuple(np.round(ends[name], 9)) in leader_points
    assert tuple(figure.get_size_inches()) == style.SLIDE
    assert style.overlapping_titles(figure) == [] and style.small_texts(figure) == []
    pyplot().close(figure)


def test_ends_far_apart_stay_where_they_are():
    surface = SURFACES["bowl"]
    paths = [descend(surface, name, surface.start, steps=3) for name in ("sgd", "adagrad")]
    figure = optimize_figure(surface, paths, surface.start, 0.01)
    axis = figure.axes[0]
    ends = [line for line in axis.get_lines() if line.get_marker() == "X"]
    for line, path in zip(ends, paths, strict=True):
        np.testing.assert_allclose([line.get_xdata()[0], line.get_ydata()[0]], path.points[-1])
    assert not [text for text in axis.texts if getattr(text, "arrow_patch", None) is not None]
    pyplot().close(figure)
