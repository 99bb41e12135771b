"""Published reference prices: the secretariat publishes a reviewed assessment; members see the releases.

The secretariat reviews an assessment of the members' submitted deals on its job page and publishes it
(``POST /api/v1/price-releases``). Every signed-in account sees ``/prices/published``: the latest release
with its date, specification, band, liquidity and the change since the previous release, the methodology,
and the older releases; before the first release the page says so in words.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmin.web.apiclient import call, token_of, whoami
from critmin.web.page import Block, Page
from critmin.web.render import block_csv, environment, render_page
from critmin.web.security import checked_form

KEY = ["material", "stage", "specification", "incoterm"]
COLUMNS = {
    "material": "Material",
    "stage": "Stage",
    "specification": "Specification",
    "incoterm": "Delivery (incoterm)",
    "status": "Status",
    "price_usd_per_kg": "Price (USD/kg)",
    "band_low_usd_per_kg": "Band low, P25 (USD/kg)",
    "band_high_usd_per_kg": "Band high, P75 (USD/kg)",
    "change_pct": "Change since last release (%)",
    "liquidity": "Liquidity",
    "reporters": "Reporters",
    "count": "Deals",
    "volume_t": "Volume (t)",
}


def release_frame(release: dict[str, Any], previous: dict[str, Any] | None) -> pd.DataFrame:
    """The prices of ``release`` in USD/kg with the change (%) against the same key in ``previous``."""
    cols = [*KEY, "status", "price_usd_per_t", "band_low_usd_per_t", "band_high_usd_per_t", "liquidity",
            "reporters", "count", "volume_t"]  # fmt: skip
    frame = pd.DataFrame(release["prices"]).reindex(columns=cols)
    for col in ("price", "band_low", "band_high"):
        frame[f"{col}_usd_per_kg"] = (frame[f"{col}_usd_per_t"] / 1000.0).round(3)
    frame["change_pct"] = float("nan")
    if previous is not None:
        old = pd.DataFrame(previous["prices"]).reindex(columns=[*KEY, "status", "price_usd_per_t"])
        prev = old[old["status"] == "published"].set_index(KEY)["price_usd_per_t"]
        keys = pd.MultiIndex.from_frame(frame[KEY])
        before = prev.reindex(keys).to_numpy(dtype=float)
        frame["change_pct"] = ((frame["price_usd_per_t"].to_numpy(dtype=float) / before - 1.0) * 100).round(1)
    return frame[list(COLUMNS)].rename(columns=COLUMNS)


def published_page(releases: list[dict[str, Any]]) -> Page:
    """The members' page of published reference prices (newest release first)."""
    blocks: list[Block] = []
    if not releases:
        intro = ("No reference prices have been published yet. The secretariat publishes them after it has "
                 "reviewed an assessment of the members' reported deals; they will appear here.")  # fmt: skip
    else:
        latest = releases[0]
        frame = release_frame(latest, releases[1] if len(releases) > 1 else None)
        shown = frame[frame["Status"] == "published"]
        withheld = len(frame) - len(shown)
        intro = (f"Release {latest['id']} of {latest['as_of']} ({latest['window_days']}-day window), "
                 f"published {latest['created_at'][:10]}: {len(shown)} reference price(s)"
                 + (f"; {withheld} key(s) withheld (too few reporters, or one reporter above the allowed "
                    "share of volume)" if withheld else "") + ".")  # fmt: skip
        blocks.append(Block("latest", f"Reference prices as of {latest['as_of']}", frame, wide=True,
                            caption="Band: volume-weighted 25th-75th percentile of the deals kept. Change: "
                            "against the same key in the previous release (blank if new)."))  # fmt: skip
        history = pd.DataFrame(
            [{"Release": r["id"], "As of": r["as_of"], "Window (days)": r["window_days"],
              "Published": r["created_at"][:10], "Prices": sum(p.get("status") == "published"
                                                               for p in r["prices"])} for r in releases]
        )  # fmt: skip
        blocks.append(Block("releases", "Every release", history))
    return Page(
        name="prices-published",
        title="Published reference prices",
        blocks=blocks,
        editions={"price-releases": "Reference prices published by the secretariat from the members' deals"},
        intro=intro,
        template="published.html",
        csv_base="/prices/published/download.csv",
    )


def build_published_router(nav: list[tuple[str, str, str]]) -> APIRouter:
    """``/prices/published`` (signed-in accounts), its CSVs, and the secretariat's publish action."""
    router = APIRouter(include_in_schema=False)

    def error(message: str, status: int) -> HTMLResponse:
        html = environment().get_template("error.html").render(message=message, status=status, nav=nav)
        return HTMLResponse(html, status_code=status)

    async def _page(request: Request) -> Page | tuple[int, str]:
        token = token_of(request)
        if await whoami(request, token) is None:
            return 401, "Sign in (Members) to see the published reference prices."
        r = await call(request, "GET", "/price-releases", token)
        if r.status_code != 200:
            return r.status_code, f"The service refused the releases ({r.status_code})."
        return published_page(r.json())

    async def show(request: Request) -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            return error(page[1], page[0])
        return HTMLResponse(render_page(page, nav))

    async def download(request: Request, block: str = "") -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            return Response(page[1] + "\n", page[0], media_type="text/plain")
        return block_csv(page, block, f"reference-prices-{block}")

    async def publish(request: Request) -> Response:
        form = await checked_form(request)
        r = await call(
            request, "POST", "/price-releases", token_of(request), json={"job_id": form.get("job_id")}
        )
        if r.status_code != 201:
            detail = (
                r.json().get("detail")
                if r.headers.get("content-type", "").startswith("application/json")
                else ""
            )
            return error(f"Not published ({r.status_code}): {detail}", r.status_code)
        return RedirectResponse("/prices/published", status_code=303)

    def methodology() -> HTMLResponse:
        """The assessment steps, from the methodology's own module (``critmin.pricing.reference_price``)."""
        import critmin.pricing.reference_price as method

        html = environment().get_template("methodology.html").render(nav=nav, text=method.__doc__ or "")
        return HTMLResponse(html)

    router.add_api_route("/prices/methodology", methodology, methods=["GET"])
    router.add_api_route("/prices/published", show, methods=["GET"])
    router.add_api_route("/prices/published/download.csv", download, methods=["GET"])
    router.add_api_route("/prices/publish", publish, methods=["POST"])
    return router
