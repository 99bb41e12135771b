"""Reserve (Vault) page: the sizing inputs, the optimised holdings beside the days-of-cover rules
(``critmin.vault.sizing``), and for the reserve operator (or the secretariat) the inventories and their
ledgers from the service API (``/api/v1/reserves``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from critmin.web import figures
from critmin.web.apiclient import call, token_of, whoami
from critmin.web.page import Block, Page, PageError, int_param
from critmin.web.render import environment, render_page

PARAM_KEYS = ("budget", "scenarios", "seed", "horizon", "cvar")
PLAN_COLUMNS = ["material", "tonnes", "cost_usd", "days_of_cover", "expected_shortfall_t",
                "expected_loss_avoided_usd", "expected_loss_with_usd", "carry_usd"]  # fmt: skip
OPERATOR_ROLES = ("reserve_operator", "secretariat")


def inputs_frame(data: Any) -> pd.DataFrame:
    """One row per material of the LP inputs and the rule bases, aligned explicitly on the material."""
    inp = data.inputs
    index = pd.Index(sorted(inp.loss_per_tonne_usd.index), name="material")
    cols = {
        "loss_per_tonne_usd": inp.loss_per_tonne_usd,
        "price_usd_per_t": inp.price_usd_per_t,
        "max_holding_t": inp.max_holding_t,
        "carry_rate_per_year": inp.carry_rate_per_year,
        "net_imports_t_per_year": data.net_imports_t_per_year,
        "consumption_t_per_year": data.consumption_t_per_year,
    }
    frame = pd.DataFrame({k: v.reindex(index) for k, v in cols.items()})
    return frame.reset_index()


def reserve_page(params: Mapping[str, str]) -> Page:
    """Sizing page model (budget USD, Monte Carlo scenarios, seed, horizon months, CVaR ``alpha:weight``)."""
    from pydantic import ValidationError

    from critmin.atlas import load_atlas
    from critmin.optimize.stockpile import CVaRSpec, StockpileConfig
    from critmin.vault.sizing import comparison, default_budget, rule_plans, size_reserve, sizing_inputs

    scenarios = int_param(params, "scenarios", 1000, 50, 20_000)
    seed = int_param(params, "seed", 0, 0, 2**31 - 1)
    horizon = int_param(params, "horizon", 12, 1, 120)
    raw_budget = params.get("budget", "")
    try:
        budget = float(raw_budget) if raw_budget else default_budget()
        spec = CVaRSpec.parse(params["cvar"]) if params.get("cvar") else None
        config = StockpileConfig(budget_usd=budget, cvar=spec)
    except (ValueError, ValidationError) as err:
        first = str(err).splitlines()[0]
        raise PageError(
            f"reserve settings: {first} (budget={raw_budget!r}, cvar={params.get('cvar')!r})", 422
        ) from err
    data = sizing_inputs(load_atlas(), scenarios, seed, horizon_months=horizon)
    plan = size_reserve(data, config)
    notes = [f"Left out (no data): {m} ({why})." for m, why in data.excluded.items()]
    if not plan.solve.ok:
        raise PageError(
            f"the stockpile LP did not solve: {plan.solve.status} / {plan.solve.explanation}", 422
        )
    plans = [plan, *rule_plans(data, config)]
    cmp = comparison(plans)
    cmp_fig = figures.bars(
        cmp, "plan", "loss_avoided_per_dollar", "Expected loss avoided per dollar", "USD/USD"
    )
    held = [p.table[p.table["tonnes"] > 0].assign(plan=p.name) for p in plans]
    holdings = pd.concat(held, ignore_index=True)[["plan", "material", "tonnes", "cost_usd", "days_of_cover"]]
    hold_fig = figures.bars(holdings, "material", "cost_usd", "Holdings by plan (cost)", "USD", group="plan")
    hold_fig["layout"]["barmode"] = "group"
    optimised = plan.table[plan.table["tonnes"] > 0][PLAN_COLUMNS].reset_index(drop=True)
    blocks = [
        Block("comparison", "Optimised plan and the days-of-cover rules", cmp, cmp_fig,
              "Rules: IEA 90 days of net imports, Japan 60 days of consumption, scaled into the budget."),
        Block("holdings", "What each plan holds", holdings, hold_fig),
        Block("optimised", "Optimised holdings (two-stage stochastic LP)", optimised, wide=True),
        Block("inputs", "Sizing inputs per material", inputs_frame(data), wide=True),
    ]  # fmt: skip
    meta = plan.metadata
    return Page(
        name="reserve",
        title="Reserve (Vault): sizing",
        blocks=blocks,
        editions=dict(meta.data_editions),
        params={k: str(params[k]) for k in PARAM_KEYS if params.get(k)},
        intro=f"Budget {config.budget_usd:,.0f} USD; {scenarios:,} Monte Carlo scenarios (seed {seed}), "
        f"{horizon}-month horizon; solver {plan.solve.status}. Parameter set {meta.parameter_digest}.",
        notes=notes,
        template="reserve.html",
        context={
            "form": {
                "budget": f"{config.budget_usd:.6g}",
                "scenarios": scenarios,
                "seed": seed,
                "horizon": horizon,
                "cvar": params.get("cvar", ""),
            }
        },
    )


@lru_cache(maxsize=16)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    return reserve_page(dict(items))


def build_reserve(params: Mapping[str, str]) -> Page:
    """Reserve sizing page (cached per parameter set)."""
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in PARAM_KEYS and v != "")))


LEDGER_COLUMNS = [
    "reserve_id",
    "seq",
    "op",
    "tonnes",
    "balance_after",
    "idempotency_key",
    "actor_id",
    "created_at",
]


async def operations_page(request: Request, token: str) -> Page | tuple[int, str]:
    """Inventories and ledgers through the API, or ``(status, message)`` when the API refuses."""
    r = await call(request, "GET", "/reserves", token)
    if r.status_code != 200:
        detail = (
            r.json().get("detail", "")
            if r.headers.get("content-type", "").startswith("application/json")
            else ""
        )
        return (
            r.status_code,
            f"The reserve operations are for the reserve operator and the secretariat ({detail}).",
        )
    reserves = r.json()
    entries: list[dict[str, Any]] = []
    for res in reserves:
        led = await call(request, "GET", f"/reserves/{res['id']}/ledger", token)
        entries.extend({**e, "reserve_id": res["id"]} for e in led.json())
    inventory = pd.DataFrame(reserves, columns=["id", "name", "material", "tonnes", "version"])
    ledger = pd.DataFrame([{c: e.get(c) for c in LEDGER_COLUMNS} for e in entries], columns=LEDGER_COLUMNS)
    return Page(
        name="reserve-operations",
        title="Reserve (Vault): inventory and ledger",
        blocks=[
            Block("inventory", "Inventories", inventory),
            Block("ledger", "Ledger (every operation, in order)", ledger, wide=True),
        ],
        editions={"reserve-ledger": "Reserve operations recorded by this service (hash-chained audit log)"},
        intro="Acquisitions, draws, replenishments and releases as recorded by the service.",
        csv_base="/reserve/operations/download.csv",
    )


def build_operations_router(nav: list[tuple[str, str, str]]) -> APIRouter:
    """``/reserve/operations`` (HTML) and its CSV downloads, for the operator and the secretariat."""
    router = APIRouter(include_in_schema=False)

    async def _page(request: Request) -> Page | tuple[int, str]:
        token = token_of(request)
        me = await whoami(request, token)
        if token is None or me is None:
            return 401, "Sign in (Members) with a reserve operator or secretariat token."
        if me.role not in OPERATOR_ROLES:
            return 403, f"Signed in as {me.name} ({me.role}): the reserve operations are for the operator."
        return await operations_page(request, token)

    async def show(request: Request) -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            status, message = page
            html = (
                environment()
                .get_template("error.html")
                .render(message=message, status=status, nav=nav, user="")
            )
            return HTMLResponse(html, status_code=status)
        return HTMLResponse(render_page(page, nav))

    async def download(request: Request, block: str = "") -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            return Response(page[1] + "\n", page[0], media_type="text/plain")
        try:
            frame = page.block(block).frame
        except PageError as err:
            return Response(f"{err}\n", err.status, media_type="text/plain")
        return Response(frame.to_csv(index=False, lineterminator="\n"), media_type="text/csv; charset=utf-8")

    router.add_api_route("/reserve/operations", show, methods=["GET"])
    router.add_api_route("/reserve/operations/download.csv", download, methods=["GET"])
    return router
