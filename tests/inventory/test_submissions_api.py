"""Submissions through the gateway: the review workflow, who may move what, visibility of
drafts, immutability of validated data and corrections."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inventory.conftest import Caller, assert_problem, validate


async def _pcb_submission(minem: Caller) -> tuple[dict[str, Any], dict[str, Any]]:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    submission = await minem.submission(2024)
    item = await minem.item(submission["id"], holder["id"], site["id"])
    return submission, item


async def test_full_workflow_is_recorded(minem: Caller, minam: Caller) -> None:
    submission, _ = await _pcb_submission(minem)
    assert submission["status"] == "draft"
    assert submission["org_code"] == "MINEM"
    sid = submission["id"]
    assert (await minem.move(sid, "submit", "first version")).json()["status"] == "submitted"
    assert (await minam.move(sid, "start-review")).json()["status"] == "under_review"
    returned = await minam.move(sid, "return", "Faltan análisis del transformador")
    assert returned.json()["status"] == "returned"
    assert (await minem.move(sid, "submit")).json()["status"] == "submitted"
    await minam.move(sid, "start-review")
    final = (await minam.move(sid, "validate", "conforme")).json()
    assert final["status"] == "validated"
    assert final["counts_nationally"] is True
    assert final["validated_at"] is not None
    events = (await minem.get(f"/submissions/{sid}/events")).json()
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "returned"),
        ("returned", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "validated"),
    ]
    assert [e["org_code"] for e in events] == [
        "MINEM",
        "MINEM",
        "MINAM",
        "MINAM",
        "MINEM",
        "MINAM",
        "MINAM",
    ]
    assert events[3]["comment"] == "Faltan análisis del transformador"
    assert events[3]["client_id"] == "minam-test"


async def test_forbidden_moves(minem: Caller, minam: Caller, produce: Caller) -> None:
    submission, _ = await _pcb_submission(minem)
    sid = submission["id"]
    # Scopes: a writer cannot review, a reviewer cannot submit.
    assert_problem(await minem.move(sid, "validate"), 403, "insufficient-scope")
    assert_problem(await minem.move(sid, "start-review"), 403, "insufficient-scope")
    # Not in the workflow: a draft is not reviewed, validated or returned.
    assert_problem(await minam.move(sid, "start-review"), 404)  # a draft is not visible to MINAM
    await minem.move(sid, "submit")
    assert_problem(await minam.move(sid, "validate"), 409, "invalid-transition")
    assert_problem(await minem.move(sid, "submit"), 409, "invalid-transition")
    # Another organisation may not submit MINEM's submission (and cannot see it).
    assert_problem(await produce.move(sid, "submit"), 404)
    # A return needs a comment.
    empty = await minam.write(
        "POST", f"/submissions/{sid}/return", {"comment": "  "}, etag_of=f"/submissions/{sid}"
    )
    assert_problem(empty, 422, "validation-error")
    missing = await minam.write(
        "POST", f"/submissions/{sid}/return", {}, etag_of=f"/submissions/{sid}"
    )
    assert_problem(missing, 422)
    # Moves need If-Match.
    no_match = await minam.post(f"/submissions/{sid}/start-review", {})
    assert_problem(no_match, 428)
    await minam.move(sid, "start-review")
    await minam.move(sid, "validate")
    for caller, action in ((minem, "submit"), (minam, "return"), (minam, "validate")):
        response = await caller.move(sid, action, "again")
        assert_problem(response, 409, "invalid-transition")


async def test_partner_reading_another_organisations_draft_gets_404(
    minem: Caller, produce: Caller, oefa: Caller, minam: Caller
) -> None:
    submission, item = await _pcb_submission(minem)
    sid = submission["id"]
    for caller in (produce, oefa, minam):  # MINAM sees it only once submitted
        missing = await caller.get("/submissions/987654")
        hidden = await caller.get(f"/submissions/{sid}")
        assert_problem(hidden, 404, "not-found")
        assert hidden.json()["detail"] == missing.json()["detail"].replace("987654", str(sid))
        assert_problem(await caller.get(f"/pcb-items/{item['id']}"), 404, "not-found")
        assert_problem(await caller.get(f"/submissions/{sid}/events"), 404)
        assert (await caller.get("/submissions")).json()["items"] == []
        assert (await caller.get("/pcb-items")).json()["items"] == []
    await minem.move(sid, "submit")
    assert (await minam.get(f"/submissions/{sid}")).status_code == 200
    assert_problem(await oefa.get(f"/submissions/{sid}"), 404)
    await minam.move(sid, "start-review")
    await minam.move(sid, "validate")
    assert (await oefa.get(f"/submissions/{sid}")).status_code == 200
    assert (await oefa.get(f"/pcb-items/{item['id']}")).status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "validated"},
        {"org_code": "MINAM"},
        {"owner_org": "MINAM"},
        {"validated_at": "2024-01-01T00:00:00Z"},
        {"revision": 3},
    ],
)
async def test_partner_setting_fields_it_may_not_set_is_rejected(
    minem: Caller, extra: dict[str, Any]
) -> None:
    response = await minem.post("/submissions", {"year": 2024, "section": "pcb"} | extra)
    assert_problem(response, 422, "validation-error")
    assert (await minem.get("/submissions")).json()["items"] == []


async def test_readers_without_write_scope_cannot_create(oefa: Caller, minam: Caller) -> None:
    assert_problem(await oefa.post("/submissions", {"year": 2024, "section": "pcb"}), 403)
    assert_problem(await minam.post("/submissions", {"year": 2024, "section": "pcb"}), 403)


async def test_one_open_submission_per_year_and_section(minem: Caller, produce: Caller) -> None:
    first = await minem.submission(2024, "pcb")
    again = await minem.post("/submissions", {"year": 2024, "section": "pcb"})
    assert_problem(again, 409, "already-open")
    assert again.json()["existing_id"] == first["id"]
    await minem.submission(2024, "mercury")
    await minem.submission(2023, "pcb")
    await produce.submission(2024, "pcb")
    bad = await minem.post("/submissions", {"year": 1800, "section": "pcb"})
    assert_problem(bad, 422)
    assert_problem(await minem.post("/submissions", {"year": 2024, "section": "dioxins"}), 422)


async def test_idempotency_key_returns_the_first_answer(minem: Caller) -> None:
    body = {"year": 2022, "section": "upops"}
    key = {"Idempotency-Key": "create-2022-upops"}
    first = await minem.post("/submissions", body, headers=key)
    retry = await minem.post("/submissions", body, headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    other = await minem.post("/submissions", {"year": 2021, "section": "upops"}, headers=key)
    assert_problem(other, 422, "idempotency-key-reused")
    assert len((await minem.get("/submissions")).json()["items"]) == 1


async def test_validated_data_is_immutable_and_corrected_by_a_new_version(
    minem: Caller, minam: Caller, oefa: Caller
) -> None:
    submission, item = await _pcb_submission(minem)
    sid = submission["id"]
    await validate(minem, minam, sid)
    item_path = f"/pcb-items/{item['id']}"
    assert_problem(
        await minem.write("PATCH", item_path, {"labelled": True}), 409, "submission-not-editable"
    )
    assert_problem(await minem.write("DELETE", item_path), 409)
    blocked = await minem.write(
        "POST",
        f"{item_path}/analyses",
        {"method": "gc", "analysed_on": "2024-01-01", "value_mg_per_kg": "10"},
        etag_of=item_path,
    )
    assert_problem(blocked, 409)
    assert_problem(
        await minem.post("/submissions", {"year": 2024, "section": "pcb"}), 409, "already-validated"
    )
    # A correction: a new draft version with a copy of the data and the reason.
    assert_problem(
        await minem.write(
            "POST", f"/submissions/{sid}/corrections", {}, etag_of=f"/submissions/{sid}"
        ),
        422,
    )
    correction = await minem.ok(
        "POST",
        f"/submissions/{sid}/corrections",
        {"reason": "Serie mal digitada"},
        etag_of=f"/submissions/{sid}",
    )
    assert correction["revision"] == 2
    assert correction["supersedes_id"] == sid
    assert correction["status"] == "draft"
    assert correction["correction_reason"] == "Serie mal digitada"
    copies = (await minem.get("/pcb-items", params={"submission_id": correction["id"]})).json()[
        "items"
    ]
    assert [c["serial_number"] for c in copies] == [item["serial_number"]]
    copy_path = f"/pcb-items/{copies[0]['id']}"
    assert len((await minem.get(f"{copy_path}/status-events")).json()) == 1
    await minem.ok("PATCH", copy_path, {"serial_number": "SN-CORRECTED"})
    # Until the correction is validated, the original counts nationally and OEFA sees only it.
    current = (await oefa.get("/pcb-items", params={"current": "true"})).json()["items"]
    assert [c["serial_number"] for c in current] == [item["serial_number"]]
    assert_problem(await oefa.get(copy_path), 404)
    second = await minem.write(
        "POST",
        f"/submissions/{sid}/corrections",
        {"reason": "again"},
        etag_of=f"/submissions/{sid}",
    )
    assert_problem(second, 409, "already-open")
    await validate(minem, minam, correction["id"])
    old = (await oefa.get(f"/submissions/{sid}")).json()
    assert old["superseded_by_id"] == correction["id"]
    assert old["counts_nationally"] is False
    current = (await oefa.get("/pcb-items", params={"current": "true"})).json()["items"]
    assert [c["serial_number"] for c in current] == ["SN-CORRECTED"]
    stale = await minem.write(
        "POST", f"/submissions/{sid}/corrections", {"reason": "x"}, etag_of=f"/submissions/{sid}"
    )
    assert_problem(stale, 409, "not-correctable")
    listed = await oefa.get("/submissions", params={"counts_nationally": "true"})
    assert [s["id"] for s in listed.json()["items"]] == [correction["id"]]
