"""Reserve (Vault) page: the sizing inputs, the optimised holdings beside the days-of-cover rules
(``critmin.vault.sizing``), and for the reserve operator (or the secretariat) the inventories and their
ledgers from the service API (``/api/v1/reserves``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmin.web import figures
from critmin.web.apiclient import call, token_of, whoami
from critmin.web.page import Block, Page, PageError, int_param
from critmin.web.render import block_csv, environment, render_page
from critmin.web.security import checked_form

PARAM_KEYS = ("budget", "scenarios", "seed", "horizon", "cvar")


OPERATOR_ROLES = ("reserve_operator", "secretariat")


def _request(params: Mapping[str, str]) -> Any:
    from pydantic import ValidationError

    from critmin.optimize.stockpile import CVaRSpec
    from critmin.options import options
    from critmin.runs.reserve import ReserveSizingRequest

    bound = options().reserve
    raw_budget = params.get("budget", "")
    try:
        spec = CVaRSpec.parse(params["cvar"]) if params.get("cvar") else None
        return ReserveSizingRequest(
            budget_usd=float(raw_budget) if raw_budget else None,
            n_scenarios=int_param(params, "scenarios", bound.scenarios.default, 50, 20_000),
            seed=int_param(params, "seed", 0, 0, 2**31 - 1),
            horizon_months=int_param(
                params, "horizon", bound.horizon_months.default, 1, bound.horizon_months.max
            ),
            cvar_alpha=None if spec is None else spec.alpha,
            cvar_weight=None if spec is None else spec.weight,
        )
    except (ValueError, ValidationError) as err:
        first = str(err).splitlines()[0]
        raise PageError(
            f"reserve settings: {first} (budget={raw_budget!r}, cvar={params.get('cvar')!r})", 422
        ) from err


FINANCE_SCENARIOS = 500


def finance_request(sizing: Mapping[str, Any]) -> Any:
    """The ``reserve_finance`` request for a finished sizing (``ReserveSizingResult.to_dict()``): the plan's
    spend per material as the book, :data:`FINANCE_SCENARIOS` scenarios, the sizing's seed; None when the
    plan holds nothing."""
    from critmin.runs.reserve_finance import ReserveFinanceRequest

    spent = {str(r["material"]): float(r["cost_usd"]) for r in sizing["materials"] if r["cost_usd"] > 0}
    if not spent:
        return None
    return ReserveFinanceRequest(holdings_usd=spent, n_scenarios=FINANCE_SCENARIOS, seed=int(sizing["seed"]))


def _finance_block(finance: Mapping[str, Any]) -> Block:
    """The Vault's finances for the plan's holdings (the ``reserve_finance`` result), by year with bands."""
    by_year = pd.DataFrame(finance["by_year"])
    bands = pd.concat(
        [
            pd.DataFrame(
                {"year": by_year["year"], "equity_usd_bn": by_year[f"equity_{q}_usd"] / 1e9, "band": q}
            )
            for q in ("p5", "p50", "p95")
        ],
        ignore_index=True,
    )
    fig = figures.lines(bands, "year", "equity_usd_bn", "band", "Equity by year (P5, P50, P95)", "USD bn")
    n = int((finance.get("request") or {}).get("n_scenarios", FINANCE_SCENARIOS))
    return Block(
        "finances",
        "The Vault's finances over the loan term",
        by_year,
        fig,
        f"Cash and equity by year across {n:,} scenarios of prices and disruptions; debt after each year's "
        "repayment; p_missed = share of scenarios whose cash cannot pay that year's debt service.",
        wide=True,
    )


def sizing_page(
    sizing: Mapping[str, Any], finance: Mapping[str, Any] | None, params: Mapping[str, str] | None = None
) -> Page:
    """The reserve page model of a finished ``stockpile`` job (its ``ReserveSizingResult.to_dict()``) and,
    once it has finished, the ``reserve_finance`` result of the plan's holdings (None: not finished, or the
    plan holds nothing). Blocks: the plans beside the rules, the holdings, why this much, the finances."""
    if sizing["solve"]["status"] != "Optimal":
        raise PageError(f"the reserve LP did not solve: {sizing['solve']['status']}", 422)
    cmp = pd.DataFrame(sizing["comparison"])
    net = cmp.assign(
        net_benefit_usd_bn=cmp["net_benefit_usd"] / 1e9, plan=[PLAN_NAMES.get(p, p) for p in cmp["plan"]]
    )
    cmp_fig = figures.bars(net, "plan", "net_benefit_usd_bn",
                           "Net benefit: expected loss avoided minus carrying cost", "USD bn")  # fmt: skip
    why = pd.DataFrame(sizing["materials"]).sort_values("marginal_loss_avoided_per_usd", ascending=False)
    optimised = why[why["tonnes"] > 0].reset_index(drop=True)
    blocks = [
        Block("comparison", "Optimised plan and the rules", cmp, cmp_fig,
              "Rules: IEA 90 days of net imports, Japan 60 days of consumption, an NDS-style shortfall rule, "
              "each scaled into the budget and valued on the same scenarios."),
        Block("optimised", "Optimised holdings", optimised, wide=True),
        Block("why", "Why this much: loss avoided by the next dollar held vs its carrying cost",
              why.reset_index(drop=True), wide=True),
    ]  # fmt: skip
    lead = [str(sizing["headline"]), *reserve_lead(cmp)]
    if optimised.empty:
        lead.append("The plan holds nothing, so there are no finances to show.")
    elif finance is not None:
        blocks.append(_finance_block(finance))
        lead.append(str(finance["headline"]))
    req = sizing["request"]
    return Page(
        name="reserve",
        title="Reserve (Vault): sizing and finances",
        blocks=blocks,
        editions=dict(sizing["data_editions"]),
        params=dict(params or {}),
        intro=f"Budget {sizing['budget_usd']:,.0f} USD; {sizing['scenarios']:,} Monte Carlo scenarios "
        f"(seed {sizing['seed']}), {sizing['horizon_months']}-month horizon. "
        f"Parameter set {sizing['parameter_digest']}.",
        notes=[f"Left out (no data): {m} ({why})." for m, why in sizing["excluded_materials"].items()],
        template="reserve.html",
        context={"lead": lead, "form": form_values(req)},
    )


def form_values(req: Mapping[str, Any]) -> dict[str, Any]:
    """The sizing form's values from a request (a ``ReserveSizingRequest`` dump); the default budget when
    the request names none (never 1.167e+10 in the budget box)."""
    from critmin.parameters import ParameterSet
    from critmin.vault.sizing import default_budget

    budget = req.get("budget_usd")
    budget = default_budget(ParameterSet()) if budget is None else float(budget)
    cvar = f"{req['cvar_alpha']}:{req['cvar_weight']}" if req.get("cvar_alpha") is not None else ""
    return {"budget": f"{budget:.0f}", "scenarios": req.get("n_scenarios"), "seed": req.get("seed"),
            "horizon": req.get("horizon_months"), "cvar": cvar}  # fmt: skip


PLAN_NAMES = {
    "optimised": "Optimised (stochastic LP)",
    "iea-90-days-net-imports": "IEA rule: 90 days of net imports",
    "japan-60-days-consumption": "Japan rule: 60 days of consumption",
    "nds-style-p95-episode-gap": "NDS-style rule: the 95th-percentile episode gap",
}


def reserve_lead(cmp: pd.DataFrame) -> list[str]:
    """Each plan's spend, carry, expected loss avoided and net benefit, in words."""
    from critmin.web.render import money

    return [
        f"{PLAN_NAMES.get(r['plan'], r['plan'])}: spends {money(r['cost_usd'])} plus {money(r['carry_usd'])} "
        f"carry, avoids an expected {money(r['expected_loss_avoided_usd'])} of loss; net benefit "
        f"{money(r['net_benefit_usd'])}."
        for _, r in cmp.iterrows()
    ]


LEDGER_COLUMNS = ["reserve_id", "sequence", "on", "op", "key", "effects", "duplicate", "state_digest"]
STATE_TABLES: dict[str, list[str]] = {
    "participants": ["reserve_id", "id", "kind", "name"],
    "subscriptions": ["reserve_id", "id", "participant_id", "material", "quantity_t", "bought_back_t",
                      "preset_price_usd_per_t", "upfront_fee_usd", "carry_accrued_to"],
    "draws": ["reserve_id", "id", "subscription_id", "participant_id", "material", "tonnes", "replenished_t",
              "drawn_on", "due", "emergency", "overdue"],
}  # fmt: skip
INVENTORY_COLUMNS = ["reserve_id", "material", "tonnes", "cost_of_stock_usd"]
RESERVE_COLUMNS = ["reserve_id", "name", "opened", "as_of", "cash_usd", "fees_collected_usd", "sequence"]


def state_frames(reserves: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """The reserves' states (``ReserveState`` as the API returns it) as tables: reserves, participants,
    subscriptions, inventory (with cost of stock) and draws, each row tagged with its reserve id."""
    rows: dict[str, list[dict[str, Any]]] = {"reserves": [], "inventory": [], **{k: [] for k in STATE_TABLES}}
    for res in reserves:
        state = res.get("state") or {}
        rid = res["id"]
        rows["reserves"].append(
            {"reserve_id": rid, "name": res["name"]} | {k: state.get(k) for k in RESERVE_COLUMNS[2:]}
        )
        for table in STATE_TABLES:
            rows[table].extend({"reserve_id": rid, **item} for item in (state.get(table) or {}).values())
        cost = state.get("cost_of_stock_usd") or {}
        for material, tonnes in (state.get("inventory_t") or {}).items():
            rows["inventory"].append(
                {
                    "reserve_id": rid,
                    "material": material,
                    "tonnes": tonnes,
                    "cost_of_stock_usd": cost.get(material),
                }
            )
    columns = {"reserves": RESERVE_COLUMNS, "inventory": INVENTORY_COLUMNS, **STATE_TABLES}
    return {
        k: pd.DataFrame([{c: r.get(c) for c in columns[k]} for r in v], columns=columns[k])
        for k, v in rows.items()
    }


def ledger_frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Ledger entries (the vault library's records) as a table; effects as JSON text."""
    import json

    rows = [
        {
            "reserve_id": e["reserve_id"],
            "sequence": e.get("sequence"),
            "on": e.get("on"),
            "op": (e.get("operation") or {}).get("op"),
            "key": e.get("key"),
            "effects": json.dumps(e.get("effects") or {}, sort_keys=True),
            "duplicate": e.get("duplicate"),
            "state_digest": e.get("state_digest"),
        }
        for e in entries
    ]
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


async def operations_page(request: Request, token: str) -> Page | tuple[int, str]:
    """Reserves' participants, subscriptions, inventory, draws and ledgers through the API, or
    ``(status, message)`` when the API refuses."""
    r = await call(request, "GET", "/reserves", token)
    if r.status_code != 200:
        return r.status_code, "The reserve operations are for the reserve operator and the secretariat."
    reserves = r.json()
    entries: list[dict[str, Any]] = []
    for res in reserves:
        led = await call(request, "GET", f"/reserves/{res['id']}/ledger", token)
        if led.status_code == 200:
            entries.extend({**e, "reserve_id": res["id"]} for e in led.json())
    frames = state_frames(reserves)
    titles = {
        "reserves": "Reserves",
        "participants": "Participants (manufacturers and traders)",
        "subscriptions": "Subscriptions",
        "inventory": "Inventory",
        "draws": "Draws and emergency allocations",
    }
    blocks = [Block(k, titles[k], frames[k], wide=k in ("subscriptions", "draws")) for k in titles]
    blocks.append(Block("ledger", "Ledger (every operation, in order)", ledger_frame(entries), wide=True))
    return Page(
        name="reserve-operations",
        title="Reserve (Vault): participants, subscriptions, inventory and ledger",
        blocks=blocks,
        editions={"reserve-ledger": "Reserve operations recorded by this service (critmin.vault rules)"},
        intro="The state the service holds for each reserve and every operation applied to it.",
        csv_base="/reserve/operations/download.csv",
    )


def _ops_context(page: Page, reserves: list[dict[str, Any]], **extra: Any) -> Page:
    """The operations page with its forms (one per vault operation) and any message or kept values."""
    import secrets

    from critmin.web.operations import operation_forms

    context = {"forms": operation_forms(), "reserves": reserves, "op_key": secrets.token_hex(8),
               "values": {}, "op_error": None, "done": ""} | extra  # fmt: skip
    return replace(page, template="reserve_ops.html", context={**page.context, **context})


def _error_page(nav: list[tuple[str, str, str]], status: int, message: str) -> HTMLResponse:
    template = environment().get_template("error.html")
    return HTMLResponse(template.render(message=message, status=status, nav=nav, user=""), status_code=status)


def build_operations_router(nav: list[tuple[str, str, str]]) -> APIRouter:
    """``/reserve/operations`` (HTML, forms) and its CSV downloads, for the operator and the secretariat."""
    router = APIRouter(include_in_schema=False)

    async def _page(request: Request) -> Page | tuple[int, str]:
        token = token_of(request)
        me = await whoami(request, token)
        if token is None or me is None:
            return 401, "Sign in (Members) with a reserve operator or secretariat token."
        if me.role not in OPERATOR_ROLES:
            return 403, f"Signed in as {me.name} ({me.role}): the reserve operations are for the operator."
        page = await operations_page(request, token)
        if isinstance(page, Page) and me.role == "reserve_operator":
            reserves = (await call(request, "GET", "/reserves", token)).json()
            page = _ops_context(page, [{"id": r["id"], "name": r["name"]} for r in reserves])
        return page

    def _error(status: int, message: str) -> HTMLResponse:
        return _error_page(nav, status, message)

    async def show(request: Request) -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            return _error(*page)
        if page.template == "reserve_ops.html":
            page.context["done"] = request.query_params.get("done", "")
        return HTMLResponse(render_page(page, nav))

    async def apply(request: Request) -> Response:
        """Validate one operation form with the vault's model, send it to the API; errors keep the form."""
        from critmin.web.operations import OperationFormError, operation_from_form

        form = {k: v for k, v in (await checked_form(request)).items() if isinstance(v, str)}
        page = await _page(request)
        if isinstance(page, tuple):
            return _error(*page)
        if page.template != "reserve_ops.html":
            return _error(403, "Only the reserve operator records operations.")
        op = form.get("op", "")
        try:
            if op == "create":
                r = await call(
                    request, "POST", "/reserves", token_of(request), json={"name": form.get("name")}
                )
                what = f"reserve {form.get('name')!r} created"
            else:
                body = operation_from_form(form, form.get("key") or op)
                rid = form.get("reserve_id", "")
                r = await call(request, "POST", f"/reserves/{rid}/operations", token_of(request), json=body)
                what = f"{op} recorded in reserve {rid}"
            if r.status_code not in (200, 201):
                detail = (
                    r.json().get("detail")
                    if r.headers.get("content-type", "").startswith("application/json")
                    else r.text
                )
                raise OperationFormError(f"{op}: the service refused it ({r.status_code}): {detail}")
        except OperationFormError as err:
            page.context.update(values={op: form}, op_error={"op": op, "message": str(err)})
            return HTMLResponse(render_page(page, nav), status_code=422)
        from urllib.parse import quote

        return RedirectResponse(f"/reserve/operations?done={quote(what)}#block-ledger", status_code=303)

    async def download(request: Request, block: str = "") -> Response:
        page = await _page(request)
        if isinstance(page, tuple):
            return Response(page[1] + "\n", page[0], media_type="text/plain")
        return block_csv(page, block, f"reserve-operations-{block}")

    router.add_api_route("/reserve/operations", show, methods=["GET"])
    router.add_api_route("/reserve/operations/apply", apply, methods=["POST"])
    router.add_api_route("/reserve/operations/download.csv", download, methods=["GET"])
    return router
