"""The differencing attack of issue 14, run against the service: a member submits a made-up figure to
bring a cell to three contributors, resubmits as often as it can, and binary-searches the edge between
published and suppressed to recover the two other members' figures.

Against the old rule (aggregates recomputed on every submission; three contributors, none above 50 %) the
same attack recovers both figures exactly. Against the service, it is run on two cells whose secret figures
differ by 25-35 % but share their sum: everything the attacker sees is identical for both cells, so it
cannot tell them apart and recovers nothing beyond the sum, which the p% rule allows it to learn."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from service.support import Service

API = "/api/v1"
SECRET = {  # two worlds with the same sum: JPN and CAN figures of lithium and of cobalt (test inputs)
    "lithium": {"member_b": 1234.5, "member_c": 876.25},
    "cobalt": {"member_b": 925.9, "member_c": 1184.85},
}
MADE_UP = 1000.0
STEPS = 14

Observe = Callable[[float], float | None]


def attack(observe: Observe) -> tuple[float, float, list[float | None]]:
    """The attacker's algorithm: its estimates of the larger and smaller other figure, and the transcript
    (every total it saw; ``None`` = suppressed)."""
    first = observe(MADE_UP)
    transcript = [first]
    assert first is not None, "the made-up figure did not open the cell"
    others = first - MADE_UP  # the sum of the other two figures
    lo, hi = 0.0, others
    for _ in range(STEPS):  # the edge below which the larger other figure dominates the cell
        mid = (lo + hi) / 2
        seen = observe(mid)
        transcript.append(seen)
        lo, hi = (mid, hi) if seen is None else (lo, mid)
    gap = hi
    return (others + gap) / 2, (others - gap) / 2, transcript


def old_rule(x: dict[str, float], attacker: float) -> float | None:
    """The pre-issue-14 rule, recomputed on every submission: >= 3 contributors, none above half."""
    values = [*x.values(), attacker]
    total = sum(values)
    return None if len(values) < 3 or max(values) > 0.5 * total else total


def test_the_attack_recovers_both_figures_under_the_old_rule() -> None:
    x = SECRET["lithium"]
    big, small, _ = attack(lambda a: old_rule(x, a))
    assert big == pytest.approx(x["member_b"], abs=0.2) and small == pytest.approx(x["member_c"], abs=0.2)


def _submit(service: Service, who: str, figures: dict[str, float]) -> int:
    rows = [{"material": m, "stage": "mine", "year": 2024, "tonnes": t} for m, t in figures.items()]
    r = service.client.post(
        f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=service.auth(who)
    )
    return int(r.status_code)


def test_the_attack_recovers_nothing_from_the_service(service: Service) -> None:
    for who in ("member_b", "member_c"):
        assert _submit(service, who, {m: SECRET[m][who] for m in SECRET}) == 201
    codes: list[int] = []
    seen: dict[str, list[float | None]] = {m: [] for m in SECRET}

    def observe(attacker: float) -> float | None:
        # the attacker submits twice per round; the secretariat releases after every round (the worst case)
        codes.append(_submit(service, "member_a", dict.fromkeys(SECRET, attacker)))
        codes.append(_submit(service, "member_a", dict.fromkeys(SECRET, attacker)))
        release = service.client.post(f"{API}/releases", json={}, headers=service.auth("secretariat"))
        assert release.status_code == 201
        cells = {c["material"]: c for c in service.client.get(f"{API}/aggregates?kind=production").json()}
        for m in SECRET:
            seen[m].append(cells[m]["tonnes"])
        return cells["lithium"]["tonnes"]  # type: ignore[no-any-return]

    big, small, transcript = attack(observe)
    assert seen["lithium"] == seen["cobalt"] == transcript  # indistinguishable worlds
    li, co = SECRET["lithium"], SECRET["cobalt"]
    assert sum(li.values()) == sum(co.values())
    assert all(abs(li[w] - co[w]) > 0.2 * max(li[w], co[w]) for w in li)  # the worlds differ by > 20 %
    # the estimates are the same for both cells, so they miss at least one of them by more than p (10 %)
    misses = [
        max(abs(big - max(v.values())) / max(v.values()), abs(small - min(v.values())) / min(v.values()))
        for v in SECRET.values()
    ]
    assert max(misses) > 0.1
    assert transcript[0] is not None and transcript[0] == pytest.approx(MADE_UP + 2110.75)  # the sum: allowed
    assert sum(t is not None for t in transcript) <= 5 and transcript[-1] is None  # one edge crossing, sticky
    assert codes[0] == 201 and codes[1] == 201  # before the first release: not yet revisions
    assert codes[2:].count(429) == STEPS and codes[2:].count(201) == STEPS  # one revision per release
