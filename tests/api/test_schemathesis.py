"""Property-based: schemathesis generates requests from the OpenAPI document — valid ones,
valid ones aimed at real borrowers/loans/payments, and invalid ones — and sends them to the app
in-process (ASGI, no network) with an admin token. Whatever a client sends, the answer is never
a 5xx. Examples are bounded so the run stays well under a minute."""

from __future__ import annotations

import warnings

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis import GenerationMode

from arrears.auth import create_token
from tests.api.conftest import OWN_BORROWER, OWN_LOAN, OWN_PAYMENT, Api

MAX_EXAMPLES = 12
# A close of business replays the whole book: fewer examples keep the run short.
FEWER = {"POST /api/v1/cob/runs": 4}
# Revoking a token could revoke the admin's own: that operation runs last.
LAST = "DELETE /api/v1/tokens/{token_id}"


def test_no_request_makes_a_server_error(closed: Api) -> None:
    api = closed
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    headers = api.headers("admin")
    real = {
        "borrower_id": OWN_BORROWER,
        "loan_id": OWN_LOAN,
        "payment_id": OWN_PAYMENT,
        "run_id": 1,
        "username": "risk",
        "token_id": create_token(api.engine, "legal")[1].token_id,
    }
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: f"{op.method.upper()} {op.path}" == LAST,
    )
    assert len(operations) >= 20
    failures: list[str] = []
    seen: dict[str, set[int]] = {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        names = [name for name in real if "{" + name + "}" in operation.path]
        strategies = [
            operation.as_strategy(),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if names:
            strategies.append(
                operation.as_strategy(path_parameters={name: real[name] for name in names})
            )

        @settings(
            max_examples=FEWER.get(label, MAX_EXAMPLES),
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=st.one_of(*strategies))
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            seen.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

        check()
    assert failures == []
    # The admin stayed signed in throughout: no operation answered only 401.
    assert [label for label, codes in seen.items() if codes == {401}] == []
