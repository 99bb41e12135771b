"""50 concurrent draws against one reserve never overdraw it, and the ledger replays to the stored state
(each backend). The operating rules are the vault library's; the store adds the lock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from critmin.store.members import Principal
from critmin.store.models import Reserve
from critmin.store.reserves import create_reserve, ledger, operate, state_of
from critmin.vault import OPERATION_ADAPTER, VaultRuleError, replay
from service.support import Service, draw_op, vault_ops

API = "/api/v1"


def _check(service: Service, rid: int, stock: float, entries: int) -> None:
    with service.store.read() as s:
        reserve = s.get(Reserve, rid)
        assert reserve is not None
        state = state_of(reserve)
        stored = ledger(s, rid)
    assert [e.sequence for e in stored] == list(range(1, entries + 1))
    assert state.stock("gallium") == pytest.approx(stock, abs=1e-9) and state.stock("gallium") >= 0
    assert replay(stored).digest() == state.digest()  # the ledger balances: it rebuilds the stored state
    drawn = sum(d.tonnes for d in state.draws.values())
    assert drawn + state.stock("gallium") == pytest.approx(30.0)
    assert reserve.version == entries


def test_50_concurrent_http_draws_never_overdraw(service: Service) -> None:
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op).json()["id"]
    url = f"{API}/reserves/{rid}/operations"
    for body in vault_ops(30.0):
        assert service.client.post(url, json=body, headers=op).status_code == 200
    barrier = threading.Barrier(50)

    def draw(i: int) -> int:
        barrier.wait()
        return int(service.client.post(url, json=draw_op(i), headers=op).status_code)

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(draw, range(50)))
    assert codes.count(200) == 30 and codes.count(409) == 20
    _check(service, rid, 0.0, 4 + 30)
    assert service.client.get(f"{API}/reserves/{rid}/replay", headers=op).json()["ok"]
    assert service.client.get(f"{API}/audit/verify", headers=service.auth("secretariat")).json()["ok"]


def test_50_concurrent_store_draws_with_repeated_keys(service: Service) -> None:
    who = Principal(service.ids["operator"], "Reserve operator", "reserve_operator", None)
    with service.store.write() as s:
        rid = create_reserve(s, who, "Ga").id
        for body in vault_ops(30.0):
            operate(s, who, rid, OPERATION_ADAPTER.validate_python(body))
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def draw(i: int) -> None:
        barrier.wait()
        op = OPERATION_ADAPTER.validate_python(draw_op(i % 25, 1.2))  # each key twice: the second replays
        try:
            with service.store.write() as s:
                outcome = "replayed" if operate(s, who, rid, op).replayed else "drawn"
        except VaultRuleError:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(draw, range(50)))
    assert outcomes.count("drawn") == 25 and outcomes.count("replayed") == 25 and "refused" not in outcomes
    _check(service, rid, 0.0, 4 + 25)
    with pytest.raises(VaultRuleError, match="in inventory"), service.store.write() as s:
        operate(s, who, rid, OPERATION_ADAPTER.validate_python(draw_op(99, 0.5)))
