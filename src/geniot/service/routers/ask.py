"""`POST /api/ask`: questions in English or German, answered from the plant's store (the
dashboard's chat box uses it). Answering only reads; the two tools that write files (filled
gaps, synthetic data) need the token like every other write."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials

from geniot.service.deps import _bearer, allow_read, get_service, require_token
from geniot.service.schemas import AskRequest
from geniot.service.state import PlantService

router = APIRouter(tags=["ask"])
_WRITING_INTENTS = ("impute", "synthesize")


@router.post("/api/ask", dependencies=[Depends(allow_read)])
def ask(
    body: AskRequest,
    service: PlantService = Depends(get_service),
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> dict:
    assistant = service.assistant()
    intent, _, _ = assistant.plan(body.question)
    if intent in _WRITING_INTENTS:
        require_token(credentials, service)
    return assistant.ask(body.question).to_dict()
