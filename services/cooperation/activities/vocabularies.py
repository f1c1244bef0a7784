"""Labels of the codes the API uses (codes in data, labels from here): the IATI codelists in
English, Spanish where Enlace has it (``data/labels_es.json``), and Peru's departments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel

from services.cooperation.activities.codes import DEPARTMENTS, labels, spanish_labels
from shared.problems import Problem

# Vocabulary name in the API -> IATI codelist.
CODELISTS = {
    "activity-status": "ActivityStatus",
    "organisation-role": "OrganisationRole",
    "organisation-type": "OrganisationType",
    "sector": "Sector",
    "sector-vocabulary": "SectorVocabulary",
    "policy-marker": "PolicyMarker",
    "policy-significance": "PolicySignificance",
    "budget-type": "BudgetType",
    "budget-status": "BudgetStatus",
    "transaction-type": "TransactionType",
    "result-type": "ResultType",
    "indicator-measure": "IndicatorMeasure",
    "document-category": "DocumentCategory",
    "currency": "Currency",
}
VISIBILITY_EN = {
    "public": "Public",
    "partners": "Partners (any authenticated caller)",
    "participants": "Participants only",
}


class Term(BaseModel):
    code: str
    en: str
    es: str | None


class Vocabulary(BaseModel):
    name: str
    source: str
    terms: list[Term]


def vocabulary(name: str) -> Vocabulary:
    """One vocabulary by its API name (404 problem when unknown)."""
    if name == "department":
        terms = [Term(code=c, en=n, es=n) for c, n in DEPARTMENTS.items()]
        return Vocabulary(name=name, source="INEI (ubigeo, first two digits)", terms=terms)
    if name == "visibility":
        es = spanish_labels()["Visibility"]
        terms = [Term(code=c, en=n, es=es.get(c)) for c, n in VISIBILITY_EN.items()]
        return Vocabulary(name=name, source="Enlace", terms=terms)
    codelist = CODELISTS.get(name)
    if codelist is None:
        raise Problem(
            404, "not-found", "No vocabulary with that name; see /v1/public/vocabularies."
        )
    es = spanish_labels().get(codelist, {})
    terms = [Term(code=c, en=n, es=es.get(c)) for c, n in labels(codelist).items()]
    return Vocabulary(name=name, source=f"IATI 2.03 codelist {codelist}", terms=terms)


router = APIRouter(prefix="/v1/public/vocabularies", tags=["vocabularies"])
NAMES = sorted([*CODELISTS, "department", "visibility"])


@router.get(
    "",
    summary="Vocabulary names",
    description="The code lists whose labels (English, Spanish where available) are served.",
)
async def list_vocabularies() -> list[str]:
    """Names of the vocabularies."""
    return NAMES


@router.get(
    "/{name}",
    summary="A vocabulary",
    description="Codes with their English and Spanish labels (codes are what the data holds).",
    responses={
        404: {"description": "No such vocabulary", "content": {"application/problem+json": {}}}
    },
)
async def get_vocabulary(
    name: Annotated[str, PathParam(max_length=40, pattern=r"^[a-z-]+$")],
) -> Vocabulary:
    """One vocabulary."""
    return vocabulary(name)
