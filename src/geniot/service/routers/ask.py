"""`POST /api/ask`: questions in English or German, answered from the plant's store (the
dashboard's chat box uses it). Answering only reads (scope read); the two tools that write files
(filled gaps, synthetic data, under ``home/answers``) need a token with scope ingest or admin, and
every asset they would name a file after must pass the one name rule."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from geniot.core.exceptions import GeniotError
from geniot.core.names import check_name
from geniot.service.deps import allow_read, authorize, get_service, request_actor
from geniot.service.schemas import AskRequest
from geniot.service.state import PlantService

router = APIRouter(tags=["ask"])
_WRITING_INTENTS = ("impute", "synthesize")


@router.post("/api/ask", dependencies=[Depends(allow_read)])
def ask(body: AskRequest, request: Request, service: PlantService = Depends(get_service)) -> dict:
    assistant = service.assistant()
    question = " ".join(str(body.question).split())  # as the assistant reads it
    plan = assistant.plan(question)
    intent, slots, _ = plan
    writes = intent in _WRITING_INTENTS
    if writes:
        authorize(request, "ingest")
        try:  # the tools name their output files after these assets
            for asset in slots.assets or service.store.assets():
                check_name(asset, "asset")
        except GeniotError as exc:
            raise HTTPException(422, str(exc)) from None
    answer = assistant.ask(question, plan=plan).to_dict()
    if writes and answer.get("files"):
        service.store.record_audit(request_actor(request), "POST /api/ask", ",".join(answer["files"])[:512],
                                   f"{intent}: {body.question}")  # fmt: skip
    return answer
