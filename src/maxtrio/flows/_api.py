"""The MaxQ HTTP API as a Starlette application on the engine.

Every request body is decoded and validated here, at the boundary: malformed JSON, wrong types
and unknown ids all answer a 4xx with the contract's exact ``{"error": ...}`` body (plus
``details`` for schema violations); anything unexpected answers ``500 Internal server error``
and is logged with its traceback — never sent to the client. Paths tolerate a trailing slash
without redirecting, and unknown routes and methods answer ``404 {"error": "Not found"}``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import trio
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from maxtrio.core import MaxError

from ._auth import ApiKey, RequireApiKey
from ._dag import check_stage_graph
from ._engine import FlowEngine
from ._errors import (
    ErrRunCompleted,
    ErrRunNotFound,
    ErrRunTerminated,
    ErrStepIdTaken,
    ErrStepRunning,
)
from ._models import StepSpec
from ._names import is_valid_name, quoted
from ._requests import (
    AddLogBody,
    CreateRunBody,
    InvalidBody,
    Issue,
    PostFieldsBody,
    RetryStepBody,
    ScheduleStageBody,
    UpdateRunBody,
    parse_body,
)
from ._store import LogQuery, NewLog, RunListQuery

log = logging.getLogger("maxtrio.flows.api")

MAX_BODY_BYTES = 10 * 1024 * 1024
OFF_LOOP_BODY_BYTES = 64 * 1024  # bodies larger than this are decoded in a worker thread
MAX_SQL_INTEGER = 2**63 - 1

Endpoint = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


class ApiError(Exception):
    """An HTTP error with the contract's body: ``{"error": message}`` (+ ``details``)."""

    def __init__(self, status: int, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.message}
        if self.details is not None:
            body["details"] = self.details
        return JSONResponse(body, status_code=self.status)


def _endpoint(handler: Endpoint) -> Endpoint:
    """Turn ApiError into its response and any other exception into a logged 500."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return ApiError(500, "Internal server error").response()

    return guarded


# -- request decoding -------------------------------------------------------------------------


async def _read_raw(request: Request) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "Request body too large")
    return bytes(raw)


def _decode_body(raw: bytes, content_type: str) -> Any:
    """The decoded body: JSON (also without a Content-Type), flat form fields, or ``{}``."""
    if not raw.strip():
        return {}
    if content_type == "application/x-www-form-urlencoded":
        text = raw.decode("utf-8", errors="replace")
        if not text.lstrip().startswith("{"):
            return dict(parse_qsl(text, keep_blank_values=True))
        # ``curl -d '{...}'`` without -H sends JSON labelled as a form: accept it as JSON.
    elif content_type not in ("", "application/json") and not content_type.endswith("+json"):
        return {}
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        # Lone surrogates (``"\ud800"``) decode but cannot be stored as UTF-8 text.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise ApiError(400, "Invalid JSON in request body") from None
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as infinity, which JSON cannot carry back
        raise ValueError(f"{text} is out of range")
    return value


async def _body(
    request: Request,
    cls: type[T],
    error: str = "Invalid request",
    *,
    check: Callable[[T], None] | None = None,
) -> T:
    """Read, decode and validate the body as ``cls`` (then ``check`` it, if given).

    A large body (a stage of thousands of steps) is decoded and checked in a worker thread, so
    that one big request never stalls the others on the event loop.
    """
    raw = await _read_raw(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()

    def decode() -> T:
        try:
            body = parse_body(_decode_body(raw, content_type), cls)
        except InvalidBody as exc:
            raise ApiError(400, error, exc.issues) from None
        if check is not None:
            check(body)
        return body

    if len(raw) > OFF_LOOP_BODY_BYTES:
        return await trio.to_thread.run_sync(decode)
    return decode()


def _single_params(request: Request, names: tuple[str, ...], error: str) -> dict[str, str]:
    """Query parameters as single strings; a repeated known parameter is a 400."""
    values: dict[str, str] = {}
    issues: list[Issue] = []
    for name, value in request.query_params.multi_items():
        if name not in names:
            continue
        if name in values:
            issues.append({"path": [name], "message": "Expected string, received array"})
        values[name] = value
    if issues:
        raise ApiError(400, error, issues)
    return values


def _run_id(request: Request) -> str:
    """The run id of the URL; one that breaks the name rule is a 400 (no such run can exist)."""
    return _path_ids(request, "run_id")[0]


def _run_and_step_ids(request: Request) -> tuple[str, str]:
    run_id, step_id = _path_ids(request, "run_id", "step_id")
    return run_id, step_id


def _path_ids(request: Request, *names: str) -> list[str]:
    values = [str(request.path_params[name]) for name in names]
    issues: list[Issue] = [
        {
            "path": [_PATH_ID_LABELS[name]],
            "message": f'Invalid id: "{quoted(value)}". '
            "Only alphanumeric, underscore, and hyphen allowed.",
        }
        for name, value in zip(names, values, strict=True)
        if not is_valid_name(value)
    ]
    if issues:
        raise ApiError(400, "Invalid request", issues)
    return values


_PATH_ID_LABELS = {"run_id": "runId", "step_id": "stepId"}


def _int_param(params: dict[str, str], name: str, default: int | None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SQL_INTEGER:
        raise ApiError(
            400,
            "Invalid request",
            [{"path": [name], "message": f"Expected a non-negative integer, received {raw!r}"}],
        )
    return value


# -- endpoints ----------------------------------------------------------------------------------


class FlowsApi:
    """The endpoints of docs/flows.md, bound to one engine."""

    def __init__(self, engine: FlowEngine, *, environment: str) -> None:
        self.engine = engine
        self.store = engine.store
        self.environment = environment

    def routes(self) -> list[Route]:
        runs = "/api/v1/runs"
        table: list[tuple[str, str, Endpoint]] = [
            ("/health", "GET", self.health),
            (runs, "POST", self.create_run),
            (runs, "GET", self.list_runs),
            (runs + "/{run_id}", "GET", self.get_run),
            (runs + "/{run_id}", "PATCH", self.update_run),
            (runs + "/{run_id}/steps", "POST", self.schedule_stage),
            (runs + "/{run_id}/steps/{step_id}/fields", "POST", self.post_fields),
            (runs + "/{run_id}/fields", "GET", self.query_fields),
            (runs + "/{run_id}/abort", "POST", self.abort),
            (runs + "/{run_id}/pause", "POST", self.pause),
            (runs + "/{run_id}/resume", "POST", self.resume),
            (runs + "/{run_id}/retry", "POST", self.retry_run),
            (runs + "/{run_id}/steps/{step_id}/retry", "POST", self.retry_step),
            (runs + "/{run_id}/logs", "POST", self.add_log),
            (runs + "/{run_id}/logs", "GET", self.list_logs),
        ]
        return [
            Route(path, _endpoint(handler), methods=[method]) for path, method, handler in table
        ]

    async def health(self, request: Request) -> Response:
        healthy = await self.store.ping()
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "timestamp": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "environment": self.environment,
            "services": {"database": "connected" if healthy else "disconnected"},
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    # -- runs --------------------------------------------------------------------------------

    async def create_run(self, request: Request) -> Response:
        body: CreateRunBody = await _body(request, CreateRunBody)
        run = await self.engine.create_run(body.flow_name, body.input, body.metadata)
        return JSONResponse(
            run.to_json(), status_code=201, background=self._launch_after_response(run.id)
        )

    async def list_runs(self, request: Request) -> Response:
        params = _single_params(
            request,
            ("flowName", "status", "limit", "offset", "sortBy", "sortOrder"),
            "Invalid request",
        )
        query = RunListQuery(
            flow_name=params.get("flowName"),
            status=params.get("status"),
            limit=_int_param(params, "limit", 20) or 0,
            offset=_int_param(params, "offset", 0) or 0,
            sort_by_created=params.get("sortBy", "createdAt") == "createdAt",
            descending=params.get("sortOrder", "desc") == "desc",
        )
        runs, total = await self.store.list_runs(query)
        return JSONResponse(
            {
                "data": [run.to_json() for run in runs],
                "pagination": {"total": total, "limit": query.limit, "offset": query.offset},
            }
        )

    async def get_run(self, request: Request) -> Response:
        run = await self.store.get_run(_run_id(request))
        if run is None:
            raise ApiError(404, "Run not found")
        return JSONResponse(run.to_json())

    async def update_run(self, request: Request) -> Response:
        body: UpdateRunBody = await _body(request, UpdateRunBody)
        changes = body.changes()
        if not changes:
            raise ApiError(400, "No fields to update")
        run = await self.store.update_run(_run_id(request), changes)
        if run is None:
            raise ApiError(400, "Run not found")
        return JSONResponse(run.to_json())

    # -- stages, steps, fields ---------------------------------------------------------------

    async def schedule_stage(self, request: Request) -> Response:
        run_id = _run_id(request)
        body = await _body(request, ScheduleStageBody, check=_check_graph)
        steps = [
            StepSpec(
                id=step.id,
                name=step.name,
                depends_on=tuple(step.depends_on),
                max_retries=step.max_retries,
                env=step.env,
            )
            for step in body.steps
        ]
        try:
            scheduled = await self.engine.schedule_stage(run_id, body.stage, body.final, steps)
        except MaxError as exc:
            raise _schedule_refusal(exc) from None
        except Exception as exc:
            log.exception("scheduling stage %r of run %s failed", body.stage, run_id)
            raise ApiError(500, "Failed to create stage and steps", str(exc)) from None
        return JSONResponse(
            {
                "stage": scheduled.stage_name,
                "scheduled": len(steps),
                "steps": [{"id": s.id, "name": s.name, "status": "pending"} for s in steps],
            },
            status_code=201,
        )

    async def post_fields(self, request: Request) -> Response:
        body: PostFieldsBody = await _body(request, PostFieldsBody)
        run_id, step_id = _run_and_step_ids(request)
        completed_at = await self.store.post_step_fields(run_id, step_id, body.fields)
        if completed_at is None:
            raise ApiError(400, f"Step not found: runId={run_id}, stepId={step_id}")
        return JSONResponse(
            {"id": step_id, "runId": run_id, "fields": body.fields, "completedAt": completed_at}
        )

    async def query_fields(self, request: Request) -> Response:
        params = _single_params(request, ("stepId", "fieldName"), "Invalid query parameters")
        items = await self.store.query_fields(
            _run_id(request), params.get("stepId"), params.get("fieldName")
        )
        return JSONResponse({"fields": [item.to_json() for item in items]})

    # -- control operations ------------------------------------------------------------------

    async def abort(self, request: Request) -> Response:
        run_id = _run_id(request)
        result = await self.engine.abort(run_id)
        previous = result.outcome.previous
        if previous is None:
            raise ApiError(404, f"Run not found: {run_id}")
        if not result.outcome.applied:
            raise ApiError(400, f"Cannot abort run: already {previous.status}")
        return JSONResponse(
            {"message": "Run aborted successfully", "processesKilled": result.processes_killed}
        )

    async def pause(self, request: Request) -> Response:
        run_id = _run_id(request)
        result = await self.engine.pause(run_id)
        previous = result.outcome.previous
        if previous is None:
            raise ApiError(404, f"Run not found: {run_id}")
        if not result.outcome.applied:
            raise ApiError(400, f"Cannot pause run: already {previous.status}")
        return JSONResponse(
            {"message": "Run paused successfully", "processesKilled": result.processes_killed}
        )

    async def resume(self, request: Request) -> Response:
        run_id = _run_id(request)
        outcome = await self.engine.resume(run_id)
        if outcome.previous is None:
            raise ApiError(404, f"Run not found: {run_id}")
        if not outcome.applied or outcome.current is None:
            raise ApiError(
                400,
                f"Run cannot be resumed: status is '{outcome.previous.status}' "
                "(only paused runs can be resumed)",
            )
        return JSONResponse(
            {"run": outcome.current.to_json(), "message": "Run resumed successfully"},
            background=self._launch_after_response(run_id),
        )

    async def retry_run(self, request: Request) -> Response:
        run_id = _run_id(request)
        outcome = await self.engine.retry_run(run_id)
        previous = outcome.previous
        if previous is None:
            raise ApiError(404, f"Run not found: {run_id}")
        if not outcome.applied or outcome.current is None:
            if previous.status == "completed":
                raise ApiError(
                    400,
                    "Run cannot be retried: status is 'completed' "
                    "(completed runs cannot be retried)",
                )
            raise ApiError(
                409,
                "Run cannot be retried: run is still in progress (status: 'running'). "
                "Abort the run first.",
            )
        return JSONResponse(
            {"run": outcome.current.to_json(), "message": "Run retry initiated"},
            background=self._launch_after_response(run_id),
        )

    async def retry_step(self, request: Request) -> Response:
        body: RetryStepBody = await _body(request, RetryStepBody, "Invalid request body")
        run_id, step_id = _run_and_step_ids(request)
        outcome = await self.engine.retry_step(run_id, step_id, body.cascade_downstream)
        run = outcome.run
        if run is None:
            raise ApiError(404, f"Run not found: {run_id}")
        if run.status == "completed":
            raise ApiError(
                400, "Cannot retry step: run is completed (completed runs cannot be modified)"
            )
        if run.status == "running" and run.termination_reason is None:
            raise ApiError(
                400, "Cannot retry step: run is actively running (pause or abort the run first)"
            )
        if outcome.step is None:
            raise ApiError(404, f"Step not found: {step_id} in run {run_id}")
        if not outcome.applied:
            raise ApiError(
                400,
                f"Cannot retry step: status is '{outcome.step.status}' "
                "(only failed steps can be retried)",
            )
        message = "Step retried successfully"
        if outcome.cascaded:
            message += f" ({len(outcome.cascaded)} dependent steps also reset)"

        async def wake() -> None:
            self.engine.wake_scheduler()

        return JSONResponse(
            {
                "step": outcome.step.to_json(),
                "cascadedSteps": [step.to_json() for step in outcome.cascaded],
                "message": message,
            },
            background=BackgroundTask(wake),
        )

    # -- logs ----------------------------------------------------------------------------------

    async def add_log(self, request: Request) -> Response:
        body: AddLogBody = await _body(request, AddLogBody)
        entry = await self.store.add_log(
            _run_id(request),
            NewLog(
                entity_type=body.entity_type,
                level=body.level,
                message=body.message,
                entity_id=body.entity_id,
                metadata=body.metadata,
            ),
        )
        if entry is None:
            raise ApiError(404, "Run not found")
        return JSONResponse(entry.to_json(), status_code=201)

    async def list_logs(self, request: Request) -> Response:
        params = _single_params(
            request,
            ("entityType", "entityId", "level", "before", "after", "limit"),
            "Invalid request",
        )
        query = LogQuery(
            entity_type=params.get("entityType"),
            entity_id=params.get("entityId"),
            level=params.get("level"),
            before=_int_param(params, "before", None),
            after=_int_param(params, "after", None),
            limit=_int_param(params, "limit", 100) or 0,
        )
        logs = await self.store.list_logs(_run_id(request), query)
        return JSONResponse({"logs": [entry.to_json() for entry in logs], "count": len(logs)})

    # -- helpers --------------------------------------------------------------------------------

    def _launch_after_response(self, run_id: str) -> BackgroundTask:
        async def launch() -> None:
            self.engine.launch_initial_call(run_id)

        return BackgroundTask(launch)


def _check_graph(body: ScheduleStageBody) -> None:
    """Duplicate ids, unknown dependencies and cycles (linear in steps plus edges)."""
    try:
        check_stage_graph([(step.id, step.depends_on) for step in body.steps])
    except MaxError as exc:
        raise ApiError(400, exc.message) from None


def _schedule_refusal(exc: MaxError) -> ApiError:
    if ErrRunNotFound.matches(exc):
        return ApiError(404, "Run not found")
    if ErrRunTerminated.matches(exc) or ErrRunCompleted.matches(exc):
        return ApiError(400, exc.message)
    if ErrStepRunning.matches(exc) or ErrStepIdTaken.matches(exc):
        return ApiError(409, exc.message)
    raise exc


class _StripTrailingSlash:
    """``/api/v1/runs/`` is ``/api/v1/runs``: scripts use curl without ``-L``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "Not found"}, status_code=404)


def create_app(engine: FlowEngine, *, environment: str, api_key: ApiKey | None = None) -> ASGIApp:
    """The ASGI application serving ``engine``; with ``api_key``, requests must carry it."""
    api = FlowsApi(engine, environment=environment)
    app = Starlette(routes=api.routes(), exception_handlers={404: _not_found, 405: _not_found})
    app.router.redirect_slashes = False
    served = _StripTrailingSlash(app)
    return served if api_key is None else RequireApiKey(served, api_key)
