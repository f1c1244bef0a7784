"""Problems in the caller's language: the Spanish catalogue, and what the servers send."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shared.i18n import request_language
from shared.message_extract import messages_in_source, project_messages
from shared.messages import fields, read_catalogue, translate
from tests.conftest import Tokens, mint
from tests.support import assert_problem

ROOT = Path(__file__).resolve().parent.parent


def test_every_translation_keeps_the_fields_of_its_message() -> None:
    for message in read_catalogue("es"):
        if message.id and message.string:
            assert fields(str(message.id)) == fields(str(message.string)), message.id


def test_every_message_the_code_sends_has_a_spanish_translation() -> None:
    translated = {str(m.id) for m in read_catalogue("es") if m.id and m.string and not m.fuzzy}
    missing = {
        message: places
        for message, places in project_messages(ROOT).items()
        if message not in translated
    }
    listed = "\n".join(f"  {text!r} ({', '.join(places)})" for text, places in missing.items())
    assert not missing, (
        f"{len(missing)} problem message(s) the code sends have no Spanish translation; run "
        "`python3 manage.py messages` and translate the new entries of "
        f"shared/locale/es/LC_MESSAGES/messages.po:\n{listed}"
    )


def test_messages_with_fields_are_translated_by_their_pattern() -> None:
    assert translate("String should have at most 200 characters", "es") == (
        "Debe tener como máximo 200 caracteres"
    )
    assert translate("Not Found", "es") == "No encontrado"
    assert translate("Not Found", "en") == "Not Found"
    assert translate("Something no catalogue knows", "es") == "Something no catalogue knows"


def test_the_extractor_sees_plain_and_f_string_details() -> None:
    source = (
        "raise Problem(404, 'not-found', f'No holder {holder_id} here.')\n"
        "await send_problem(send, 429, 'slow', 'Wait ' + f'{seconds} s.', instance=p)\n"
        "problem_response(400, 'bad', detail=f'{request.url.path} is wrong')\n"
        "Problem(400, 'x', some_variable)\n"
    )
    assert [m for _, m in messages_in_source(source)] == [
        "No holder {holder_id} here.",
        "Wait {seconds} s.",
        "{path} is wrong",
    ]
    assert "Send If-Match with the ETag you last read, so that no update is lost." in (
        project_messages(ROOT)
    )


@pytest.mark.parametrize(
    ("headers", "query", "language"),
    [
        ([], b"", "en"),
        ([(b"accept-language", b"es-PE,es;q=0.9")], b"", "es"),
        ([(b"accept-language", b"fr")], b"", "en"),
        ([(b"accept-language", b"es")], b"lang=en", "en"),
        ([], b"limit=5&lang=es", "es"),
    ],
)
def test_the_language_of_an_api_answer(
    headers: list[tuple[bytes, bytes]], query: bytes, language: str
) -> None:
    assert request_language(headers, query) == language


async def test_a_service_answers_problems_in_spanish_when_asked(
    inventory: httpx.AsyncClient, keys_dir: Path
) -> None:
    writer = {"Authorization": f"Bearer {mint(keys_dir, scopes='inventory:write', org='MINEM')}"}
    spanish = await inventory.post(
        "/v1/holders", json={"ruc": "1"}, headers=writer | {"Accept-Language": "es"}
    )
    assert_problem(spanish, 422, "validation-error")
    body = spanish.json()
    assert body["title"] == "La solicitud no es válida"
    assert body["detail"] == "Uno o más campos no son válidos; vea errors."
    assert {"loc": ["body", "name"], "msg": "Campo obligatorio", "type": "missing"} in body[
        "errors"
    ]
    assert spanish.headers["content-language"] == "es"
    assert "accept-language" in spanish.headers["vary"].lower()
    english = await inventory.post("/v1/holders", json={"ruc": "1"}, headers=writer)
    assert english.json()["title"] == "Request is not valid"
    assert english.headers["content-language"] == "en"
    by_query = await inventory.get("/v1/holders/999999", params={"lang": "es"})
    assert_problem(by_query, 404)
    assert by_query.json()["title"] == "No encontrado"


async def test_json_answers_say_their_language_too(inventory: httpx.AsyncClient) -> None:
    response = await inventory.get("/v1/holders", headers={"Accept-Language": "es"})
    assert response.status_code == 200
    assert response.headers["content-language"] == "es"
    assert "Accept-Language" in response.headers["vary"]


async def test_the_gateway_answers_its_own_problems_in_spanish_and_relays_one_language(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    refused = await gateway.get("/inventory/v1/holders", headers={"Accept-Language": "es"})
    assert_problem(refused, 401)
    assert refused.json()["title"] == "No autorizado"
    assert refused.headers["content-language"] == "es"
    headers = await tokens.headers("lang-test", "MINEM", "inventory:read")
    relayed = await gateway.get(
        "/inventory/v1/holders/999999", headers=headers | {"Accept-Language": "es"}
    )
    assert_problem(relayed, 404)
    assert relayed.json()["title"] == "No encontrado"
    assert relayed.headers.get_list("content-language") == ["es"]
    assert relayed.headers["vary"].lower().count("accept-language") == 1
