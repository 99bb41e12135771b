"""Exposure and atlas reads through the API return exactly what the library computes on the bundled data
(a key not held in memory is computed by an exposure job: ``follow`` polls it)."""

from __future__ import annotations

import json
import math

from critmin.analytics.exposure import exposure_detail, exposure_table
from critmin.atlas import load_atlas
from critmin.serialize import dumps
from service.exposure_follow import follow
from service.support import Service

API = "/api/v1"


def test_exposure_table_matches_the_library(service: Service) -> None:
    r = follow(service.client, f"{API}/exposure", params={"year": 2024})
    assert r.status_code == 200
    body = r.json()
    lib = exposure_table(load_atlas(), year=2024)
    assert len(body["rows"]) == len(lib) > 40
    by_key = {(x["material"], x["stage"]): x for x in body["rows"]}
    for row in lib.itertuples():
        got = by_key[(row.material, row.stage)]
        for col in ("china_share", "alliance_share", "hhi", "total_t"):
            want = float(getattr(row, col))
            assert (got[col] is None and math.isnan(want)) or math.isclose(got[col], want, rel_tol=1e-12)
    gallium = by_key[("gallium", "refine")]
    assert gallium["top1_iso3"] == "CHN" and gallium["china_share"] > 0.9
    assert body["metadata"]["data_editions"]


def test_exposure_detail_and_errors(service: Service) -> None:
    r = follow(service.client, f"{API}/exposure/gallium/refine", params={"year": 2024, "group": "g7"})
    assert r.status_code == 200
    want = exposure_detail(load_atlas(), "gallium", "refine", year=2024, group="g7")
    got = r.json()
    assert got["year"] == want["year"] and math.isclose(got["shares"]["CHN"], want["shares"]["CHN"])
    assert service.client.get(f"{API}/exposure/unobtainium/mine").status_code == 404
    assert service.client.get(f"{API}/exposure", params={"group": "no-such-group"}).status_code == 404


def test_materials_and_groups(service: Service) -> None:
    mats = service.client.get(f"{API}/materials").json()
    assert {"gallium", "lithium", "cobalt"} <= {m["slug"] for m in mats}
    groups = service.client.get(f"{API}/groups").json()
    assert "CHN" in groups["china"] and "USA" in groups["g7"]


def _run_detail(material: str, stage: str, year: int, group: str) -> dict[str, object]:
    """The detail the API serves: the exposure run's (the library's detail plus the edition note)."""
    from critmin.runs.exposure import ExposureRequest, run

    detail = run(ExposureRequest(material=material, stage=stage, year=year, group=group)).detail
    lib = exposure_detail(load_atlas(), material, stage, year=year, group=group)
    assert {k: v for k, v in detail.items() if k != "edition_note"}.keys() == lib.keys()
    return dict(detail)


def _stamped(doc: dict[str, object]) -> dict[str, object]:
    """The document without ``created_at`` (a cached result keeps the time it was computed)."""
    assert isinstance(doc.pop("created_at"), str)
    return doc


def test_exposure_json_is_compact_and_equal_to_the_library(service: Service) -> None:
    r = follow(service.client, f"{API}/exposure/cobalt/refine", params={"year": 2024})
    assert r.status_code == 200
    assert "\n" not in r.text and not r.text.startswith("{ ")  # no indentation
    want = json.loads(dumps(_run_detail("cobalt", "refine", 2024, "ministerial-2026")))
    assert _stamped(r.json()) == _stamped(want)
    table = follow(service.client, f"{API}/exposure", params={"year": 2023})
    assert table.status_code == 200 and "\n" not in table.text


def test_precompute_holds_every_pair_and_serves_it_unchanged(service: Service) -> None:
    from critmin.api.routers import analytics

    n = analytics.precompute_exposure(2022, "g7")
    pairs = analytics.exposure_pairs()
    assert n == len(pairs) > 40
    for material, stage in pairs:  # every pair is held before any request asks for it
        assert analytics.CACHE.detail(2022, "g7", material, stage) is not None
    assert analytics.CACHE.table(2022, "g7") is not None
    material, stage = pairs[len(pairs) // 2]
    r = service.client.get(f"{API}/exposure/{material}/{stage}", params={"year": 2022, "group": "g7"})
    want = _run_detail(material, stage, 2022, "g7")
    assert _stamped(r.json()) == _stamped(json.loads(dumps(want)))
    assert r.text == analytics.CACHE.detail(2022, "g7", material, stage)
