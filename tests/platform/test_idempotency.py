"""A write retried with the same Idempotency-Key gets the first answer instead of creating work twice."""

from __future__ import annotations

from switchboard.chat.models import ChatTask
from switchboard.ingestion.models import Document
from tests.support.accounts import multipart


async def test_retried_chat_start_replays_the_first_answer(signup):
    ada = await signup()
    headers = {"Idempotency-Key": "ask-1"}
    first = await ada.post("/api/v1/chat/stream", json={"message": "hello there"}, headers=headers)
    again = await ada.post("/api/v1/chat/stream", json={"message": "hello there"}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert await again.get_json() == await first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await ChatTask.filter(user_id=ada.user_id).count() == 1
    other = await ada.post("/api/v1/chat/stream", json={"message": "something else"}, headers=headers)
    assert other.status_code == 422 and (await other.get_json())["error"] == "idempotency_mismatch"


async def test_keys_belong_to_their_user(signup):
    ada, bob = await signup(), await signup()
    headers = {"Idempotency-Key": "same-key"}
    a = await ada.post("/api/v1/chat/stream", json={"message": "hello"}, headers=headers)
    b = await bob.post("/api/v1/chat/stream", json={"message": "hello"}, headers=headers)
    assert (await a.get_json())["task_id"] != (await b.get_json())["task_id"]


async def test_a_refused_request_is_handled_again_on_retry(signup):
    ada = await signup()
    headers = {"Idempotency-Key": "upload-1"}
    for _ in range(2):
        body, content_type = multipart("a.txt", b"")
        refused = await ada.post(
            "/api/v1/documents/upload", data=body, headers={**headers, "Content-Type": content_type}
        )
        assert refused.status_code == 422 and "Idempotent-Replayed" not in refused.headers
    assert await Document.all().count() == 0


async def test_retried_upload_is_one_document(signup):
    ada = await signup()
    headers = {"Idempotency-Key": "upload-2"}
    answers = []
    for _ in range(2):
        body, content_type = multipart("notes.txt", b"Some notes.")
        response = await ada.post(
            "/api/v1/documents/upload", data=body, headers={**headers, "Content-Type": content_type}
        )
        answers.append((response.status_code, await response.get_json()))
    assert answers[0] == answers[1] and answers[0][0] == 202
    assert await Document.all().count() == 1
