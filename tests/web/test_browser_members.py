"""Members area in headless Chromium: sign in with a token, upload with a bad row (that row's error shown,
nothing stored), a good upload, and a member refused another member's page."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Server, Visit

pytestmark = pytest.mark.browser

GOOD = "material,stage,year,tonnes\ngallium,refine,2024,12.5\ncobalt,refine,2024,40\n"
# data row 3 has a negative quantity, data row 4 an unknown stage
BAD = (
    "material,stage,year,tonnes\ngallium,refine,2024,1\ncobalt,refine,2024,2\nnickel,refine,2024,-5\n"
    "lithium,smelt,2024,3\n"
)


def _sign_in(visit: Visit, token: str) -> None:
    visit.goto("/members")
    visit.page.fill("#token", token)
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")


def _upload(visit: Visit, path: Path) -> None:
    visit.page.select_option("#upload-kind", "production")
    visit.page.set_input_files("#upload-file", str(path))
    with visit.page.expect_navigation():
        visit.page.click("#upload-form button[type=submit]")


def test_sign_in_upload_errors_and_own_data(visit: Visit, server: Server, tmp_path: Path) -> None:
    _sign_in(visit, server.tokens["member_a"])
    assert visit.page.url.endswith(f"/members/{server.ids['member_a']}")
    assert "Australia" in visit.page.inner_text("h1")
    visit.screenshot("members")

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    _upload(visit, bad)
    errors = visit.page.locator("#table-upload-errors tbody tr")
    cells = [errors.nth(i).locator("td").all_inner_texts() for i in range(errors.count())]
    assert any(c[:3] == ["3", "tonnes", "-5"] for c in cells), cells
    assert any(c[0] == "4" and c[1] == "stage" and c[2] == "smelt" for c in cells), cells
    assert "nothing was stored" in visit.page.inner_text("#upload-errors")
    assert visit.page.locator("#table-submissions tbody tr").count() == 0  # all-or-nothing
    visit.screenshot("members-upload-errors")

    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    _upload(visit, good)
    assert "Stored submission" in visit.page.inner_text("#upload-ok")
    visit.wait_charts()
    rows = visit.page.locator("#table-rows tbody tr")
    assert rows.count() == 2
    assert "12.5" in rows.first.inner_text() or "12.5" in rows.nth(1).inner_text()
    href = visit.page.locator("#block-rows a[download]").get_attribute("href") or ""
    csv_text = visit.page.request.get(visit.base + href).text()
    assert csv_text.splitlines()[0].startswith("submission_id,kind,row_number,material")
    assert len(csv_text.splitlines()) == 3
    visit.assert_clean()


def test_member_cannot_see_another_members_page(visit: Visit, server: Server) -> None:
    _sign_in(visit, server.tokens["member_b"])
    response = visit.page.goto(f"{visit.base}/members/{server.ids['member_a']}")
    assert response.status == 403
    assert "another account" in visit.page.inner_text("p.error")
    assert "Australia" not in visit.page.content()
    csv = visit.page.request.get(f"{visit.base}/members/{server.ids['member_a']}/download.csv?block=rows")
    assert csv.status == 403 and "gallium" not in csv.text()
    visit.screenshot("members-forbidden")


def test_bad_token_and_no_token(visit: Visit, server: Server) -> None:
    response = visit.page.goto(f"{visit.base}/members/{server.ids['member_a']}")
    assert response.status == 401
    _sign_in(visit, "cm_0_not-a-token")
    assert "not accepted" in visit.page.inner_text("#signin-message")
    visit.screenshot("members-signin")


def test_secretariat_reaches_every_member_page(visit: Visit, server: Server) -> None:
    _sign_in(visit, server.tokens["secretariat"])
    links = visit.page.locator("#member-accounts a")
    names = {links.nth(i).inner_text() for i in range(links.count())}
    assert names == {"Australia (AUS)", "Japan (JPN)", "Canada (CAN)"}
    with visit.page.expect_navigation():
        visit.page.click("#member-accounts a:has-text('Australia')")
    assert visit.page.url.endswith(f"/members/{server.ids['member_a']}")
    assert "Member: Australia (AUS)" in visit.page.inner_text("h1")
    assert visit.page.locator("#upload-form").count() == 0  # only the member itself uploads
    visit.assert_clean()


def test_a_revoked_token_signs_the_member_out(visit: Visit, server: Server) -> None:
    import httpx

    from .conftest import _issue_token

    token = _issue_token(server, "member_b")
    _sign_in(visit, token)
    page_url = f"{visit.base}/members/{server.ids['member_b']}"
    assert visit.page.goto(page_url).status == 200
    public_id = token.split("_")[1]
    admin = {"Authorization": f"Bearer {server.tokens['secretariat']}"}
    assert httpx.delete(f"{server.url}/api/v1/tokens/{public_id}", headers=admin).status_code == 204
    # the cookie still holds the token, but every request re-checks it with the API
    assert visit.page.goto(page_url).status == 401
    assert visit.page.locator("#token").count() == 1


# the Prices page's deals format (critmin.pricing.transactions); data row 2 has a negative volume
DEALS_PRICING_FORMAT = (
    "date,material,stage,specification,volume_t,price,currency,incoterm,buyer,seller,reporter,price_unit\n"
    "2026-06-03,gallium,refine,4N,1.0,575,USD,CIF Rotterdam,Buyer 1,Seller 1,Member A,kg\n"
    "2026-06-04,gallium,refine,4N,-2.0,580,USD,CIF Rotterdam,Buyer 2,Seller 1,Member A,kg\n"
    "2026-06-05,gallium,refine,4N,1.5,590,USD,CIF Rotterdam,Buyer 3,Seller 2,Member A,kg\n"
)


def test_deals_file_with_one_bad_row_shows_that_rows_error(
    visit: Visit, server: Server, tmp_path: Path
) -> None:
    """Task: a member uploads a deals file (Prices page format) with one bad row and sees exactly that row's
    error; the kind stays 'transactions'; the file with the row fixed is stored at USD per tonne."""
    _sign_in(visit, server.tokens["member_c"])
    bad = tmp_path / "deals.csv"
    bad.write_text(DEALS_PRICING_FORMAT)
    visit.page.select_option("#upload-kind", "transactions")
    visit.page.set_input_files("#upload-file", str(bad))
    with visit.page.expect_navigation():
        visit.page.click("#upload-form button[type=submit]")
    errors = visit.page.locator("#table-upload-errors tbody tr")
    cells = [errors.nth(i).locator("td").all_inner_texts() for i in range(errors.count())]
    assert [c[:3] for c in cells] == [["2", "tonnes", "-2.0"]], cells
    assert visit.page.input_value("#upload-kind") == "transactions"
    visit.screenshot("members-deals-error")

    good = tmp_path / "deals-fixed.csv"
    good.write_text(DEALS_PRICING_FORMAT.replace(",-2.0,", ",2.0,"))
    visit.page.set_input_files("#upload-file", str(good))
    with visit.page.expect_navigation():
        visit.page.click("#upload-form button[type=submit]")
    assert "(3 rows)" in visit.page.inner_text("#upload-ok")
    prices = visit.page.eval_on_selector_all(
        "#table-rows tbody tr", "rs => rs.map(r => Number(r.cells[8].dataset.sort))"
    )
    assert sorted(prices) == [575_000.0, 580_000.0, 590_000.0]  # USD/kg read as USD per tonne
    visit.assert_clean()


def test_a_wrong_header_is_reported_once_and_templates_match_the_specs(
    visit: Visit, server: Server, tmp_path: Path
) -> None:
    _sign_in(visit, server.tokens["member_c"])
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("material,stage,year,tons\n" + "gallium,refine,2024,1\n" * 40)
    visit.page.select_option("#upload-kind", "production")
    visit.page.set_input_files("#upload-file", str(wrong))
    with visit.page.expect_navigation():
        visit.page.click("#upload-form button[type=submit]")
    text = visit.page.inner_text("#upload-errors")
    assert text.count("tons") == 1 and "missing column(s) ['tonnes']" in text
    assert visit.page.locator("#table-upload-errors").count() == 0  # one message, not 40 row errors
    for kind in ("production", "demand", "stocks", "transactions"):
        href = visit.page.locator(f"#template-{kind}").get_attribute("href") or ""
        response = visit.page.request.get(visit.base + href)
        assert f'filename="critmin-{kind}-template.csv"' in response.headers["content-disposition"]
        columns = set(response.text().strip().split(","))
        spec = visit.page.eval_on_selector_all(
            f"#table-spec-{kind} tbody tr", "rs => rs.map(r => r.cells[0].textContent)"
        )
        assert columns == set(spec)
    visit.assert_clean()
