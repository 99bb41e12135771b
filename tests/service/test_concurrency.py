"""50 concurrent draws against one reserve never overdraw it, and the ledger balances (each backend)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from critmin.store.members import Principal
from critmin.store.models import Reserve
from critmin.store.reserves import ReserveError, create_reserve, ledger, operate, replay
from service.support import Service

API = "/api/v1"


def _check_ledger(service: Service, rid: int, expected_tonnes: float, expected_entries: int) -> None:
    with service.store.read() as s:
        reserve = s.get(Reserve, rid)
        entries = ledger(s, rid)
    assert reserve is not None
    assert [e.seq for e in entries] == list(range(1, expected_entries + 1))
    assert all(e.balance_after >= 0 for e in entries)
    assert replay(entries) == reserve.tonnes == entries[-1].balance_after == expected_tonnes
    assert reserve.version == expected_entries


def test_50_concurrent_http_draws_never_overdraw(service: Service) -> None:
    op = service.auth("operator")
    rid = service.client.post(
        f"{API}/reserves", json={"name": "Dy", "material": "rare-earths"}, headers=op
    ).json()["id"]
    url = f"{API}/reserves/{rid}/operations"
    assert (
        service.client.post(
            url, json={"op": "acquire", "tonnes": 30, "idempotency_key": "seed"}, headers=op
        ).status_code
        == 200
    )
    barrier = threading.Barrier(50)

    def draw(i: int) -> int:
        barrier.wait()
        r = service.client.post(
            url, json={"op": "draw", "tonnes": 1, "idempotency_key": f"draw-{i}"}, headers=op
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(draw, range(50)))
    assert sorted(set(codes)) == [200, 409]
    assert codes.count(200) == 30 and codes.count(409) == 20
    _check_ledger(service, rid, 0.0, 31)
    assert service.client.get(f"{API}/audit/verify", headers=service.auth("secretariat")).json()["ok"]


def test_50_concurrent_store_draws_with_repeated_keys(service: Service) -> None:
    who = Principal(service.ids["operator"], "Reserve operator", "reserve_operator", None)
    with service.store.write() as s:
        rid = create_reserve(s, who, "Ga", "gallium").id
        operate(s, who, rid, "acquire", 12.5, "seed")
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def draw(i: int) -> None:
        barrier.wait()
        key = f"k{i % 25}"  # every key is sent twice: the second is a replay, never a second draw
        try:
            with service.store.write() as s:
                result = operate(s, who, rid, "draw", 0.5, key)
            outcome = "replayed" if result.replayed else "drawn"
        except ReserveError:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(draw, range(50)))
    assert outcomes.count("drawn") == 25 and outcomes.count("replayed") == 25 and "refused" not in outcomes
    _check_ledger(service, rid, 0.0, 26)
    with pytest.raises(ReserveError, match=r"exceeds the 0.0 t held"), service.store.write() as s:
        operate(s, who, rid, "draw", 0.5, "one-too-many")
