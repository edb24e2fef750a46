"""The web pages: server-rendered Jinja2 (autoescaped), htmx for partial updates, ECharts for the
charts — both served from the package, nothing from the network. Chinese or English by `?lang=`
(remembered in the `lang` cookie).

`create_web_app(settings, security)` returns a FastAPI app with the pages; `add_pages(app,
settings, security)` adds them to an existing app (the API's). The pages are the outer ring:
figures come from `reports/` (the same functions as `arrears portfolio`), `servicing` and the
rules; accounts, sessions, CSRF and masking from `security` (see `web/security.py`).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from starlette.requests import Request

from arrears import servicing
from arrears.catalog import Catalog, load_catalog
from arrears.config import Settings
from arrears.reports.cache import ReportCache
from arrears.reports.html import report_context
from arrears.reports.summary import CurrencyChoice, NoCloseOfBusiness, build_report
from arrears.store.db import make_engine
from arrears.store.repository import LoanNotFound
from arrears.web import i18n, queries
from arrears.web.security import LoginRefused, WebSecurity, WebUser, allowed

STATIC_URL = "/static/web"
ECHARTS_URL = "/static/report"
LANG_COOKIE = "lang"
PAYMENT_KEY = re.compile(r"[0-9a-f]{32}")


class _LoginRequired(Exception):
    pass


class _Forbidden(Exception):
    def __init__(self, user: WebUser, page: str) -> None:
        super().__init__(page)
        self.user = user
        self.page = page


class _NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _PageEnvironment(Environment):
    """Jinja's environment, with `row.field` on a dict looked up as a key first. Jinja tries the
    attribute first, and a plain dict has none but its methods: each field of each table row
    raised and caught an AttributeError (a sixth of the loan page's rendering, profiled).
    Names of dict methods still go to Jinja, so `d.items()` means what it always meant."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def _env() -> Environment:
    env = _PageEnvironment(
        loader=PackageLoader("arrears.web", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship inside the package and do not change under a running server: checking
        # each file's time on every page was measurable under load.
        auto_reload=False,
    )
    env.globals["STATIC"] = STATIC_URL
    env.globals["ECHARTS"] = ECHARTS_URL
    return env


def request_lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.LANGS:
        return cookie
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "zh"


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _form(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body as a dict (last value wins)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


class Pages:
    def __init__(self, settings: Settings, security: WebSecurity) -> None:
        self.settings = settings
        self.security = security
        self.env = _env()
        self.reports = ReportCache()  # the dashboard's reports, until the book changes
        self._engine: Engine | None = None
        self._catalog: Catalog | None = None

    # -------------------------------------------------------------- plumbing

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.settings.products_file)
        return self._catalog

    def today(self) -> date:
        return self.settings.today()

    def user(self, request: Request, page: str) -> WebUser:
        user = self.security.current_user(request)
        if user is None:
            raise _LoginRequired()
        ok = allowed(user, page)
        self.security.log_access(request, user, page, ok)
        if not ok:
            raise _Forbidden(user, page)
        return user

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        user: WebUser | None = None,
        status_code: int = 200,
        response: Response | None = None,
    ) -> HTMLResponse:
        lang = request_lang(request)
        out = response or HTMLResponse("")
        ctx = {
            "lang": lang,
            "user": user,
            "request_path": request.url.path,
            "lang_query": urlencode(
                [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
            ),
            "today": self.today().isoformat(),
            "L": i18n.Labels(lang),
            "can": lambda page: user is not None and allowed(user, page),
            **context,
        }
        if user is not None and "csrf" not in ctx:
            ctx["csrf"] = self.security.csrf_token(request, out)
        html = self.env.get_template(template).render(**ctx)
        result = HTMLResponse(html, status_code=status_code)
        for key, value in out.headers.items():
            if key.lower() == "set-cookie":
                result.headers.append(key, value)
        if request.query_params.get("lang") in i18n.LANGS:
            result.set_cookie(
                LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=False
            )
        return result

    def check_loan(self, request: Request, user: WebUser, page: str, loan_id: str) -> None:
        access = self.security.may_see_loan(user, loan_id, self.today())
        self._check(request, user, page, access, f"loan {loan_id}")

    def check_borrower(self, request: Request, user: WebUser, page: str, borrower_id: str) -> None:
        access = self.security.may_see_borrower(user, borrower_id, self.today())
        self._check(request, user, page, access, f"borrower {borrower_id}")

    def _check(self, request: Request, user: WebUser, page: str, access: str, what: str) -> None:
        if access == "missing":
            raise _NotFound(what)
        if access != "ok":
            self.security.log_access(request, user, page, False)
            raise _Forbidden(user, page)


def last_digits(phone: str | None, keep: int = 4) -> str:
    """Lists show only a phone's last digits (what a search matches on): no personal data is
    read in full on a list page."""
    if not phone:
        return "—"
    return "*" * max(len(phone) - keep, 0) + phone[-keep:]


def _home(user: WebUser) -> str:
    if allowed(user, "dashboard"):
        return "/dashboard"
    if allowed(user, "loan_search"):
        return "/loans"
    return f"/borrowers/{quote(user.borrower_id or '-')}"


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return None


def build_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    sec = pages.security

    # ------------------------------------------------------------------ login / logout

    @router.get("/login")
    def login_form(request: Request) -> Response:
        user = sec.current_user(request)
        if user is not None:
            return RedirectResponse(_home(user), status_code=303)
        out = HTMLResponse("")
        csrf = sec.csrf_token(request, out)
        return pages.render(
            request,
            "login.html.j2",
            {"csrf": csrf, "next": _safe_next(request.query_params.get("next")) or ""},
            response=out,
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        nxt = _safe_next(form.get("next"))
        username = form.get("username", "").strip()
        error: tuple[str, str] | None = None
        status_code = 400
        if not sec.verify_csrf(request, form.get("csrf_token")):
            error = ("The form expired; please try again.", "表单已过期，请重试。")
            status_code = 403
        else:
            try:
                user = sec.authenticate(request, username, form.get("password", ""))
            except LoginRefused as exc:
                if exc.retry_after:
                    error = (
                        f"Too many attempts; try again in {exc.retry_after} s.",
                        f"尝试次数过多，请 {exc.retry_after} 秒后再试。",
                    )
                    status_code = 429
                else:
                    error = ("Wrong user name or password.", "用户名或密码错误。")
                    status_code = 401
            else:
                response = RedirectResponse(nxt or _home(user), status_code=303)
                sec.start_session(request, response, user)
                return response
        out = HTMLResponse("")
        csrf = sec.csrf_token(request, out)
        return pages.render(
            request,
            "login.html.j2",
            {"csrf": csrf, "next": nxt or "", "error": error, "username": username},
            status_code=status_code,
            response=out,
        )

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await _form(request)
        response = RedirectResponse("/login", status_code=303)
        if sec.verify_csrf(request, form.get("csrf_token")):
            sec.end_session(request, response)
        return response

    @router.get("/")
    def home(request: Request) -> Response:
        user = sec.current_user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(_home(user), status_code=303)

    # ------------------------------------------------------------------ dashboard

    @router.get("/dashboard")
    def dashboard(request: Request) -> Response:
        user = pages.user(request, "dashboard")
        dates = queries.closed_dates(pages.engine, pages.today())
        asked = request.query_params.get("as_of") or ""
        try:
            as_of = date.fromisoformat(asked) if asked else (dates[0] if dates else None)
        except ValueError:
            as_of = dates[0] if dates else None
        currency = request.query_params.get("currency") or None
        ctx: dict[str, Any] = {"dates": [d.isoformat() for d in dates], "as_of": as_of}
        if as_of is None:
            ctx["error"] = ("No close of business has run yet.", "尚未运行日终批处理。")
        else:
            try:
                report = pages.reports.get(
                    pages.engine,
                    ("portfolio", as_of, currency),
                    lambda: build_report(pages.engine, pages.catalog, as_of, currency=currency),
                )
            except NoCloseOfBusiness:
                ctx["error"] = (
                    f"No close of business for {as_of}.",
                    f"{as_of} 没有日终批处理结果。",
                )
            except CurrencyChoice as exc:
                ctx["error"] = (str(exc), str(exc))
            else:
                ctx["r"] = r = report_context(report)
                r.pop("echarts", None)
                _localise(r, report, i18n.Labels(request_lang(request)))
        return pages.render(request, "dashboard.html.j2", ctx, user=user)

    # ------------------------------------------------------------------ loan search

    @router.get("/loans")
    def loan_search(request: Request) -> Response:
        user = pages.user(request, "loan_search")
        p = request.query_params
        criteria = {k: (p.get(k) or "").strip() for k in ("q", "phone", "bucket", "product")}
        searched = any(criteria.values()) or p.get("all") == "1"
        rows = (
            queries.search_loans(pages.engine, **criteria, delinquent_only=user.role == "collector")
            if searched
            else []
        )
        results = [
            {
                **r.__dict__,
                "phone": last_digits(r.phone),
            }
            for r in rows
        ]
        ctx = {
            "criteria": criteria,
            "searched": searched,
            "results": results,
            "limit": queries.SEARCH_LIMIT,
            "delinquent_only": user.role == "collector",
            "buckets": _buckets(pages),
            "products": queries.products(pages.engine),
        }
        template = "_results.html.j2" if _is_htmx(request) else "loans.html.j2"
        return pages.render(request, template, ctx, user=user)

    # ------------------------------------------------------------------ loan page

    def _loan_context(user: WebUser, loan_id: str) -> dict[str, Any]:
        try:
            page = queries.loan_page(pages.engine, pages.catalog, loan_id, pages.today())
        except LoanNotFound:
            raise _NotFound(f"loan {loan_id}") from None
        return {
            "loan": page,
            "events_first": queries.EVENTS_FIRST,
            "can_post": allowed(user, "post_payment"),
            "payment_key": uuid.uuid4().hex,
        }

    @router.get("/loans/{loan_id}")
    def loan(request: Request, loan_id: str) -> Response:
        user = pages.user(request, "loan")
        # The page's own read answers the ownership question (whose loan, delinquent today):
        # nothing is shown before the check, and the loan is read once.
        ctx = _loan_context(user, loan_id)
        shown = ctx["loan"]
        access = pages.security.loan_access(user, shown.borrower_id, shown.delinquent)
        pages._check(request, user, "loan", access, f"loan {loan_id}")
        return pages.render(request, "loan.html.j2", ctx, user=user)

    @router.get("/loans/{loan_id}/events")
    def loan_events(request: Request, loan_id: str, before: int) -> Response:
        """Older events of the loan page, as table rows (htmx)."""
        user = pages.user(request, "loan")
        pages.check_loan(request, user, "loan", loan_id)
        events = queries.loan_events(pages.engine, loan_id, before)
        ctx = {"events": events, "loan_id": loan_id, "limit": queries.EVENTS_MORE}
        return pages.render(request, "_loan_events.html.j2", ctx, user=user)

    @router.post("/loans/{loan_id}/payments")
    async def post_payment(request: Request, loan_id: str) -> Response:
        user = pages.user(request, "post_payment")
        pages.check_loan(request, user, "post_payment", loan_id)
        form = await _form(request)
        htmx = _is_htmx(request)
        if not sec.verify_csrf(request, form.get("csrf_token")):
            return pages.render(
                request,
                "_error.html.j2" if htmx else "error.html.j2",
                {"code": 403, "message": ("Invalid form token.", "表单令牌无效。")},
                user=user,
                status_code=403,
            )
        try:
            before = queries.loan_page(pages.engine, pages.catalog, loan_id, pages.today())
        except LoanNotFound:
            raise _NotFound(f"loan {loan_id}") from None
        error: tuple[str, str] | None = None
        payment_id = None
        try:
            paid_on = date.fromisoformat(form.get("paid_on") or pages.today().isoformat())
            amount = (form.get("amount") or "").strip().replace(",", "")
            if not amount:
                raise servicing.BusinessRuleRefused("an amount is needed")
            # The form's one-time key is the payment id: a form sent twice (a double click, a
            # resend) is refused as a duplicate instead of counting the money twice.
            key = form.get("payment_key") or ""
            payment_id, _view = servicing.post_payment(
                pages.engine,
                pages.catalog,
                loan_id,
                amount,
                paid_on,
                reference=(form.get("reference") or "").strip() or f"web:{user.username}",
                payment_id=f"WEB-{key}" if PAYMENT_KEY.fullmatch(key) else None,
                today=pages.today(),
            )
        except (servicing.BusinessRuleRefused, ValueError, ArithmeticError) as exc:
            error = i18n.refusal(str(exc))
        ctx = _loan_context(user, loan_id)
        ctx.update(
            {
                "posted": payment_id,
                "before": before.status,
                "error": error,
                "form": {k: form.get(k, "") for k in ("amount", "paid_on", "reference")},
            }
        )
        status_code = 422 if error else 200
        if htmx:
            return pages.render(
                request, "_loan_body.html.j2", ctx, user=user, status_code=status_code
            )
        return pages.render(request, "loan.html.j2", ctx, user=user, status_code=status_code)

    # ------------------------------------------------------------------ borrower page

    @router.get("/borrowers/{borrower_id}")
    def borrower(request: Request, borrower_id: str) -> Response:
        user = pages.user(request, "borrower")
        pages.check_borrower(request, user, "borrower", borrower_id)
        view = sec.borrower_view(request, user, borrower_id)
        if view is None:
            raise _NotFound(f"borrower {borrower_id}")
        fields = [
            ("Name", "姓名", view.get("name")),
            ("Kind", "类型", view.get("kind")),
            ("National id", "证件号", view.get("national_id")),
            ("Phone", "电话", view.get("phone")),
            ("Email", "邮箱", view.get("email")),
            ("Language", "语言", view.get("language")),
            ("Time zone", "时区", view.get("timezone")),
            (
                "Country / region",
                "国家/地区",
                f"{view.get('country') or ''} {view.get('region') or ''}".strip(),
            ),
        ]
        loans = queries.search_loans(pages.engine, borrower_id=borrower_id, limit=500)
        credit = (
            queries.credit_profile_view(pages.engine, borrower_id, pages.today())
            if allowed(user, "credit_profile")
            else None
        )
        return pages.render(
            request,
            "borrower.html.j2",
            {
                "borrower_id": borrower_id,
                "fields": fields,
                "masked": bool(view.get("masked")),
                "loans": loans,
                "credit": credit,
            },
            user=user,
        )

    # ------------------------------------------------------------------ admission (risk)

    def _admission_form(request: Request, user: WebUser, ctx: dict[str, Any], status: int = 200):
        from arrears.scoring import registry
        from arrears.scoring.admission import default_policy

        ctx.setdefault("form", {})
        ctx["products"] = list(default_policy().products)
        from arrears.scoring import modeldir
        from arrears.scoring.champion import AMOUNT_FIELDS, PLAIN_FIELDS

        ctx["champion"], ctx["champion_features"] = None, []
        try:  # which model scores applications that bring no score (None: rules only)
            champion = registry.champion(pages.engine, "application")
            own = set(AMOUNT_FIELDS.values()) | set(PLAIN_FIELDS)
            ctx["champion"] = champion
            ctx["champion_features"] = [
                n for n in modeldir.load(Path(champion.path)).features if n not in own
            ]
        except (registry.RegistryError, modeldir.ModelDirError, OSError):
            pass
        return pages.render(request, "admission.html.j2", ctx, user=user, status_code=status)

    @router.get("/admissions")
    def admission_page(request: Request) -> Response:
        user = pages.user(request, "admission")
        return _admission_form(request, user, {})

    @router.post("/admissions")
    async def admission_decide(request: Request) -> Response:
        from pydantic import ValidationError

        from arrears.bureau.profile import credit_profiles
        from arrears.scoring.admission import (
            ApplicationIn,
            admit,
            default_policy,
            enrich_with_profiles,
            to_application,
        )

        user = pages.user(request, "admission")
        form = await _form(request)
        if not sec.verify_csrf(request, form.get("csrf_token")):
            return _admission_form(
                request, user, {"errors": [("form", "Invalid form token.", "表单令牌无效。")]}, 403
            )
        fields = {k: v.strip() for k, v in form.items() if k != "csrf_token" and v.strip()}
        for flag in ("blacklist", "enforcement_listed"):
            fields[flag] = "true" if flag in fields else "false"
        policy = default_policy()
        body: dict[str, Any] = {k: v for k, v in fields.items() if k != "features"}
        # model characteristics, one `name = value` a line (what the champion scores)
        if fields.get("features"):
            pairs = [
                line.partition("=") for line in fields["features"].splitlines() if line.strip()
            ]
            body["features"] = {k.strip(): (v.strip() or None) for k, _, v in pairs}
        try:
            application = to_application(ApplicationIn.model_validate(body), policy)
        except ValidationError as exc:
            errors = [
                (".".join(str(p) for p in e["loc"]) or "form", e["msg"], f"取值无效（{e['msg']}）")
                for e in exc.errors()
            ]
            return _admission_form(request, user, {"form": fields, "errors": errors}, 422)
        except ValueError as exc:
            name, _, message = str(exc).partition(": ")
            return _admission_form(
                request, user, {"form": fields, "errors": [(name, message, message)]}, 422
            )
        from arrears.scoring.champion import MissingFeatures, champion_scorer
        from arrears.scoring.screening import screen

        if application.borrower_id:
            profiles = credit_profiles(pages.engine, pages.today(), [application.borrower_id])
            [application] = enrich_with_profiles([application], profiles)
        [application] = screen(pages.engine, [application])
        try:
            [decision] = admit([application], policy, champion_scorer(pages.engine))
        except MissingFeatures as exc:
            errors = [
                (f"features.{name}", "the champion model needs this characteristic",
                 "冠军模型需要该特征")
                for name in exc.missing
            ]  # fmt: skip
            return _admission_form(request, user, {"form": fields, "errors": errors}, 422)
        except ValueError as exc:
            return _admission_form(
                request, user, {"form": fields, "errors": [("features", str(exc), str(exc))]}, 422
            )
        return _admission_form(
            request, user, {"form": fields, "decision": decision, "d": decision.as_json()}
        )

    return router


def _localise(r: dict[str, Any], report: Any, L: i18n.Labels) -> None:
    """`report_context` names categories in both languages; the page shows one."""
    p = report.portfolio
    r["kpis"] = [
        (en, zh, value, L("substandard + doubtful + loss", note) if en == "NPL ratio" else note)
        for en, zh, value, note in r["kpis"]
    ]
    for item, row in zip(r["stages"], p.stages.iter_rows(named=True), strict=True):
        item["name"] = L.code("stage", row["ifrs9_stage"])
    charts = r["charts"]
    for item, row in zip(
        charts["classification"], p.classification.iter_rows(named=True), strict=True
    ):
        item["name"] = L.code("class", row["classification"])
    if charts.get("roll") and report.roll is not None:
        cols = report.roll.get_column("to_state").unique(maintain_order=True).to_list()
        charts["roll"]["cols"] = [L.code("status", c) for c in cols]


def _buckets(pages: Pages) -> list[str]:
    from arrears.reports import portfolio as pf

    codes = queries.products(pages.engine)
    products = [pages.catalog.get(c) for c in codes if c in pages.catalog]
    return pf.bucket_names(products) if products else []


def _static_dir(package: str) -> Path:
    return Path(str(resources.files(package).joinpath("static")))


def add_pages(app: FastAPI, settings: Settings, security: WebSecurity) -> Pages:
    """Add the pages, their static files and their error pages to `app`."""
    pages = Pages(settings, security)
    app.include_router(build_router(pages))
    from arrears.web.collection import add_collection_pages  # collection pages (issue 5)

    add_collection_pages(app, pages)
    from arrears.web.models import add_model_pages  # the models page (issue 7)

    add_model_pages(app, pages)
    from arrears.web.contact import add_contact_pages  # contact pages (issue 6)

    add_contact_pages(app, pages)
    app.mount(STATIC_URL, StaticFiles(directory=_static_dir("arrears.web")), name="web-static")
    app.mount(
        ECHARTS_URL, StaticFiles(directory=_static_dir("arrears.reports")), name="report-static"
    )

    @app.exception_handler(_LoginRequired)
    async def _login_required(request: Request, _exc: _LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = f"/login?next={quote(target)}"
        if _is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(_Forbidden)
    async def _forbidden(request: Request, exc: _Forbidden) -> Response:
        return pages.render(
            request,
            "_error.html.j2" if _is_htmx(request) else "error.html.j2",
            {
                "code": 403,
                "message": (
                    f"Your role ({i18n.Labels('en').code('role', exc.user.role)}) may not open "
                    "this page.",
                    f"您的角色（{i18n.Labels('zh').code('role', exc.user.role)}）无权访问此页面。",
                ),
            },
            user=exc.user,
            status_code=403,
        )

    @app.exception_handler(_NotFound)
    async def _not_found(request: Request, exc: _NotFound) -> Response:
        return pages.render(
            request,
            "error.html.j2",
            {"code": 404, "message": (f"No {exc.what}.", f"未找到 {exc.what}。")},
            user=security.current_user(request),
            status_code=404,
        )

    return pages


def create_web_app(settings: Settings, security: WebSecurity) -> FastAPI:
    """A FastAPI app with only the pages (the API adds them to its own app with `add_pages`)."""
    app = FastAPI(title="Arrears pages", docs_url=None, redoc_url=None, openapi_url=None)
    add_pages(app, settings, security)
    return app
