"""SVG snapshots of the Graph screen at 120x40 and 80x24: fixed seeds, no timers."""

from __future__ import annotations

import pytest

from tests.support.pilot import make_app

SIZES = [(120, 40), (80, 24)]


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_neuron_mid_backward(snap_compare, size) -> None:
    # Forward done, the output's grad set, then three of backward()'s visits.
    keys = ["v", "end", "end", "home", "right", "right", "right"]
    assert snap_compare(make_app(), terminal_size=size, press=keys)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_model_graph_collapsed(snap_compare, size) -> None:
    # Forward done, then backward through the output neuron into layer 2.
    keys = ["v", "m", "end", "end", "home", *["right"] * 6]
    assert snap_compare(make_app(), terminal_size=size, press=keys)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_reuse_with_overwrite_grad_mid_backward(snap_compare, size) -> None:
    # b = a + a: backward()'s one visit writes a.grad twice, and '=' keeps only the last.
    async def run_before(pilot) -> None:
        await pilot.press("v", "x", "x")
        screen = pilot.app.screen
        screen.state.bugs = {"overwrite-grad"}  # as key 1 does, without its toast
        screen._load(keep_position=False)
        await pilot.press("end", "end")

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
