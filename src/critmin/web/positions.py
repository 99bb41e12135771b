"""A participant's own positions in the reserves (``GET /api/v1/reserves/{id}/positions``): its
subscriptions with committed and open tonnes, fees, draw rights and repurchase exposure, a sentence that
says what they add up to, and the table as CSV.

The page reads the API with the signed-in account's token, so the API's rule holds unchanged: a participant
sees only its own rows; the operator and the secretariat see every subscriber's.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from critmin.web.apiclient import Me, call, token_of, whoami
from critmin.web.page import Block, Page
from critmin.web.render import block_csv, money, render_page
from critmin.web.reserve import _error_page

READERS = ("participant", "reserve_operator", "secretariat")
COLUMNS = ["reserve_id", "reserve", "participant_id", "subscription_id", "material", "committed_t", "open_t",
           "preset_price_usd_per_t", "upfront_fee_usd", "carry_owed_usd", "outstanding_draws_t",
           "draw_rights_t", "repurchase_exposure_usd", "reference_price_usd_per_t",
           "exposure_at_reference_usd", "gap_to_reference_usd"]  # fmt: skip
Nav = list[tuple[str, str, str]]


def positions_lead(frame: pd.DataFrame, me: Me) -> list[str]:
    """What the positions say, in words: subscriptions, tonnes committed and still open, draw rights,
    repurchase exposure, fees and carry owed, and the gap to the reference price where there is one."""
    whose = "Your" if me.role == "participant" else "All subscribers'"
    if frame.empty:
        return [f"{whose} positions: no subscription in any reserve yet."]
    reserves = frame["reserve_id"].nunique()
    carry = frame.drop_duplicates(["reserve_id", "participant_id"])["carry_owed_usd"].fillna(0).sum()
    lines = [
        f"{whose} {len(frame)} subscription{'s' * (len(frame) != 1)} in {reserves} "
        f"reserve{'s' * (reserves != 1)}: {frame['committed_t'].sum():,.4g} t committed, "
        f"{frame['open_t'].sum():,.4g} t still open, draw rights on {frame['draw_rights_t'].sum():,.4g} t; "
        f"repurchase exposure {money(float(frame['repurchase_exposure_usd'].sum()))} at the preset prices; "
        f"upfront fees {money(float(frame['upfront_fee_usd'].sum()))}, carry owed {money(float(carry))}."
    ]
    priced = frame.dropna(subset=["gap_to_reference_usd"])
    if len(priced):
        gap = float(priced["gap_to_reference_usd"].sum())
        lines.append(
            f"At the reference prices, the open commitments of {', '.join(sorted(set(priced['material'])))} "
            f"are worth {money(gap)} {'more' if gap >= 0 else 'less'} than their preset prices."
        )
    return lines


def positions_page(rows: list[dict[str, Any]], me: Me) -> Page:
    """The page model of the positions the API returned (each row tagged with its reserve)."""
    frame = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=COLUMNS)
    for c in COLUMNS[5:]:
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    title = "Your positions in the reserves" if me.role == "participant" else "Subscribers' positions"
    block = Block(
        "positions",
        "Subscriptions: committed and open tonnes, fees, draw rights and repurchase exposure",
        frame,
        wide=True,
        caption="Open = committed minus bought back; draw rights = open minus draws outstanding; repurchase "
        "exposure = open tonnes at the preset price (from the reserve's operations ledger).",
    )
    return Page(
        name="positions",
        title=title,
        blocks=[block],
        editions={"reserve-ledger": "Reserve operations recorded by this service (critmin.vault rules)"},
        intro=f"Signed in as {me.name} ({me.role.replace('_', ' ')}).",
        template="positions.html",
        context={"lead": positions_lead(frame, me)},
        csv_base="/reserve/positions/download.csv",
    )


async def _page(request: Request, nav: Nav) -> Page | Response:
    token = token_of(request)
    me = await whoami(request, token)
    if token is None or me is None:
        return _error_page(nav, 401, "Sign in (Members) with your participant token to see your positions.")
    if me.role not in READERS:
        return _error_page(nav, 403, f"Signed in as {me.name} ({me.role}): positions are for the reserve's "
                           "participants, the operator and the secretariat.")  # fmt: skip
    r = await call(request, "GET", "/reserves", token)
    if r.status_code != 200:
        return _error_page(nav, r.status_code, f"The service refused the reserves ({r.status_code}).")
    rows: list[dict[str, Any]] = []
    for res in r.json():
        got = await call(request, "GET", f"/reserves/{res['id']}/positions", token)
        if got.status_code != 200:
            return _error_page(nav, got.status_code, f"The service refused reserve {res['id']}'s positions.")
        rows.extend({"reserve_id": res["id"], "reserve": res["name"], **row} for row in got.json())
    return positions_page(rows, me)


def build_positions_router(nav: Nav) -> APIRouter:
    """``/reserve/positions`` (HTML) and ``/reserve/positions/download.csv``."""
    router = APIRouter(include_in_schema=False)

    async def show(request: Request) -> Response:
        page = await _page(request, nav)
        return page if isinstance(page, Response) else HTMLResponse(render_page(page, nav))

    async def download(request: Request, block: str = "positions") -> Response:
        page = await _page(request, nav)
        if isinstance(page, Response):
            return Response("Sign in as a participant to download your positions.\n", page.status_code,
                            media_type="text/plain")  # fmt: skip
        who = page.intro.removeprefix("Signed in as ").split(" (")[0]
        return block_csv(page, block, f"reserve-positions-{who}")

    router.add_api_route("/reserve/positions", show, methods=["GET"])
    router.add_api_route("/reserve/positions/download.csv", download, methods=["GET"])
    return router
