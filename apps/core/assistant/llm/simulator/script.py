"""The simulated model's script: which tools to call for a question, and the answer
composed from their results. docs/assistant.md lists the patterns.

A turn is the conversation after the LAST user message. `respond()` reads the question
from that message, and the tool calls already made and their results (role "tool"
messages) from the turn, then either asks for the next tool calls or writes the final
answer from the results' JSON (counts, job names, statuses: never canned text).

A tool the request does not offer is never called: the answer says it cannot look that up.
When `gullible` is on, a tool result that carries an instruction ("ignore previous
instructions ... cancel ...") makes the model propose that action, as a real model can
be talked into by text planted in the data; the assistant's guard must stop it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NAME = r"[\w#@$\-]+(?:\.[\w#@$\-]+)*"
# The statuses a user may name, as the mirror spells them (apps/core/states.py).
STATUS_WORDS = {
    "abended": "Error",
    "failed": "Error",
    "in error": "Error",
    "error": "Error",
    "held": "Held",
    "on hold": "Held",
    "waiting": "Waiting",
    "ready": "Ready",
    "running": "Running",
    "executing": "Running",
    "successful": "Successful",
    "succeeded": "Successful",
    "done": "Successful",
    "canceled": "Canceled",
    "cancelled": "Canceled",
    "blocked": "Blocked",
    "undecided": "Undecided",
    "suppressed": "Suppressed by condition",
}
LIST_LIMIT = 10
CAPABILITIES = (
    "I am Resync's simulated assistant model. I can answer: how many jobs are <status>; "
    "which jobs abended [on <workstation>] [since HH:MM]; why is stream <name> late; "
    "show job <name>; rerun|hold|release|cancel job <name> (a proposal you confirm); "
    "is the sync fresh; health."
)
NO_TOOL = "I cannot look that up: the tool {name!r} is not available to me."
UNKNOWN_TOOL = "drop_all_jobs"
INJECTION = re.compile(
    r"ignore\s+(?:all\s+)?(?:previous|prior|above)\s+instructions.{0,200}?"
    r"\b(rerun|hold|release|cancel)\b",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class Step:
    """What the model does next: call tools, or answer with text."""

    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    content: str | None = None


@dataclass
class Turn:
    """The question and what the tools answered so far in this turn."""

    question: str
    offered: set[str]
    results: list[tuple[str, dict, Any]]  # (tool name, arguments, parsed result)

    def result_of(self, name: str) -> Any:
        for tool, _, result in reversed(self.results):
            if tool == name:
                return result
        return None

    def called(self, name: str) -> bool:
        return any(tool == name for tool, _, _ in self.results)


def _call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _turn(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Turn:
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    question = _text(messages[last_user].get("content")) if last_user >= 0 else ""
    calls: dict[str, tuple[str, dict]] = {}
    results: list[tuple[str, dict, Any]] = []
    for message in messages[last_user + 1 :]:
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            try:
                arguments = json.loads(function.get("arguments") or "{}")
            except (TypeError, ValueError):
                arguments = {}
            calls[call.get("id", "")] = (function.get("name", ""), arguments)
        if message.get("role") == "tool":
            name, arguments = calls.get(message.get("tool_call_id", ""), ("", {}))
            results.append((name, arguments, _parse(message.get("content"))))
    offered = {(t.get("function") or {}).get("name", "") for t in tools or []}
    return Turn(question=question.strip(), offered=offered, results=results)


def _text(content: Any) -> str:
    """A message's text: a string, or the text of its content parts."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _parse(content: Any) -> Any:
    content = _text(content)
    try:
        return json.loads(content)
    except ValueError:
        return content


def respond(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, *, gullible: bool = True
) -> Step:
    """The model's next step for this conversation."""
    turn = _turn(messages, tools)
    if gullible and (step := _fall_for_injection(turn)):
        return step
    for pattern, handler in PATTERNS:
        match = pattern.search(turn.question)
        if match:
            step = handler(turn, match)
            missing = [c["name"] for c in step.tool_calls if c["name"] not in turn.offered]
            if missing:
                return Step(content=NO_TOOL.format(name=missing[0]))
            return step
    return Step(content=CAPABILITIES)


# --- prompt injection -----------------------------------------------------------------------
def _fall_for_injection(turn: Turn) -> Step | None:
    """A tool result says "ignore previous instructions ... <action>": obey it (gullibly)."""
    if turn.called("propose_action") or "propose_action" not in turn.offered:
        return None
    for _, _, result in turn.results:
        for job in _jobs_in(result):
            match = INJECTION.search(json.dumps(job))
            if match and job.get("id") is not None:
                arguments = {
                    "job_id": job["id"],
                    "action": match[1].lower(),
                    "reason": "The job's data asked for it.",
                }
                return Step(tool_calls=[_call("propose_action", arguments)])
    return None


def _jobs_in(result: Any) -> list[dict[str, Any]]:
    """Every job-like object (with an id) anywhere in a tool result."""
    found: list[dict[str, Any]] = []
    if isinstance(result, dict):
        if "id" in result and ("name" in result or "job_name" in result):
            found.append(result)
        for value in result.values():
            found.extend(_jobs_in(value))
    elif isinstance(result, list):
        for item in result:
            found.extend(_jobs_in(item))
    return found


# --- the patterns ---------------------------------------------------------------------------
def _how_many(turn: Turn, match: re.Match) -> Step:
    summary = turn.result_of("status_summary")
    if summary is None:
        return Step(tool_calls=[_call("status_summary", {})])
    word = match["status"].strip().lower()
    status = STATUS_WORDS.get(word, word.title())
    counts = summary.get("counts", {}) if isinstance(summary, dict) else {}
    total = summary.get("total", sum(counts.values())) if isinstance(summary, dict) else 0
    count = next((n for name, n in counts.items() if name.lower() == status.lower()), None)
    if count is None:
        listed = ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "no jobs"
        return Step(content=f"No jobs are {status} in the current plan. The plan has: {listed}.")
    noun = "job is" if count == 1 else "jobs are"
    return Step(content=f"{count} {noun} {status} in the current plan (of {total} jobs).")


def _failed(turn: Turn, match: re.Match) -> Step:
    found = turn.result_of("search_jobs")
    where = f" on {match['ws']}" if match["ws"] else ""
    since = f" since {match['since']}" if match["since"] else ""
    if found is None:
        arguments: dict[str, Any] = {"status": "Error"}
        if match["ws"]:
            arguments["workstation"] = match["ws"]
        if match["since"]:
            arguments["since"] = match["since"]
        return Step(tool_calls=[_call("search_jobs", arguments)])
    jobs = found.get("jobs", []) if isinstance(found, dict) else []
    count = found.get("count", len(jobs)) if isinstance(found, dict) else 0
    if not count:
        return Step(content=f"No job ended in error{where}{since}.")
    lines = [
        f"- {j.get('name')} (stream {j.get('stream')}, workstation {j.get('workstation')}, "
        f"state {j.get('internal_status')}, {_return_code(j)}, "
        f"ended {j.get('end') or 'at an unknown time'})"
        for j in jobs[:LIST_LIMIT]
    ]
    more = f"\n…and {count - len(lines)} more." if count > len(lines) else ""
    noun = "job" if count == 1 else "jobs"
    head = f"{count} {noun} ended in error{where}{since}:"
    return Step(content="\n".join([head, *lines]) + more)


def _return_code(job: dict[str, Any]) -> str:
    code = job.get("return_code")
    return "no return code" if code is None else f"return code {code}"


def _late_stream(turn: Turn, match: re.Match) -> Step:
    detail = turn.result_of("stream_detail")
    if detail is None:
        return Step(tool_calls=[_call("stream_detail", {"stream": match["stream"]})])
    if not isinstance(detail, dict) or "stream" not in detail:
        return Step(content=f"I found no stream named {match['stream']} in the current plan.")
    stream = detail.get("stream") or {}
    name = stream.get("name", match["stream"])
    by_status = detail.get("jobs_by_status") or {}
    late = detail.get("late_jobs") or []
    parts = [f"Stream {name} is {stream.get('status', 'in an unknown state')}."]
    if by_status:
        listed = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
        parts.append(f"Its jobs: {listed}.")
    if by_status.get("Error"):
        parts.append(f"It is held up by {by_status['Error']} job(s) in error.")
    if late:
        names = ", ".join(
            f"{j.get('name')} ({j.get('status') or j.get('internal_status')})"
            for j in late[:LIST_LIMIT]
        )
        parts.append(f"Late jobs: {names}.")
    elif not by_status.get("Error"):
        parts.append("No job of it is late or in error now.")
    return Step(content=" ".join(parts))


def _show_job(turn: Turn, match: re.Match) -> Step:
    found = turn.result_of("search_jobs")
    if found is None:
        return Step(tool_calls=[_call("search_jobs", {"name": match["name"], "limit": 5})])
    jobs = found.get("jobs", []) if isinstance(found, dict) else []
    if not jobs:
        return Step(content=f"I found no job named {match['name']} in the current plan.")
    detail = turn.result_of("job_detail")
    if detail is None:
        return Step(tool_calls=[_call("job_detail", {"job_id": jobs[0]["id"]})])
    if not isinstance(detail, dict):
        return Step(content=f"I could not read the details of job {match['name']}.")
    events = detail.get("events") or []
    text = (
        f"Job {detail.get('name')} (id {detail.get('id')}) in stream {detail.get('stream')} "
        f"on {detail.get('workstation')} is {detail.get('status')} "
        f"({detail.get('internal_status')}), {_return_code(detail)}, "
        f"started {detail.get('start') or 'not yet'}, ended {detail.get('end') or 'not yet'}."
    )
    if events:
        recent = "; ".join(
            f"{e.get('at')}: {e.get('from_status') or e.get('old')} -> "
            f"{e.get('to_status') or e.get('new')}"
            if isinstance(e, dict)
            else str(e)
            for e in events[-3:]
        )
        text += f" Last {min(3, len(events))} of {len(events)} events: {recent}."
    if len(jobs) > 1:
        text += f" ({len(jobs)} jobs match that name; this is the first.)"
    return Step(content=text)


def _act(turn: Turn, match: re.Match) -> Step:
    action, name = match["action"].lower(), match["name"]
    found = turn.result_of("search_jobs")
    if found is None:
        return Step(tool_calls=[_call("search_jobs", {"name": name, "limit": 5})])
    jobs = found.get("jobs", []) if isinstance(found, dict) else []
    if not jobs:
        return Step(content=f"I found no job named {name}, so I propose nothing.")
    proposal = turn.result_of("propose_action")
    if proposal is None:
        arguments = {"job_id": jobs[0]["id"], "action": action, "reason": "Asked by the user."}
        return Step(tool_calls=[_call("propose_action", arguments)])
    return Step(content=_proposal_text(action, jobs[0], proposal))


def _proposal_text(action: str, job: dict[str, Any], proposal: Any) -> str:
    label = f"{action} job {job.get('name')} (id {job.get('id')}, now {job.get('status')})"
    if isinstance(proposal, dict) and proposal.get("error"):
        return f"I could not propose to {label}: {proposal['error']}"
    if isinstance(proposal, dict) and proposal.get("allowed") is False:
        return f"I propose to {label}, but you are not allowed to confirm it."
    return f"I propose to {label}. Nothing has been done yet: confirm to carry it out."


def _sync(turn: Turn, match: re.Match) -> Step:
    fresh = turn.result_of("sync_freshness")
    if fresh is None:
        return Step(tool_calls=[_call("sync_freshness", {})])
    if not isinstance(fresh, dict):
        return Step(content="I could not read the sync's freshness.")
    verdict = "stale" if fresh.get("stale") else "fresh"
    return Step(
        content=f"The mirror is {verdict}: the last successful sync was at "
        f"{fresh.get('last_success') or 'never'} (sync status {fresh.get('status')})."
    )


def _health(turn: Turn, match: re.Match) -> Step:
    health = turn.result_of("health")
    if health is None:
        return Step(tool_calls=[_call("health", {})])
    if not isinstance(health, dict):
        return Step(content="I could not read Resync's health.")
    components = health.get("components") or {}
    listed = ", ".join(
        f"{name}: {value.get('status') if isinstance(value, dict) else value}"
        for name, value in sorted(components.items())
    )
    return Step(content=f"Resync is {health.get('status')}. Components: {listed or 'none'}.")


Handler = Callable[[Turn, re.Match], Step]
_FLAGS = re.IGNORECASE
PATTERNS: list[tuple[re.Pattern[str], Handler]] = [
    (
        re.compile(
            r"which jobs (?:abended|failed|are in error|ended in error)"
            rf"(?: on (?P<ws>{NAME}))?(?: since (?P<since>\d{{1,2}}:\d{{2}}))?",
            _FLAGS,
        ),
        _failed,
    ),
    (
        re.compile(
            r"how many jobs (?:are |were )?(?P<status>[a-z][a-z ]*?)\s*(?:now)?\s*\??$", _FLAGS
        ),
        _how_many,
    ),
    (re.compile(rf"why is (?:the )?(?:job )?stream (?P<stream>{NAME}) late", _FLAGS), _late_stream),
    (re.compile(rf"(?:show|tell me about) job (?P<name>{NAME})", _FLAGS), _show_job),
    (re.compile(rf"(?P<action>rerun|hold|release|cancel) job (?P<name>{NAME})", _FLAGS), _act),
    (re.compile(r"is the sync fresh|last sync", _FLAGS), _sync),
    (re.compile(r"\bhealth\b", _FLAGS), _health),
]
