"""Concentration measures over the last axis (countries): shares, HHI, top-k share, group shares.

Kinds in = kinds out. A 1-d ``ndarray`` or a ``Series`` (index = country) is one distribution; an
``ndarray`` with leading axes (e.g. ``[scenario, country]``) or a ``DataFrame`` (rows = leading
coordinate, columns = countries) holds one distribution per leading entry. Inputs are quantities
(tonnes, USD) or shares; every measure here is scale-invariant. Negative or non-finite inputs are
rejected. A distribution whose total is 0 has NaN shares.

``exclude`` names entries that count in the total but are not one supplier (the published "Other
countries" row, ``OTH``): they keep their share, but are left out of the HHI sum of squares and of the
top-k ranking. With ``exclude``, the HHI is a lower bound of the true HHI (``OTH`` split into many
small producers); :func:`hhi` with no ``exclude`` treats ``OTH`` as one producer, an upper bound.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from typing import overload

import numpy as np
import pandas as pd

HHI_MAX = 10_000.0


def _check(values: np.ndarray) -> None:
    if not np.isfinite(values).all():
        raise ValueError("quantities must be finite; found NaN or inf (drop or fill missing rows first)")
    if (values < 0).any():
        raise ValueError(f"quantities must be >= 0; found {values[values < 0].min()!r}")


@overload
def shares(x: pd.Series) -> pd.Series: ...
@overload
def shares(x: pd.DataFrame) -> pd.DataFrame: ...
@overload
def shares(x: np.ndarray) -> np.ndarray: ...


def shares(x: np.ndarray | pd.Series | pd.DataFrame) -> np.ndarray | pd.Series | pd.DataFrame:
    """Each entry's fraction of its distribution's total (last axis / Series / DataFrame row)."""
    if isinstance(x, pd.DataFrame):
        _check(x.to_numpy(dtype="float64"))
        total = x.sum(axis=1)
        return x.div(total.where(total > 0), axis=0)
    if isinstance(x, pd.Series):
        _check(x.to_numpy(dtype="float64"))
        grand = float(x.sum())
        return x / grand if grand > 0 else x * np.nan
    arr = np.asarray(x, dtype="float64")
    _check(arr)
    total = arr.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, arr / np.where(total > 0, total, 1.0), np.nan)


def _mask(
    x: np.ndarray | pd.Series | pd.DataFrame, exclude: Collection[Hashable] | np.ndarray | None
) -> np.ndarray:
    """Boolean mask over the last axis: True = excluded from sums of squares and rankings."""
    n = x.shape[-1] if not isinstance(x, pd.Series) else len(x)
    if exclude is None:
        return np.zeros(n, dtype=bool)
    if isinstance(x, pd.Series | pd.DataFrame):
        labels = x.index if isinstance(x, pd.Series) else x.columns
        return np.asarray(labels.isin(list(exclude)), dtype=bool)
    mask = np.asarray(exclude, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"exclude mask has shape {mask.shape}; expected ({n},) over the last axis")
    return mask


@overload
def hhi(x: pd.Series, exclude: Collection[Hashable] | None = None) -> float: ...
@overload
def hhi(x: pd.DataFrame, exclude: Collection[Hashable] | None = None) -> pd.Series: ...
@overload
def hhi(x: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray: ...


def hhi(
    x: np.ndarray | pd.Series | pd.DataFrame, exclude: Collection[Hashable] | np.ndarray | None = None
) -> np.ndarray | pd.Series | float:
    """Herfindahl-Hirschman index on the 0-10,000 scale: ``10,000 * sum_i s_i**2`` over non-excluded i.

    A Series gives a float, a DataFrame a Series (one HHI per row), an ndarray an ndarray without its
    last axis. Zero-total distributions give NaN.
    """
    mask = _mask(x, exclude)
    s = shares(x)
    arr = np.asarray(s, dtype="float64")
    sq = np.where(mask, 0.0, arr**2)
    out = HHI_MAX * sq.sum(axis=-1)
    if arr.shape[-1] == 0:
        out = out * np.nan
    if isinstance(x, pd.Series):
        return float(out)
    if isinstance(x, pd.DataFrame):
        return pd.Series(out, index=x.index, name="hhi")
    return np.asarray(out)


@overload
def top_k_share(x: pd.Series, k: int = 1, exclude: Collection[Hashable] | None = None) -> float: ...
@overload
def top_k_share(x: pd.DataFrame, k: int = 1, exclude: Collection[Hashable] | None = None) -> pd.Series: ...
@overload
def top_k_share(x: np.ndarray, k: int = 1, exclude: np.ndarray | None = None) -> np.ndarray: ...


def top_k_share(
    x: np.ndarray | pd.Series | pd.DataFrame,
    k: int = 1,
    exclude: Collection[Hashable] | np.ndarray | None = None,
) -> np.ndarray | pd.Series | float:
    """Combined share of the ``k`` largest non-excluded entries (``k`` >= 1)."""
    if k < 1:
        raise ValueError(f"k = {k}; expected k >= 1")
    mask = _mask(x, exclude)
    arr = np.asarray(shares(x), dtype="float64")
    ranked = np.sort(np.where(mask, 0.0, arr), axis=-1)[..., ::-1]
    out = ranked[..., :k].sum(axis=-1)
    if arr.shape[-1] == 0:
        out = out * np.nan
    if isinstance(x, pd.Series):
        return float(out)
    if isinstance(x, pd.DataFrame):
        return pd.Series(out, index=x.index, name=f"top{k}_share")
    return np.asarray(out)


def members_of(code: str) -> tuple[str, ...]:
    """Countries a label covers: ``A+B`` (a combined published row) covers A and B."""
    return tuple(str(code).split("+"))


def label_in(code: Hashable, group: Collection[str]) -> bool:
    """A label counts for a group only if every country it covers is a member (``OTH`` never does)."""
    return all(m in group for m in members_of(str(code)))


@overload
def group_shares(x: pd.Series, groups: Mapping[str, Collection[str]]) -> pd.Series: ...
@overload
def group_shares(x: pd.DataFrame, groups: Mapping[str, Collection[str]]) -> pd.DataFrame: ...
@overload
def group_shares(x: np.ndarray, groups: np.ndarray) -> np.ndarray: ...


def group_shares(
    x: np.ndarray | pd.Series | pd.DataFrame, groups: Mapping[str, Collection[str]] | np.ndarray
) -> np.ndarray | pd.Series | pd.DataFrame:
    """Share of each group in each distribution.

    Labelled input takes ``{group: member codes}`` and returns one value per group (a Series, or a
    DataFrame rows x groups). A combined row ``A+B`` counts for a group only when both A and B are
    members, and ``OTH`` counts for none, so a group share is a lower bound when such rows exist.
    ndarray input takes a boolean membership matrix of shape ``(n_countries, n_groups)`` and returns
    ``shares @ membership`` (last axis = groups).
    """
    if isinstance(x, pd.Series | pd.DataFrame):
        if not isinstance(groups, Mapping):
            raise TypeError("labelled input needs groups as a mapping {group: member codes}")
        labels = x.index if isinstance(x, pd.Series) else x.columns
        names = list(groups)
        member = np.array([[label_in(c, groups[g]) for g in names] for c in labels], dtype=float)
        member = member.reshape(len(labels), len(names))
        s = np.nan_to_num(np.asarray(shares(x), dtype="float64"))
        if isinstance(x, pd.Series):
            out = pd.Series(s @ member, index=pd.Index(names, name="group"), name="share")
            return out if float(x.sum()) > 0 else out * np.nan
        res = pd.DataFrame(s @ member, index=x.index, columns=pd.Index(names, name="group"))
        return res.where(x.sum(axis=1) > 0, np.nan)
    membership = np.asarray(groups, dtype=float)
    arr = np.asarray(shares(x), dtype="float64")
    if membership.ndim != 2 or membership.shape[0] != arr.shape[-1]:
        raise ValueError(
            f"membership has shape {membership.shape}; expected ({arr.shape[-1]}, n_groups) for the last axis"
        )
    return np.asarray(arr @ membership)
