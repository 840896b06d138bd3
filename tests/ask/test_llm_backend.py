"""The OpenAI-compatible backend against a scripted chat-completions server on loopback (no LLM
runs here): geniot sends its tool schemas, checks the model's arguments against the plant before a
tool runs, feeds the results back and names the tools in the answer."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from geniot.ask.llm import LLMAssistant


class _Scripted(BaseHTTPRequestHandler):
    replies: list[dict] = []
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        reply = type(self).replies.pop(0)
        data = json.dumps({"choices": [{"message": reply}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def endpoint():
    server = HTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Scripted.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _call(name, args, call_id="c1"):
    return {"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}


def test_tool_call_grounded_answer(endpoint, assistant):
    _Scripted.replies = [
        _call("signal_statistic", {"assets": ["P-1"], "signal": "flow_m3h", "statistic": "max", "range": ["2026-01-05T00:00:00", "2026-01-06T00:00:00"]}),
        {"role": "assistant", "content": "The maximum flow of P-1 on Monday was as the tool says."},
    ]
    answer = LLMAssistant(assistant, url=endpoint, model="test").ask("max flow of P-1 on Monday?")
    first, second = _Scripted.requests
    assert {t["function"]["name"] for t in first["tools"]} >= {"list_anomalies", "signal_statistic", "forecast", "what_if"}
    tool_msg = second["messages"][-1]
    assert tool_msg["role"] == "tool" and json.loads(tool_msg["content"])["values"]["values"]["P-1"] > 0
    assert answer.backend == "llm" and answer.tool == "signal_statistic" and "(tools: signal_statistic)" in answer.text
    assert answer.values["signal_statistic"]["values"]["P-1"] == json.loads(tool_msg["content"])["values"]["values"]["P-1"]


def test_arguments_outside_the_plant_are_refused_before_any_query(endpoint, assistant):
    _Scripted.replies = [
        _call("signal_statistic", {"assets": ["P-1'; DROP TABLE readings; --"], "signal": "flow_m3h", "statistic": "mean"}),
        {"role": "assistant", "content": "I could not get that."},
    ]
    before = assistant.plant.store.count()
    answer = LLMAssistant(assistant, url=endpoint, model="test").ask("mean flow?")
    tool_msg = _Scripted.requests[1]["messages"][-1]
    assert "unknown assets" in json.loads(tool_msg["content"])["error"]
    assert answer.refused and answer.tool is None and assistant.plant.store.count() == before
