"""The chunk contract: merging chunk summaries in any order or grouping gives the summary of all the
scenarios at once, and the streamed tables equal the ones computed on the full per-scenario arrays."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.disruption import perspective as persp
from critmin.disruption.chunks import (
    PEAK_BINS,
    ChunkSummary,
    PairResults,
    merge,
    merge_all,
    reduce_pairs,
    stream_tree,
    tail_size,
    top,
    top_groups,
    tree_levels,
)
from critmin.disruption.inputs import build_inputs
from critmin.disruption.kernel import LOSS_PARTS
from critmin.disruption.montecarlo import (
    _propagate_chunk,
    _reduction,
    _spec,
    build_candidates,
    run_monte_carlo,
    summarise_chunk,
)
from critmin.disruption.risk_table import VAR_LEVEL, material_table, summarise, tables_from_summary

SIZES = (37, 80, 5, 120, 58)  # uneven chunks, one smaller than the tail


def _setup(chain: SupplyChain, perspective: list[str] | None, n_sets: int = 6):  # type: ignore[no-untyped-def]
    inp = build_inputs(chain)
    cands = build_candidates(inp, chain.wgi)
    u = np.random.default_rng(7).random((n_sets, len(_spec(inp, cands, 12, np.zeros((1, 1))).ranges.names)))
    spec = _spec(inp, cands, 12, u)
    A = persp.outside_shares(inp.consumption_share, inp.countries, cands.country)
    red = _reduction(inp, spec, A, perspective, sum(SIZES), n_sets)
    return inp, dataclasses.replace(spec, reduction=red), red


def _pairs(spec, sizes):  # type: ignore[no-untyped-def]
    """Pair results of each chunk, and of all chunks concatenated (scenario indices offset)."""
    seeds = np.random.SeedSequence(5).spawn(len(sizes))
    chunks, offset, parts = [], 0, []
    for n, s in zip(sizes, seeds, strict=True):
        d, sets, s_idx, m_idx, _, out = _propagate_chunk(spec, n, s, False)
        p = PairResults(
            n, s_idx, m_idx, d.chosen[s_idx, m_idx], out.loss_usd[0],
            np.stack([getattr(out, k)[0] for k in LOSS_PARTS]), out.shortfall_total_t[0],
            out.max_price_outside[0], sets,
        )  # fmt: skip
        chunks.append(p)
        parts.append(dataclasses.replace(p, s_idx=p.s_idx + offset))
        offset += n
    cat = PairResults(
        n=offset,
        **{
            f: np.concatenate([getattr(p, f) for p in parts], axis=-1)
            for f in ("s_idx", "m_idx", "k_idx", "loss", "parts", "shortfall", "peak")
        },
        sets=np.concatenate([p.sets for p in parts]),
    )
    return chunks, cat


def _assert_same(a: ChunkSummary, b: ChunkSummary) -> None:
    assert a.n == b.n and a.tail_k == b.tail_k
    for f in dataclasses.fields(ChunkSummary):
        x, y = getattr(a, f.name), getattr(b, f.name)
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=0, err_msg=f.name)


@pytest.mark.parametrize("who", [None, ["USA", "JPN"]])
def test_merge_in_any_order_and_grouping_is_the_summary_of_all_scenarios(
    chain: SupplyChain, who: list[str] | None
) -> None:
    _, spec, red = _setup(chain, who)
    chunks, cat = _pairs(spec, SIZES)
    whole = reduce_pairs(red, cat)
    assert whole.tail_material.shape[1] == tail_size(sum(SIZES), VAR_LEVEL) == 16
    assert (np.diff(whole.tail_material, axis=1) <= 0).all()  # descending
    assert whole.disrupted.sum() > 50 and whole.loss.sum() > 0  # real work in the fixture
    parts = [reduce_pairs(red, p) for p in chunks]
    _assert_same(merge_all(parts), whole)
    _assert_same(merge_all(parts[::-1]), whole)
    _assert_same(stream_tree(parts, merge), whole)
    rng = random.Random(3)
    for _ in range(5):  # random binary trees over a shuffled order
        pool = parts[:]
        rng.shuffle(pool)
        while len(pool) > 1:
            i = rng.randrange(len(pool) - 1)
            pool[i : i + 2] = [merge(pool[i], pool[i + 1])]
        _assert_same(pool[0], whole)
    # commutative bit for bit: the float sums are added in the same pairs
    ab, ba = merge(parts[0], parts[1]), merge(parts[1], parts[0])
    np.testing.assert_array_equal(ab.loss, ba.loss)


def test_streaming_tree_and_level_tree_group_alike() -> None:
    for n in range(1, 40):
        leaves = [str(i) for i in range(n)]
        assert stream_tree(leaves, lambda a, b: f"({a}+{b})") == tree_levels(
            leaves, lambda a, b: f"({a}+{b})"
        )
    with pytest.raises(ValueError, match="nothing"):
        stream_tree([], merge)


def test_merging_summaries_of_different_runs_is_refused(chain: SupplyChain) -> None:
    _, spec, red = _setup(chain, None)
    p = _pairs(spec, (30,))[0][0]
    a = reduce_pairs(red, p)
    with pytest.raises(ValueError, match="tail_k"):
        merge(a, reduce_pairs(dataclasses.replace(red, tail_k=3), p))


def test_streamed_tables_equal_the_full_array_definitions(chain: SupplyChain) -> None:
    """VaR/CVaR from the merged tails, expected losses, parts, bands: as computed on the full arrays by the
    existing definitions (risk_table.material_table, summarise, perspective.split/per_member)."""
    n, sets = 700, 8
    for who in (None, "USA"):
        r = run_monte_carlo(chain, n, seed=13, chunk_size=96, param_draws=sets, perspective=who,
                            keep_scenarios=True)  # fmt: skip
        inp = build_inputs(chain)
        chosen, A = r.extra["chosen"], r.extra["outside_shares"]
        loss, parts, short = r.loss_usd, r.extra["loss_parts_usd"], r.shortfall_total_t
        if who is not None:
            w = persp.weights(A, inp.countries, [who])
            loss, short = persp.split(loss, chosen, w), persp.split(short, chosen, w)
            parts = {k: persp.split(v, chosen, w) for k, v in parts.items()}
        full, excl = material_table(
            inp, loss, parts, [chosen >= 0, short, r.max_price_outside], r.extra["param_set"], sets
        )
        got = r.summary.set_index("material")
        full = full.set_index("material").loc[got.index]
        exact = ["expected_loss_usd", "var_usd", "cvar_usd", "expected_loss_p5_usd", "expected_loss_p95_usd",
                 "p_disrupted", "expected_shortfall_t", *(f"expected_{k}" for k in LOSS_PARTS)]  # fmt: skip
        for col in exact:
            np.testing.assert_allclose(got[col], full[col], rtol=1e-9, atol=1e-6, err_msg=col)
        assert list(got["rank"]) == list(full["rank"])
        # VaR is the order statistic np.quantile calls 'higher' at q = 0.95 for this n; CVaR its tail mean
        for i, mat in enumerate(got.index):
            col = np.nan_to_num(loss[:, inp.materials.index(mat)])
            assert got["var_usd"].iloc[i] == pytest.approx(np.quantile(col, 0.95, method="higher"), rel=1e-12)
            assert got["cvar_usd"].iloc[i] == pytest.approx(np.sort(col)[-math.ceil(0.05 * n) :].mean())
        # peak prices from the histogram: within half a bin of ln(cap)
        bound = np.log(inp.kernel.cap).max() / (2 * PEAK_BINS)
        for q in ("peak_price_p5", "peak_price_p50", "peak_price_p95"):
            np.testing.assert_allclose(np.log(got[q]), np.log(full[q]), atol=bound + 1e-12, err_msg=q)
        assert list(r.excluded["material"]) == list(excl["material"])
    world_members = persp.per_member(np.nan_to_num(r.loss_usd), chosen, A, inp.countries, inp.members)
    want = summarise(inp.members, world_members, "member").set_index("member")
    got_m = r.member_summary.set_index("member").loc[want.index]
    for col in ("expected_loss_usd", "var_usd", "cvar_usd"):
        np.testing.assert_allclose(got_m[col], want[col], rtol=1e-9, atol=1e-6, err_msg=col)
    total = np.nan_to_num(loss).sum(axis=1)
    k = math.ceil(0.05 * n)
    assert r.totals["cvar_usd"] == pytest.approx(np.sort(total)[-k:].mean(), rel=1e-9)
    assert r.totals["expected_loss_usd"] == pytest.approx(total.mean(), rel=1e-9)


def test_without_keep_scenarios_the_client_holds_only_the_tails(chain: SupplyChain) -> None:
    r = run_monte_carlo(chain, 2000, seed=2, chunk_size=300)
    assert r.loss_usd is None and r.restrictor is None and r.shortfall_t is None
    k = tail_size(2000, VAR_LEVEL)
    assert r.reduced.n == 2000 and r.reduced.tail_material.shape == (len(r.materials), k)
    assert r.reduced.tail_member.shape == (len(r.members), k) and r.reduced.tail_total.shape == (1, k)
    with pytest.raises(ValueError, match="keep_scenarios"):
        r.restrictor_iso3()
    kept = run_monte_carlo(chain, 2000, seed=2, chunk_size=300, keep_scenarios=True)
    np.testing.assert_array_equal(kept.summary["cvar_usd"], r.summary["cvar_usd"])
    assert kept.restrictor is not None and kept.restrictor.dtype == np.int32


def test_summarise_chunk_needs_a_reduction(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    spec = _spec(inp, build_candidates(inp, chain.wgi), 12)
    with pytest.raises(ValueError, match="reduction"):
        summarise_chunk(spec, 10, np.random.SeedSequence(1))
    assert tables_from_summary is not None


def test_top_groups_equals_top_of_the_dense_array() -> None:
    """The tails of a chunk's pairs equal those of the dense ``[n, M]`` array (zeros where no pair),
    including negative values (below the implied zeros), explicit zeros and fewer rows than ``k``."""
    rng = np.random.default_rng(4)
    for n, G, k, share in ((50, 3, 7, 0.3), (6, 2, 10, 0.5), (40, 4, 40, 0.9), (30, 2, 5, 0.0)):
        dense = np.zeros((n, G))
        mask = rng.random((n, G)) < share
        dense[mask] = rng.choice([-2.0, -0.5, 0.0, 1.0, 3.0], size=int(mask.sum())) * rng.random(
            int(mask.sum())
        )
        s, m = np.nonzero(mask)
        got = top_groups(dense[s, m], m.astype(np.int64), G, n, k)
        np.testing.assert_array_equal(got, top(dense, k))
        assert got.shape == (G, min(n, k))
    assert (dense == 0).all()  # the last case has no pairs: all-zero tails


def test_tail_material_is_the_dense_tail_on_both_branches() -> None:
    from critmin.disruption.chunks import _tail_material

    rng = np.random.default_rng(9)
    n, M = 60, 3
    dense = np.zeros((n, M))
    mask = rng.random((n, M)) < 0.4
    dense[mask] = rng.random(int(mask.sum()))
    s, m = np.nonzero(mask)
    for k in (10, 60, 200):  # a partition (n > k), then the whole chunk sorted
        np.testing.assert_array_equal(_tail_material(dense[s, m], s, m, (n, M), k), top(dense, k))
