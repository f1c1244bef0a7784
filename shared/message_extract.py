"""Extract the messages of problems from the code, for the catalogues (``shared.messages``).

A Babel extraction method (``pybabel extract -F`` can name it) and a function for the
project: every ``detail`` given as a string or an f-string to the calls that make a problem
(``Problem``, ``send_problem``, ``problem_response`` and the helpers in ``DETAIL_ARGUMENT``),
each f-string field written ``{name}`` after the expression it shows (``{path}`` for
``{request.url.path}``). Messages built any other way are not seen (nor translated).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# Which positional argument of each call is the detail (the keyword ``detail`` always is).
DETAIL_ARGUMENT = {
    "Problem": 2,
    "send_problem": 3,
    "problem_response": None,
    "refusal": 2,
    "unprocessable": 1,
    "unauthorized": 0,
    "invalid_request": 0,
    "not_ready": 1,
}


def _field_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _field_name(node.func)
    if isinstance(node, ast.Subscript):
        return _field_name(node.value)
    return "value"


def message_of(node: ast.expr) -> str | None:
    """The message an argument node writes, fields as ``{name}``; None if not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append("{" + _field_name(value.value) + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = message_of(node.left), message_of(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def messages_in_source(source: str) -> Iterator[tuple[int, str]]:
    """(line, message) of every problem detail in ``source``, in line order."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name not in DETAIL_ARGUMENT:
            continue
        candidates = [k.value for k in node.keywords if k.arg == "detail"]
        index = DETAIL_ARGUMENT[name]
        if index is not None and len(node.args) > index:
            candidates.append(node.args[index])
        for candidate in candidates:
            message = message_of(candidate)
            if message and message.strip():
                found.append((candidate.lineno, message))
    yield from sorted(found)


def extract_problems(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extraction method signature: (line, function, message, comments)."""
    del keywords, comment_tags, options
    for line, message in messages_in_source(fileobj.read().decode("utf-8")):
        yield line, "", message, []


def project_messages(root: Path) -> dict[str, list[str]]:
    """Every problem message of the project's code under ``root``, with where it is."""
    found: dict[str, list[str]] = {}
    for folder in ("services", "shared"):
        for path in sorted((root / folder).rglob("*.py")):
            for line, message in messages_in_source(path.read_text(encoding="utf-8")):
                found.setdefault(message, []).append(f"{path.relative_to(root)}:{line}")
    return found


def update_catalogue(root: Path, language: str = "es") -> tuple[int, int]:
    """Add the project's messages missing from ``language``'s catalogue (untranslated, with
    where they are) and mark the ones no code sends any more obsolete; (added, obsolete)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from shared.messages import catalogue_path, read_catalogue

    path = catalogue_path(language)
    catalogue = (
        read_catalogue(language)
        if path.exists()
        else Catalog(locale=language, project="Enlace", copyright_holder="Enlace")
    )
    found = project_messages(root)
    known = {str(m.id) for m in catalogue if m.id}
    added = 0
    for message, places in found.items():
        if message not in known:
            files = sorted({place.rsplit(":", 1)[0] for place in places})
            catalogue.add(message, "", auto_comments=files)
            added += 1
    # Entries flagged ``keep`` are not in the code: HTTP status phrases, pydantic's messages.
    obsolete = [
        str(m.id) for m in catalogue if m.id and "keep" not in m.flags and str(m.id) not in found
    ]
    for message in obsolete:
        catalogue.obsolete[message] = catalogue[message]
        del catalogue[message]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=100, no_location=True, sort_output=False)
    return added, len(obsolete)


if __name__ == "__main__":
    added, obsolete = update_catalogue(Path(__file__).resolve().parent.parent)
    where = "shared/locale/es/LC_MESSAGES/messages.po"
    print(f"{where}: {added} new message(s) to translate, {obsolete} made obsolete.")
