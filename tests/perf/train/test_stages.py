"""Layer placement: unequal stages, embedding and head on the ends, the slowest device sets the pace."""

from __future__ import annotations

import numpy as np

from scalelab.perf.train.stages import FIRST, LAST, MID, place_layers


def _place(L, pp, t_head, dual=False, t_emb=0.0):
    return place_layers(
        L, np.array([pp]), np.array([dual]), np.array([1.0]), np.array([t_emb]), np.array([t_head])
    )


def test_llama3_layout_one_fewer_layer_on_the_ends():
    # 126 layers on 16 stages with a head worth ~0.7 layer: 14 x 8 + 7 + 7 (Llama 3 paper Sec 3.3.2)
    pl = _place(126, 16, 0.7)
    assert pl.held_layers[0, MID] == 8
    assert pl.held_layers[0, FIRST] + pl.held_layers[0, LAST] == 14
    assert pl.layers[0] == 8  # the slowest device runs 8 layers


def test_even_split_when_divisible():
    pl = _place(96, 16, 0.5)
    assert list(pl.held_layers[0]) == [6, 6, 6]
    assert pl.layers[0] == 6 and pl.head_share[0] == 1.0  # last stage: 6 layers + head


def test_heavy_head_moves_layers_off_the_last_stage():
    pl = _place(61, 16, 3.0)
    assert pl.held_layers[0, LAST] <= 2
    assert pl.held_layers[0, FIRST] + 14 * pl.held_layers[0, MID] + pl.held_layers[0, LAST] >= 61


def test_dualpipe_end_rank_averages_first_and_last_stage():
    pl = _place(61, 16, 3.75, dual=True)
    # middle ranks hold two stages of 4; the end rank holds 61 - 14 x 4 = 5 layers, embedding and head
    assert pl.held_layers[0, MID] == 8
    assert pl.held_layers[0, FIRST] == 5
    assert pl.embed_share[0] == 0.5 and pl.head_share[0] == 0.5 and pl.layers[0] == 2.5


def test_single_stage_holds_everything():
    pl = _place(24, 1, 2.0)
    assert pl.layers[0] == 24 and pl.embed_share[0] == 1 and pl.head_share[0] == 1
