"""`/api/v1`: the platform's back end files cases, attaches records, reads status and
manages its webhooks. Documented by the OpenAPI schema Litestar serves at
`/schema/openapi.json`.

Every route is behind `api_key_guard`: a key in `Authorization: Bearer`, the route's
scope on that key, and a request left in the key's minute. A session cookie is never
looked at, and the routes are exempt from CSRF for that reason (see `portal.app`).
Handlers are thin: one service call each; errors become problem details
(`portal.web.problems`).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Router, delete, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from portal.cases.uploads import receive_form
from portal.errors import FormInvalid
from portal.integrations import filing, records, webhooks
from portal.integrations.keys import (
    ATTACH_RECORDS,
    FILE_CASES,
    MANAGE_WEBHOOKS,
    READ_STATUS,
    ApiCaller,
    authenticate,
)
from portal.integrations.rate_limit import count_request
from portal.integrations.schemas import (
    AttachedRecords,
    CaseStatus,
    CreatedWebhook,
    FiledCase,
    JsonRecord,
    NewCase,
    NewWebhook,
    Webhook,
)
from portal.integrations.status import case_status

API_PATH = "/api/v1"
SECURITY_SCHEME = "apiKey"
JSON_BODY_LIMIT = 1024 * 1024

Req = Request[Any, Any, Any]
Caller = NamedDependency[ApiCaller]
RowId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]  # what an SQL INTEGER holds


async def api_key_guard(connection: ASGIConnection[Any, Any, Any, Any],
                        handler: BaseRouteHandler) -> None:  # fmt: skip
    """Authenticate the key, count the request against its rate, check the route's scope."""
    caller = await authenticate(connection.headers.get("authorization"))
    await count_request(caller.key_id, connection.app.state.settings.api_rate_per_minute)
    caller.require(handler.opt["scope"])
    connection.state.api_caller = caller


def provide_caller(request: Req) -> ApiCaller:
    caller: ApiCaller = request.state.api_caller
    return caller


class CasesApi(Controller):
    path = "/cases"

    @post(
        "/",
        opt={"scope": FILE_CASES},
        status_code=HTTP_201_CREATED,
        summary="File a case for a user",
        description="The same fields and checks as the portal's filing form. A user "
        "without an account gets one, and an email with a single-use link to choose a "
        "password. Needs the scope `cases:file`.",
    )
    async def file(self, request: Req, caller: Caller, data: JSONBody[NewCase]) -> FiledCase:
        done = await filing.file_for_user(request.app.state.keyring, caller, data)
        return FiledCase(
            ref=done.filed.ref,
            claimant_account_created=done.claimant_is_new,
            status=await case_status(done.filed.ref),
        )

    @get(
        "/{ref:str}",
        opt={"scope": READ_STATUS},
        summary="Read a case's state, deadline and outcome",
        description="Needs the scope `cases:read`.",
    )
    async def status(self, ref: str) -> CaseStatus:
        return await case_status(ref)

    @post(
        "/{ref:str}/records",
        opt={"scope": ATTACH_RECORDS},
        status_code=HTTP_201_CREATED,
        summary="Attach a platform record given as JSON",
        description="Kept as a `.json` evidence file of the record's canonical bytes "
        "(RFC 8785), marked as a platform record; the ledger entry names the key. Up to "
        "1 MiB. Needs the scope `records:attach`.",
    )
    async def attach_json(self, request: Req, caller: Caller, ref: str,
                          data: JSONBody[JsonRecord]) -> AttachedRecords:  # fmt: skip
        settings = request.app.state.settings
        return await records.attach_json(
            request.app.state.keyring, caller, ref, data, settings.data_dir,
            settings.evidence_types,
        )  # fmt: skip

    @post(
        "/{ref:str}/records/files",
        opt={"scope": ATTACH_RECORDS},
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,  # each file is limited as it streams in
        summary="Attach platform records given as files",
        description="A `multipart/form-data` body: one or more parts named `files`, and "
        "optionally `channel` (`all`, the default, or `staff`). Each file is limited to "
        "PORTAL_MAX_UPLOAD_MB and checked by its bytes against the accepted kinds. "
        "Needs the scope `records:attach`.",
    )
    async def attach_files(self, request: Req, caller: Caller, ref: str) -> AttachedRecords:
        case = await records.open_case(ref)
        settings = request.app.state.settings
        received = await receive_form(
            request,
            data_dir=settings.data_dir,
            max_file_bytes=settings.max_upload_mb * 1024 * 1024,
            check_csrf=None,
        )
        try:
            if received.rejected:
                raise FormInvalid({"files": " ".join(r.reason for r in received.rejected)})
            channel = received.fields.get("channel", "all").strip() or "all"
            return await records.attach(
                request.app.state.keyring, caller, case, received.files, channel
            )
        except BaseException:
            await received.discard()
            raise


class WebhooksApi(Controller):
    path = "/webhooks"
    opt = {"scope": MANAGE_WEBHOOKS}  # noqa: RUF012 (Litestar reads it from the class)

    @get("/", summary="List the integration's webhooks")
    async def list_webhooks(self, caller: Caller) -> list[Webhook]:
        return await webhooks.listed(caller.integration_id)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Register a webhook",
        description="Events: `case.state_changed`, `case.outcome_recorded`, "
        "`case.remedy_due` (all three when `events` is left out). The `secret` that signs "
        "the deliveries is in this answer only. Each delivery carries `X-Portal-Signature: "
        't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` and '
        "`X-Portal-Event-Id`, the same on every retry.",
    )
    async def register(
        self, request: Req, caller: Caller, data: JSONBody[NewWebhook]
    ) -> CreatedWebhook:
        settings = request.app.state.settings
        events: list[str] | None = None if data.events is None else [*data.events]
        return await webhooks.register(
            caller,
            data.url,
            events,
            settings.secret_key,
            settings.is_production,
            settings.webhook_private_addresses,
        )

    @delete(
        "/{webhook_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a webhook",
        description="Nothing more is sent to it, including deliveries still waiting.",
    )
    async def remove(self, caller: Caller, webhook_id: RowId) -> None:
        await webhooks.remove(caller.integration_id, webhook_id)


def api_router() -> Router:
    return Router(
        path=API_PATH,
        route_handlers=[CasesApi, WebhooksApi],
        guards=[api_key_guard],
        dependencies={"caller": Provide(provide_caller, sync_to_thread=False)},
        security=[{SECURITY_SCHEME: []}],
        tags=["API v1"],
        request_max_body_size=JSON_BODY_LIMIT,
    )
