"""The supervisors' pages for integrations: keys made and revoked, the webhook log.

Every route is behind `supervisor_only` (which asks for the second factor first): to
anyone else `/staff/integrations` does not exist. A new key is shown once, on the page
that answers its creation, and never again.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from portal.errors import FormInvalid
from portal.integrations import delivery, keys
from portal.integrations.tables import Integration, WebhookEndpoint
from portal.web.pages import page
from portal.web.viewer import Viewer, supervisor_only, viewer_of

Req = Request[Any, Any, Any]


def _viewer(request: Req) -> Viewer:
    viewer = viewer_of(request)
    assert viewer is not None  # the guard ran
    return viewer


async def _overview(form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                    status: int = 200) -> Template:  # fmt: skip
    return page(
        "staff/integrations.html",
        status_code=status,
        integrations=await keys.integrations_overview(),
        scopes=[(scope, label()) for scope, label in keys.SCOPES.items()],
        form=form or {},
        errors=errors or {},
    )


async def _integration(integration_id: int) -> dict[str, Any]:
    row = await Integration.select().where(Integration.id == integration_id).first()
    if row is None:
        raise NotFoundException()
    return row


class IntegrationsController(Controller):
    path = "/staff/integrations"
    guards = [supervisor_only]  # noqa: RUF012 (Litestar reads it from the class)

    @get("/")
    async def index(self) -> Template:
        return await _overview()

    @post("/")
    async def create(self, request: Req) -> Template | Redirect:
        form = await request.form()
        try:
            integration_id = await keys.create_integration(
                str(form.get("name", "")), _viewer(request).id
            )
        except FormInvalid as exc:
            return await _overview({"name": form.get("name", "")}, exc.errors, status=400)
        return Redirect(f"/staff/integrations#integration-{integration_id}", status_code=303)

    @post("/{integration_id:int}/keys")
    async def create_key(self, request: Req, integration_id: int) -> Template:
        integration = await _integration(integration_id)
        form = await request.form()
        chosen = [str(s) for s in form.getall("scopes")] if "scopes" in form else []
        try:
            new = await keys.create_key(integration_id, chosen, _viewer(request).id)
        except FormInvalid as exc:
            return await _overview(
                {"integration": integration_id, "scopes": chosen}, exc.errors, status=400
            )
        return page(
            "staff/integrations_key.html",
            status_code=201,
            integration=integration,
            key=new,
            scopes=[(s, keys.SCOPES[s]()) for s in sorted(chosen) if s in keys.SCOPES],
        )

    @post("/{integration_id:int}/keys/{key_id:int}/revoke")
    async def revoke_key(self, request: Req, integration_id: int, key_id: int) -> Redirect:
        await keys.revoke_key(integration_id, key_id, _viewer(request).id)
        return Redirect(f"/staff/integrations#integration-{integration_id}", status_code=303)

    @get("/{integration_id:int}/deliveries")
    async def deliveries(self, integration_id: int) -> Template:
        integration = await _integration(integration_id)
        endpoints = (
            await WebhookEndpoint.select(
                WebhookEndpoint.id,
                WebhookEndpoint.url,
                WebhookEndpoint.events,
                WebhookEndpoint.created_at,
                WebhookEndpoint.removed_at,
            )
            .where(WebhookEndpoint.integration == integration_id)
            .order_by(WebhookEndpoint.id)
        )
        return page(
            "staff/integrations_deliveries.html",
            integration=integration,
            endpoints=endpoints,
            deliveries=await delivery.delivery_log(integration_id),
        )

    @post("/{integration_id:int}/deliveries/{delivery_id:int}/replay")
    async def replay(self, integration_id: int, delivery_id: int) -> Redirect:
        await delivery.replay(integration_id, delivery_id)
        return Redirect(
            f"/staff/integrations/{integration_id}/deliveries#delivery-{delivery_id}",
            status_code=303,
        )
