"""The contact pages: the templates editor (versions, save with the content rules, preview with a
real loan), the message log per borrower and per case (status, the guard's decision, delivery),
the policy view (the effective rules for a borrower, and — for those who dial — a form that asks
the guard), and the guard decision log for auditors.

Outer ring only: every answer comes from `arrears.contact` (the guard through `service`, the
templates and content rules through `templates`, the read models in `views`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.requests import Request

from arrears.contact import service, templates, views
from arrears.contact.content import TemplateRejected
from arrears.contact.localtime import local_text
from arrears.contact.policy import CHANNEL_NAMES
from arrears.web import i18n
from arrears.web.app import Pages, _form, _is_htmx, _NotFound, request_lang
from arrears.web.collection import _case_row
from arrears.web.security import WebUser, allowed

CHANNELS = ("sms", "email", "voice", "robot", "push", "letter", "visit")
STATUS_NAMES = {
    "pending": ("pending", "待发送"),
    "sending": ("sending", "发送中"),
    "dispatching": ("sending (begun)", "发送中（已放行）"),
    "sent": ("sent", "已发送"),
    "delivered": ("delivered", "已送达"),
    "failed": ("failed", "发送失败"),
    "blocked": ("blocked", "已拦截"),
    "expired": ("expired", "已过期"),
}
PURPOSES = service.PURPOSES
PURPOSE_NAMES = {
    "reminder": ("reminder", "提醒"),
    "collection": ("collection", "催收"),
    "legal_notice": ("legal notice", "法律通知"),
    "location": ("location", "寻址"),
    "cease_confirmation": ("cease confirmation", "停止联系确认"),
    "validation": ("validation", "债务确认"),
}
# policy file sections → what they mean (the rules themselves live in the YAML files)
SECTION_NAMES = {
    "window": ("Contact window (borrower's local time)", "允许联系时段（借款人当地时间）"),
    "region_timezones": ("Regions spanning time zones", "跨时区地区"),
    "flags": ("Borrower flags", "客户标记"),
    "opt_out": ("Opt-outs", "退订"),
    "dispute": ("Disputes", "争议"),
    "legal_stage": ("Legal stage", "诉讼阶段"),
    "daily_caps": ("Daily caps per channel", "各渠道每日上限"),
    "third_parties": ("Unrelated third parties", "无关第三方"),
    "daily_voice": ("Effective calls per day", "每日有效通话"),
    "rolling": ("Rolling limits", "滚动周期上限"),
    "conversation_lockout": ("After a conversation", "通话后冷却期"),
    "cease": ("Written cease request", "书面停止联系请求"),
    "contact_persons": ("Contact persons", "联系人"),
    "electronic_opt_out": ("Opt-out line in electronic messages", "电子消息退订提示"),
    "holidays": ("Public-holiday quiet days", "节假日免打扰"),
}
PAGE_SIZE = 50
TEMPLATE_NAME = re.compile(r"[a-z0-9_\-]{1,64}")


def policy_rows(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per rule of a policy file as loaded: section, rule id and its settings."""
    rows: list[dict[str, Any]] = []
    for section, names in SECTION_NAMES.items():
        value = policy.get(section)
        if not value:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and "id" in item:
                settings = {k: v for k, v in item.items() if k != "id"}
                rule_id = item["id"]
            else:
                settings, rule_id = {"": item}, "—"
            rows.append(
                {
                    "section": section,
                    "names": names,
                    "rule_id": rule_id,
                    "settings": "; ".join(
                        f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}".lstrip(": ")
                        for k, v in settings.items()
                    ),
                }
            )
    return rows


def build_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    sec = pages.security

    def render(request: Request, template: str, ctx: dict[str, Any], user: WebUser, **kw: Any):  # type: ignore[no-untyped-def]
        labels = i18n.Labels(request_lang(request))

        def name(kind: str, value: object) -> str:
            table = {"channel": CHANNEL_NAMES, "status": STATUS_NAMES, "purpose": PURPOSE_NAMES}
            pair = table[kind].get(str(value))
            return str(value) if pair is None else labels(*pair)

        ctx = {"K": name, "CHANNELS": CHANNELS, "PURPOSES": PURPOSES, **ctx}
        return pages.render(request, template, ctx, user=user, **kw)

    async def checked_form(request: Request, user: WebUser) -> dict[str, str] | Response:
        form = await _form(request)
        if not sec.verify_csrf(request, form.get("csrf_token")):
            return pages.render(
                request,
                "_error.html.j2" if _is_htmx(request) else "error.html.j2",
                {"code": 403, "message": ("Invalid form token.", "表单令牌无效。")},
                user=user,
                status_code=403,
            )
        return form

    # ------------------------------------------------------------------ message logs

    @router.get("/borrowers/{borrower_id}/messages")
    def borrower_messages(request: Request, borrower_id: str) -> Response:
        user = pages.user(request, "contact_messages")
        pages.check_borrower(request, user, "contact_messages", borrower_id)
        messages = views.borrower_messages(pages.engine, borrower_id)
        ctx = {"borrower_id": borrower_id, "case_id": None, "messages": messages}
        return render(request, "contact_messages.html.j2", ctx, user)

    @router.get("/cases/{case_id}/messages")
    def case_messages(request: Request, case_id: str) -> Response:
        user = pages.user(request, "case")
        row = _case_row(pages, request, user, "case", case_id)
        messages = views.case_messages(pages.engine, case_id)
        ctx = {"borrower_id": row.borrower_id, "case_id": case_id, "messages": messages}
        return render(request, "contact_messages.html.j2", ctx, user)

    # ------------------------------------------------------------------ policy view

    def policy_context(user: WebUser, borrower_id: str) -> dict[str, Any]:
        view = views.effective_policy(pages.engine, borrower_id)
        if view is None:
            raise _NotFound(f"borrower {borrower_id}")
        return {
            "borrower_id": borrower_id,
            "p": view,
            "rules": [
                {"jurisdiction": pol["jurisdiction"], **row}
                for pol in view["policies"]
                for row in policy_rows(pol)
            ],
            "can_check": allowed(user, "contact_check"),
            "form": {"channel": "sms", "purpose": "collection", "party": "debtor", "at": ""},
        }

    @router.get("/borrowers/{borrower_id}/contact-policy")
    def policy_page(request: Request, borrower_id: str) -> Response:
        user = pages.user(request, "contact_policy")
        pages.check_borrower(request, user, "contact_policy", borrower_id)
        return render(request, "contact_policy.html.j2", policy_context(user, borrower_id), user)

    @router.post("/borrowers/{borrower_id}/contact-check")
    async def policy_check(request: Request, borrower_id: str) -> Response:
        """Ask the guard (logged like every decision); nothing is sent."""
        user = pages.user(request, "contact_check")
        pages.check_borrower(request, user, "contact_check", borrower_id)
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        ctx = policy_context(user, borrower_id)
        ctx["form"] = {k: form.get(k, "") for k in ("channel", "purpose", "party", "at")}
        status = 200
        try:
            at = datetime.fromisoformat(form.get("at", "").strip())
            if at.tzinfo is None:
                raise ValueError("the time needs its UTC offset, e.g. +08:00 (时间须带时区)")
            decision = service.check_contact(
                pages.engine,
                borrower_id,
                form.get("channel", ""),
                at,
                party=form.get("party", "debtor") or "debtor",
                purpose=form.get("purpose", "collection"),
            )
            ctx["decision"] = decision.to_dict() | {
                "next_allowed_local": local_text(decision.next_allowed_at, ctx["p"]["timezone"])
            }
        except (ValueError, service.ContactRefused) as exc:
            ctx["error"] = str(exc)
            status = 422
        template = "_contact_check.html.j2" if _is_htmx(request) else "contact_policy.html.j2"
        return render(request, template, ctx, user, status_code=status)

    # ------------------------------------------------------------------ decision log

    @router.get("/contact/decisions")
    def decision_log(request: Request) -> Response:
        user = pages.user(request, "contact_decisions")
        q = request.query_params
        allowed_q = {"yes": True, "no": False}.get(q.get("allowed", ""))
        try:
            offset = max(0, int(q.get("offset", "0")))
        except ValueError:
            offset = 0
        filters = {
            "borrower_id": q.get("borrower_id", "").strip()[:64],
            "rule_id": q.get("rule_id", "").strip()[:40],
            "channel": q.get("channel", "") if q.get("channel") in CHANNELS else "",
            "allowed": q.get("allowed", "") if allowed_q is not None else "",
        }
        page = views.decision_log(
            pages.engine,
            borrower_id=filters["borrower_id"] or None,
            rule_id=filters["rule_id"] or None,
            channel=filters["channel"] or None,
            allowed=allowed_q,
            limit=PAGE_SIZE,
            offset=offset,
        )
        base = {k: v for k, v in filters.items() if v}

        def link(at: int) -> str:
            return "/contact/decisions?" + urlencode({**base, "offset": at})

        ctx = {
            "log": page,
            "filters": filters,
            "prev": link(max(0, offset - PAGE_SIZE)) if offset > 0 else None,
            "next": link(offset + PAGE_SIZE) if offset + PAGE_SIZE < page["total"] else None,
        }
        return render(request, "contact_decisions.html.j2", ctx, user)

    # ------------------------------------------------------------------ templates editor

    @router.get("/contact/templates")
    def template_list(request: Request) -> Response:
        user = pages.user(request, "contact_templates")
        ctx = {
            "templates": views.template_list(pages.engine),
            "can_save": allowed(user, "contact_template_save"),
        }
        return render(request, "contact_templates.html.j2", ctx, user)

    @router.get("/contact/templates/new")
    def template_new(request: Request) -> Response:
        pages.user(request, "contact_template_save")
        name = request.query_params.get("name", "").strip()
        language = request.query_params.get("language", "zh")
        if not TEMPLATE_NAME.fullmatch(name) or language not in templates.LANGUAGES:
            return Response(status_code=303, headers={"Location": "/contact/templates"})
        return Response(
            status_code=303, headers={"Location": f"/contact/templates/{name}/{language}"}
        )

    def editor_context(
        user: WebUser, name: str, language: str, form: dict[str, str] | None = None
    ) -> dict[str, Any]:
        versions = views.template_versions(pages.engine, name, language)
        newest = versions[0] if versions else {}
        return {
            "name": name,
            "language": language,
            "versions": versions,
            "can_save": allowed(user, "contact_template_save"),
            "form": form
            or {
                "channel": newest.get("channel", "sms"),
                "audience": newest.get("audience", "debtor"),
                "subject": newest.get("subject") or "",
                "body": newest.get("body", ""),
            },
        }

    def _editor_target(request: Request, user: WebUser, name: str, language: str) -> None:
        if language not in templates.LANGUAGES or not TEMPLATE_NAME.fullmatch(name):
            raise _NotFound(f"template {name} ({language})")
        if not allowed(user, "contact_template_save") and not views.template_versions(
            pages.engine, name, language
        ):
            raise _NotFound(f"template {name} ({language})")

    @router.get("/contact/templates/{name}/{language}")
    def template_editor(request: Request, name: str, language: str) -> Response:
        user = pages.user(request, "contact_templates")
        _editor_target(request, user, name, language)
        ctx = editor_context(user, name, language)
        ctx["saved"] = request.query_params.get("saved")
        return render(request, "contact_template.html.j2", ctx, user)

    @router.post("/contact/templates/{name}/{language}")
    async def template_save(request: Request, name: str, language: str) -> Response:
        user = pages.user(request, "contact_template_save")
        _editor_target(request, user, name, language)
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        fields = {k: form.get(k, "") for k in ("channel", "audience", "subject", "body")}
        try:
            version = templates.save_template(
                pages.engine,
                name,
                language,
                fields["channel"],
                fields["body"],
                by=user.username,
                subject=fields["subject"].strip() or None,
                audience=fields["audience"] or "debtor",
            )
        except TemplateRejected as exc:
            ctx = editor_context(user, name, language, fields)
            ctx["error"] = str(exc)
            ctx["phrase"] = exc.phrase
            return render(request, "contact_template.html.j2", ctx, user, status_code=422)
        except templates.TemplateProblem as exc:
            ctx = editor_context(user, name, language, fields)
            ctx["error"] = str(exc)
            return render(request, "contact_template.html.j2", ctx, user, status_code=422)
        url = f"/contact/templates/{quote(name)}/{language}?saved={version}"
        return Response(status_code=303, headers={"Location": url})

    @router.get("/contact/templates/{name}/{language}/preview")
    def template_preview(request: Request, name: str, language: str) -> Response:
        user = pages.user(request, "contact_templates")
        loan_id = request.query_params.get("loan_id", "").strip()
        version_text = request.query_params.get("version", "")
        ctx: dict[str, Any] = {"loan_id": loan_id}
        status = 200
        try:
            if not loan_id:
                raise templates.TemplateProblem("loan: give a loan id (请填写贷款编号)")
            pages.check_loan(request, user, "contact_templates", loan_id)
            version = int(version_text) if version_text.isdigit() else None
            ctx["preview"] = templates.preview(pages.engine, name, language, loan_id, version)
        except _NotFound:
            ctx["error"] = f"loan {loan_id} not found (贷款不存在)"
            status = 404
        except templates.TemplateProblem as exc:
            ctx["error"] = str(exc)
            status = 422
        return render(request, "_contact_preview.html.j2", ctx, user, status_code=status)

    return router


def add_contact_pages(app: Any, pages: Pages) -> None:
    """Register the contact pages on the app that already has the others (`add_pages`)."""
    app.include_router(build_router(pages))
