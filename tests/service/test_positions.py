"""Participants' positions in a reserve: the operator sees every subscriber, a participant only its own
(the vault participant named like its account), and the participant's view of the state hides the others."""

from __future__ import annotations

from service.support import ACCOUNTS, Service, vault_ops

API = "/api/v1"
MINE = ACCOUNTS["participant"][0]  # "Magnet maker"


def _reserve_with_two_subscribers(service: Service) -> int:
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "R"}, headers=op).json()["id"]
    me = {"id": MINE, "kind": "manufacturer"}
    sub = {"subscription_id": "s2", "participant_id": MINE, "material": "gallium", "quantity_t": 300.0}
    ops = [
        *vault_ops(2000.0),
        {"op": "register", "key": "reg-me", "on": "2026-01-05", "participant": me},
        {"op": "subscribe", "key": "sub-me", "on": "2026-01-05", **sub,
         "preset_price_usd_per_t": 1100.0, "upfront_fee_usd": 5.0},
    ]  # fmt: skip
    for o in ops:
        r = service.client.post(f"{API}/reserves/{rid}/operations", json=o, headers=op)
        assert r.status_code == 200, r.text
    return int(rid)


def test_operator_sees_every_position_and_a_participant_only_its_own(service: Service) -> None:
    rid = _reserve_with_two_subscribers(service)
    everyone = service.client.get(f"{API}/reserves/{rid}/positions", headers=service.auth("operator")).json()
    assert sorted(r["participant_id"] for r in everyone) == sorted(["m1", MINE])
    mine = service.client.get(f"{API}/reserves/{rid}/positions", headers=service.auth("participant")).json()
    assert [r["participant_id"] for r in mine] == [MINE]
    assert mine[0]["repurchase_exposure_usd"] == 300.0 * 1100.0
    assert mine[0]["draw_rights_t"] == 300.0
    state = service.client.get(f"{API}/reserves/{rid}", headers=service.auth("participant")).json()["state"]
    assert list(state["subscriptions"]) == ["s2"] and list(state["participants"]) == [MINE]
    assert state["inventory_t"] == {"gallium": 2000.0}  # the stock itself is shared
    assert (
        service.client.get(f"{API}/reserves/{rid}/ledger", headers=service.auth("participant")).status_code
        == 403
    )
    full = service.client.get(f"{API}/reserves/{rid}", headers=service.auth("operator")).json()["state"]
    assert sorted(full["subscriptions"]) == ["s1", "s2"]
    assert service.client.get(f"{API}/reserves/{rid}/positions").status_code == 401
