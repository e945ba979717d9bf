"""The application factory: settings, database, ledger keys, routes and background work.

`create_app` is what `portal serve` gives uvicorn; each worker process builds its own
app, and nothing a worker keeps in memory is needed by another: sessions, locks, the
mail queue and the ledger's head all live in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_503_SERVICE_UNAVAILABLE
from piccolo.engine.base import Engine

import portal.listeners  # noqa: F401  (every after-a-move hook, before any case moves)
from arbitration.constitution_controllers import (
    ArbitratorInvitationController,
    ConstitutionController,
)
from arbitration.tribunal_controllers import TribunalController
from ledger.errors import LedgerError
from ledger.integrator import run_integrator
from ledger.keys import Keyring, publish_keys
from ledger.tables import LedgerCheckpoint
from mediation.controllers import (
    MediationController,
    MediatorInvitationController,
    NeutralProfileController,
    RosterController,
)
from portal.accounts.admin_controllers import AdminUsersController
from portal.accounts.controllers import AccountController
from portal.accounts.link_controllers import InvitationController, PasswordResetController
from portal.accounts.settings_controllers import SettingsController
from portal.casefile.controllers import CaseFileController, VerifyController
from portal.cases.controllers import CaseController
from portal.cases.evidence_controllers import EvidenceController
from portal.cases.policy_controllers import DeadlinePolicyController
from portal.cases.queue_controllers import QueueController
from portal.cases.sweep import run_sweeper
from portal.dashboard.controllers import DashboardController
from portal.database import bind_tables, connected, create_engine
from portal.errors import as_portal_error
from portal.integrations.api_controllers import API_PATH, SECURITY_SCHEME, api_router
from portal.integrations.delivery import run_deliverer
from portal.integrations.staff_controllers import IntegrationsController
from portal.ledger_routes import LedgerController
from portal.notifications.controllers import NotificationController
from portal.notifications.delivery import run_mailer
from portal.notifications.notify import use_base_url
from portal.settings import Settings
from portal.tables import ALL_TABLES
from portal.web.headers import security_headers
from portal.web.pages import handle_error, template_config
from portal.web.path_ids import path_ids_in_range
from portal.web.problems import is_api, problem
from portal.web.same_origin import same_origin_only
from portal.web.sent_once import answer_a_copy, sent_once_middleware
from portal.web.sessions import DatabaseStore, session_config
from portal.web.viewer import viewer_middleware, viewer_of

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
MAIL_INTERVAL = 1.0  # seconds between a worker's looks for mail to send
SWEEP_INTERVAL = 60.0  # seconds between a worker's sweeps for deadline reminders


@get("/healthz", media_type=MediaType.JSON, cache=False)
async def healthz() -> Response[dict[str, str]]:
    """Up, and the database answers."""
    try:
        await LedgerCheckpoint.count()
    except Exception as exc:  # any database failure means "not healthy"
        return Response(
            {"status": "unavailable", "database": type(exc).__name__},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response({"status": "ok", "database": "ok"})


@get("/", include_in_schema=False)
async def home(request: Request[object, object, State]) -> Redirect:
    return Redirect("/cases" if viewer_of(request) else "/login", status_code=303)


def ledger_error(_: Request[object, object, State], exc: Exception) -> Response[dict[str, str]]:
    """Domain errors of the ledger are the caller's to fix: 400 with the reason."""
    return Response(
        {"title": "Bad request", "detail": str(exc)},
        status_code=HTTP_400_BAD_REQUEST,
        media_type="application/problem+json",
    )


def any_error(request: Request[object, object, State], exc: Exception) -> Response[object]:
    """The API answers in problem details; the pages answer with a page."""
    translated = as_portal_error(exc)
    if translated is not exc:
        # The person gets a message to act on; the operator, the cause.
        log.warning("%s %s: %r", request.method, request.url.path, exc)
        exc = translated
    if is_api(request):
        return problem(request, exc)  # type: ignore[return-value]
    return handle_error(request, exc)


async def before_each_request(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Litestar runs one `before_request` per handler: an id no row can have is a 404
    first, then a copy of a form recorded earlier gets its answer before its handler."""
    await path_ids_in_range(request)
    return await answer_a_copy(request)


def route_handlers() -> list[Any]:
    return [
        healthz,
        home,
        LedgerController,
        AccountController,
        SettingsController,
        InvitationController,
        PasswordResetController,
        AdminUsersController,
        NotificationController,
        CaseController,
        MediationController,
        MediatorInvitationController,
        RosterController,
        NeutralProfileController,
        ConstitutionController,
        ArbitratorInvitationController,
        TribunalController,
        EvidenceController,
        QueueController,
        DashboardController,
        DeadlinePolicyController,
        CaseFileController,
        VerifyController,
        IntegrationsController,
        api_router(),
        create_static_files_router(
            path="/static", directories=[STATIC_DIR], cache_control=None, include_in_schema=False
        ),
    ]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = (settings or Settings.from_env()).prepare()
    engine = create_engine(settings.database_url)
    bind_tables(engine, ALL_TABLES)
    use_base_url(settings.base_url)
    keyring = Keyring.open(
        settings.signing_key_file, settings.log_origin, create=not settings.is_production
    )
    app = Litestar(
        route_handlers=route_handlers(),
        lifespan=[_background_work(settings, engine, keyring)],
        state=State({"settings": settings, "keyring": keyring}),
        stores={"sessions": DatabaseStore()},
        middleware=[
            same_origin_only(exempt_prefix=f"{API_PATH}/"),
            session_config(settings.secure_cookies).middleware,
            viewer_middleware,
            sent_once_middleware,
        ],
        csrf_config=_csrf_config(settings),
        before_request=before_each_request,
        template_config=template_config(),
        exception_handlers={LedgerError: ledger_error, Exception: any_error},
        request_max_body_size=1024 * 1024,
        openapi_config=_openapi_config(),
    )
    # Outermost, so that every response (error pages and static files too) gets them.
    app.asgi_handler = security_headers(app.asgi_handler)
    return app


def _background_work(
    settings: Settings,
    engine: Engine,  # type: ignore[type-arg]
    keyring: Keyring,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """While the app runs: the integrator, the mailer, the sweeper and the webhook
    deliverer, each stopped and awaited when it shuts down."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with connected(engine):
            await publish_keys(keyring)
            stop = asyncio.Event()
            task = asyncio.create_task(run_integrator(keyring, settings.integrate_interval, stop))
            mailer = asyncio.create_task(run_mailer(settings, MAIL_INTERVAL, stop))
            # Every worker sweeps; the reminders' unique key makes each one go out once.
            sweeper = asyncio.create_task(run_sweeper(keyring, SWEEP_INTERVAL, stop))
            deliverer = asyncio.create_task(
                run_deliverer(settings, settings.webhook_interval, stop)
            )
            try:
                yield
            finally:
                stop.set()
                await task
                await mailer
                await sweeper
                await deliverer

    return lifespan


def _csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="portal_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="strict",
        header_name="x-csrftoken",
        # The API authenticates by a key in a header, never by a cookie: nothing to forge.
        exclude=[f"^{API_PATH}/"],
    )


def _openapi_config() -> OpenAPIConfig:
    # The schema as JSON only: the interactive viewers load scripts from CDNs, which
    # the Content-Security-Policy (rightly) refuses.
    return OpenAPIConfig(
        title="Dispute portal",
        version="1",
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key made by a supervisor at /staff/integrations: "
                    "`Authorization: Bearer dpk_<prefix>_<secret>`.",
                )
            }
        ),
    )
