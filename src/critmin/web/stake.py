"""Stake page: a member's stake in joining (exports to China at risk, retaliation loss from the engine, levy
paid and received, Vault allocation, net), with every member of the group side by side for the secretariat.
The page only parses, calls :func:`critmin.runs.stake.run` and renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from critmin.web import figures
from critmin.web.page import Block, Page, PageError

PARAM_KEYS = ("member", "group", "levy_rate")


def stake_page(params: Mapping[str, str]) -> Page:
    """The stake page model (member ISO3, group, levy rate as a fraction)."""
    from pydantic import ValidationError

    from critmin.runs.stake import StakeRequest, run

    try:
        given = {"group": params["group"]} if params.get("group") else {}
        req = StakeRequest(
            member=params.get("member") or None, levy_rate=float(params.get("levy_rate") or 0.0), **given
        )
        res = run(req)
    except ValidationError as err:
        raise PageError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in err.errors()), status=422) from err
    except ValueError as err:
        raise PageError(str(err), status=422) from err
    table = res.report.members.sort_values("net_usd").reset_index(drop=True)
    long = table.melt(
        id_vars="iso3",
        value_vars=["export_loss_usd", "retaliation_loss_usd", "levy_paid_usd"],
        var_name="item",
        value_name="usd",
    )
    fig = figures.bars(long, "iso3", "usd", "What each member risks by joining (USD per year)", "USD", "item")
    blocks = []
    intro = (
        f"China's retaliation against {req.group} ({res.report.scenario}) run through the disruption engine; "
        f"levy {req.levy_rate:.0%} on imports from China; BACI {res.report.year}. "
        "Net = levy received - levy paid + Vault allocation - exports lost to China - retaliation loss."
    )
    if res.member is not None:
        m = res.member
        row = {k: v for k, v in m.items() if k not in ("iso3", "exports_at_risk")}
        detail = pd.DataFrame({"quantity": list(row), "usd": list(row.values())})
        verdict = "gains" if m["net_usd"] > 0 else "loses"
        intro = f"{m['iso3']} {verdict} {abs(m['net_usd']):,.0f} USD a year net by joining. " + intro
        blocks.append(Block("member", f"{m['iso3']}'s stake", detail))
        codes = pd.DataFrame(m["exports_at_risk"], columns=["hs6", "material", "stage", "value_usd"])
        blocks.append(Block("codes", f"{m['iso3']}'s exports to China by HS6 code (USD)", codes))
    blocks.append(Block("risk", "Risk by member", long, fig, wide=True))
    blocks.append(Block("members", "All members side by side (USD per year)", table, wide=True))
    blocks.append(Block("incidence", "Levy incidence by member (USD per year)", res.report.levy_incidence))
    return Page(
        name="stake",
        title=f"Stake in joining: {res.member['iso3'] if res.member else req.group}",
        blocks=blocks,
        editions=dict(res.metadata.data_editions),
        params={k: str(params[k]) for k in PARAM_KEYS if params.get(k)},
        intro=intro,
        notes=["Methods: docs/methods/mechanisms.md (members' stake)."],
        template="stake.html",
        context={"form": {"member": req.member or "", "group": req.group, "levy_rate": req.levy_rate}},
    )


@lru_cache(maxsize=32)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    return stake_page(dict(items))


def build_stake(params: Mapping[str, str]) -> Page:
    """Stake page (cached per parameter set)."""
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in PARAM_KEYS and v != "")))
