#!/usr/bin/env bash
# Arrears demo 演示 — the main job on the embedded default (SQLite):
# simulate a loan book, import it, run the close of business month by month through its history
# and day by day over the last month, print the portfolio and write the HTML report; then look
# at one overdue loan and post a payment to it.
#
# Run by `make demo` (which creates .venv and installs Arrears first), from the repository root.
# Repeatable: the demo's files (arrears-demo.db, arrears-demo-data/, demo-book/) are rebuilt on
# every run. DEMO_LOANS=… changes the book's size (default 20000).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ARREARS=.venv/bin/arrears
PYTHON=.venv/bin/python
DEMO_DB=./arrears-demo.db
DEMO_DATE=2026-11-30            # the demo's business date 演示业务日期
HISTORY_FROM=2024-11-30         # 24 months of history 两年历史
LAST_MONTH_FROM=2026-11-01
LOANS=${DEMO_LOANS:-20000}
REPORT=demo-report.html

if [[ ! -x "$ARREARS" ]]; then
    echo "error 错误: $ARREARS not found — run \`make demo\` (it creates .venv and installs Arrears)" >&2
    exit 2
fi
[[ -t 1 ]] || export COLUMNS="${COLUMNS:-160}"

export ARREARS_DATABASE_URL="sqlite:///${DEMO_DB}"
export ARREARS_DATA_DIR=./arrears-demo-data
export ARREARS_BUSINESS_DATE="$DEMO_DATE"
rm -rf "$DEMO_DB" "$DEMO_DB-wal" "$DEMO_DB-shm" "$ARREARS_DATA_DIR" demo-book "$REPORT"

if [[ -t 1 ]]; then BOLD=$'\033[1m' DIM=$'\033[2m' RESET=$'\033[0m'; else BOLD='' DIM='' RESET=''; fi
step() {
    printf '\n%s== %s%s\n' "$BOLD" "$1" "$RESET"
    printf '%s$ %s%s\n' "$DIM" "$2" "$RESET"
}
started=$(date +%s)

step "1. Create the database 创建数据库" "arrears db upgrade"
"$ARREARS" db upgrade

step "1b. Demo users 演示账户 (password 密码 arrears-demo)" "arrears user demo-accounts"
"$ARREARS" user demo-accounts

step "2. Simulate a book of $LOANS loans over 24 months 模拟两年贷款簿" \
    "arrears simulate --loans $LOANS --months 24 --seed 2026 --out demo-book --format parquet"
"$ARREARS" simulate --loans "$LOANS" --months 24 --seed 2026 --out demo-book --format parquet

step "3. Import it — every row validated, all or nothing 导入（逐行校验，全部成功或全部不写入）" \
    "arrears import demo-book"
"$ARREARS" import demo-book

step "4. Close of business month by month through the history 按月日终追批" \
    "arrears cob --from $HISTORY_FROM --to 2026-10-31 --monthly"
"$ARREARS" cob --from "$HISTORY_FROM" --to 2026-10-31 --monthly

step "5. … then day by day over the last month, with a simulated collection team working the cases 最近一个月逐日日终，模拟催收团队处理案件" \
    "arrears collector simulate --from $LAST_MONTH_FROM --to $DEMO_DATE"
# Each day: the close of business and the case update (as \`arrears cob\`), then five collectors
# (capacity-limited) press "next case" and log calls; borrowers promise what the simulated book
# says they will pay; a legal officer opens and files lawsuits. 每日：日终、案件更新、催收作业。
"$ARREARS" collector simulate --from "$LAST_MONTH_FROM" --to "$DEMO_DATE"

# Contact 触达 (docs/contact.md): the simulated book's reminders for the business date
# (DEMO_REMIND_DAYS="2026-11-29 2026-11-30" for more days) are planned through the compliance guard, then sent by \`arrears worker\` to a local fake SMS/push/
# robot gateway and a local SMTP server (real servers on free ports, like the bureau below); the
# gateway's delivery receipts come back to the worker's webhook. Two passes per day: 12:00 in
# Beijing (10:00 in Urumqi), then 13:00 in New York (10:00 in Los Angeles), each inside its
# borrowers' window. Reminders the month-end catch-up planned for 2026-10-31 expire unsent.
REMIND_DAYS=${DEMO_REMIND_DAYS:-$DEMO_DATE}
step "5b. Reminders through the compliance guard to the local fake gateway 自动提醒经合规检查发送至本地模拟网关" \
    "arrears contact remind --as-of $DEMO_DATE; arrears worker --once --now ${DEMO_DATE}T12:00:00+08:00 --gateway … --smtp … --webhook-port …"
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
GATEWAY_PORT=$(free_port); SMTP_PORT=$(free_port); HOOK_PORT=$(free_port)
GATEWAY_SECRET=demo-gateway-secret
contact_started=$(date +%s)
"$PYTHON" -m arrears.contact.channels.fake_gateway --port "$GATEWAY_PORT" --secret "$GATEWAY_SECRET" >/dev/null 2>&1 &
GATEWAY_PID=$!
"$PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink >/dev/null 2>&1 &
SMTP_PID=$!
trap 'kill "$GATEWAY_PID" "$SMTP_PID" 2>/dev/null || true' EXIT
"$PYTHON" -c '
import socket, sys, time
for port in map(int, sys.argv[1:]):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"port {port}: the fake gateway or SMTP server did not start 模拟网关未启动")
' "$GATEWAY_PORT" "$SMTP_PORT"
for DAY in $REMIND_DAYS; do
    "$ARREARS" contact remind --as-of "$DAY"
    for NOW in "${DAY}T12:00:00+08:00" "${DAY}T13:00:00-05:00"; do
        "$ARREARS" worker --once --now "$NOW" \
            --gateway "http://127.0.0.1:$GATEWAY_PORT" --gateway-secret "$GATEWAY_SECRET" \
            --smtp "127.0.0.1:$SMTP_PORT" --webhook-port "$HOOK_PORT" --linger 15 --batch 200
    done
done
kill "$GATEWAY_PID" "$SMTP_PID" 2>/dev/null || true
wait "$GATEWAY_PID" "$SMTP_PID" 2>/dev/null || true
"$ARREARS" contact stats
contact_elapsed=$(( $(date +%s) - contact_started ))
echo "contact step 触达步骤: ${contact_elapsed}s"

step "6. The portfolio on $DEMO_DATE 资产组合概览" "arrears portfolio --as-of $DEMO_DATE"
"$ARREARS" portfolio --as-of "$DEMO_DATE"

step "6b. Credit models: train, promote, score the book 评分模型：训练、上线、为贷款簿评分" \
    "arrears model demo --book demo-book --out $ARREARS_DATA_DIR/models"
# An application scorecard (A-card) on the simulated borrowers, a behaviour scorecard (B-card) on
# the close-of-business history; both promoted; the report gains a models section. 报告新增模型章节。
models_started=$(date +%s)
"$ARREARS" model demo --book demo-book --out "$ARREARS_DATA_DIR/models"
MODELS_SECONDS=$(( $(date +%s) - models_started ))

step "7. The report 报告" "arrears report --as-of $DEMO_DATE --out $REPORT"
"$ARREARS" report --as-of "$DEMO_DATE" --out "$REPORT"

# An overdue consumer loan from the day's snapshot, to show one loan and a real-time payment.
"$ARREARS" snapshot --as-of "$DEMO_DATE" --out "$ARREARS_DATA_DIR/snapshot.parquet" >/dev/null
LOAN=$("$PYTHON" -c '
import polars as pl, sys
s = pl.read_parquet(sys.argv[1])
pick = s.filter((pl.col("bucket") == "M2")).sort("loan_id").head(1)
print(pick.item(0, "loan_id") if pick.height else s.filter(pl.col("days_past_due") > 0).item(0, "loan_id"))
' "$ARREARS_DATA_DIR/snapshot.parquet")

step "8. One overdue loan 单笔逾期贷款" "arrears loan show $LOAN --as-of $DEMO_DATE"
"$ARREARS" loan show "$LOAN" --as-of "$DEMO_DATE"

AMOUNT=$("$ARREARS" loan show "$LOAN" --as-of "$DEMO_DATE" --json | "$PYTHON" -c '
import json, sys
from decimal import Decimal
v = json.load(sys.stdin)
owed = sum(Decimal(v[k]) for k in ("overdue_principal", "overdue_interest", "overdue_fee", "overdue_penalty"))
# An instalment due today is due too: the allocation may pay it before older principal (card
# and project loans pay one component across all due instalments), so pay both to cure.
if v["next_due_on"] == v["as_of"]:
    owed += Decimal(v["next_due_amount"])
print(owed)
')
step "9. Post a payment of $AMOUNT to $LOAN — the status changes at once 还款入账，状态即时更新" \
    "arrears payment post $LOAN --amount $AMOUNT --paid-on $DEMO_DATE --payment-id DEMO-PMT-1"
"$ARREARS" payment post "$LOAN" --amount "$AMOUNT" --paid-on "$DEMO_DATE" --payment-id DEMO-PMT-1

# Third-party data 第三方数据: the local fake bureau — a real HTTP server on a free port, its reports
# following the simulated borrowers' features — then consent, pulls and the credit profile of
# the overdue loan's borrower, and admission decisions (docs/bureau.md, docs/admission.md).
BUREAU_PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ARREARS_BUREAU_URL="http://127.0.0.1:$BUREAU_PORT"
"$ARREARS" bureau fake-server --port "$BUREAU_PORT" --features demo-book/features.parquet 2>/dev/null &
BUREAU_PID=$!
trap 'kill "$BUREAU_PID" 2>/dev/null || true' EXIT
"$PYTHON" -c '
import sys, time, httpx
for _ in range(100):
    try:
        if httpx.get(sys.argv[1] + "/health", timeout=0.5).status_code == 200:
            sys.exit(0)
    except httpx.TransportError:
        time.sleep(0.1)
sys.exit("the fake bureau did not start 模拟征信服务未启动")
' "$ARREARS_BUREAU_URL"
BORROWER=$("$ARREARS" loan show "$LOAN" --as-of "$DEMO_DATE" --json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["borrower_id"])')

step "10. The borrower's consent, then pulls from the fake bureau 征信授权与外部数据查询" \
    "arrears bureau consent $BORROWER --purpose post_loan_monitoring; arrears bureau pull $BORROWER --source all --purpose post_loan_monitoring"
"$ARREARS" bureau consent "$BORROWER" --purpose post_loan_monitoring --evidence DEMO-AUTH-1 --by demo
"$ARREARS" bureau pull "$BORROWER" --source all --purpose post_loan_monitoring --by demo

step "11. The borrower's credit profile: our history + third-party data 借款人信用画像" \
    "arrears bureau profile $BORROWER"
"$ARREARS" bureau profile "$BORROWER"

step "12. Admission decisions with reasons, limits and rates 准入审批" \
    "arrears admit --application examples/applications.csv"
"$ARREARS" admit --application examples/applications.csv
kill "$BUREAU_PID" 2>/dev/null || true

elapsed=$(( $(date +%s) - started ))
cat <<EOF

== What you just saw 刚才演示了什么 (${elapsed}s)

English:
  A simulated lender with $LOANS loans (consumer, card, SME, project finance, supply chain)
  disbursed over 24 months, with borrowers who pay on time, pay late and cure, pay part, prepay
  or stop paying. The close of business (COB) moved every loan to each month-end of its history
  and then to each day of November 2026, computing days past due, bucket (M0…M6+), five-category
  class, IFRS 9 stage, overdue amounts and the day's penalty interest on columns for the whole
  book, writing a snapshot per loan per date and a transition whenever a bucket or class changed.
  The portfolio table and the report come from those snapshots: PAR30/PAR90, NPL ratio, roll
  rates, cure rates, vintage curves, first-payment default, top movers.
  Finally one overdue loan paid what it owed and its status changed at once.
  Then a local fake credit bureau (a real HTTP server) answered for that loan's borrower once
  their consent was recorded; the credit profile merged our history with the bureau's report and
  the enforcement list; and nine applications were approved, referred or declined by the
  admission policy, each with its reason codes, limit and rate.
  Collection: every delinquent borrower got a case, staged by the policy (reminder → early → mid
  → late → legal); in November five simulated collectors with limited capacity pressed "next
  case", called, and recorded promises — kept when the book really had the payment, broken
  when not (two broken escalate a case); a legal officer opened and filed lawsuits. The report
  has a collections section (stage funnel, cure and kept rates, collector table).
  Models: an application scorecard trained on the simulated borrowers and a behaviour scorecard
  on the close-of-business history were registered and promoted (${MODELS_SECONDS}s); the report
  has a models section (score distribution, KS curve, PSI); admission now scores an application
  without a score with the champion application model.
  Contact: the reminders of $REMIND_DAYS (before due, due day, early delinquency; SMS, push,
  robot calls and email) were planned through the one compliance guard — window in the
  borrower's own time zone, daily caps, disputes, legal stage, hardship — and sent by the worker
  to a local fake gateway and SMTP server; the report's contact section shows messages by
  channel, delivery rates from the gateway's receipts and blocked attempts by rule (${contact_elapsed}s).

中文：
  模拟了一家放款机构的 $LOANS 笔贷款（消费、信用卡、小微、项目融资、供应链），两年内陆续发放，
  借款人有按时还款、逾期后结清、部分还款、提前还款和停止还款等行为。日终批处理 (COB) 按列对全部贷款
  逐月末、再逐日推进，计算逾期天数、账龄 (M0…M6+)、五级分类、IFRS 9 阶段、逾期金额和当日罚息，
  每笔贷款每个日期写一条快照，账龄或分类变化时写一条迁徙记录。资产组合表和报告都来自这些快照：
  PAR30/PAR90、不良率、迁徙率、回收率、账龄曲线 (vintage)、首期逾期 (FPD)、变化最大的贷款。
  最后一笔逾期贷款还清逾期金额，状态即时更新。
  随后在记录借款人授权后，本地模拟征信服务（真实 HTTP 服务）返回该借款人的征信报告与失信被执行人
  查询结果，信用画像合并了本机构记录与第三方数据；九笔申请按准入政策审批（通过、转人工或拒绝），
  每笔附原因代码、额度与利率。
  催收：每个逾期借款人一个案件，按策略分阶段（提醒→早期→中期→后期→诉讼）；十一月里五名有容量上限的
  模拟催收员点击“下一个案件”、外呼并记录还款承诺——贷款簿中确有还款即履约，否则违约（两次违约升级）；
  法务人员启动并立案诉讼。报告新增催收章节（阶段漏斗、回正率与履约率、催收员绩效）。
  评分模型：用模拟借款人训练申请评分卡、用日终历史训练行为评分卡，注册并上线（${MODELS_SECONDS} 秒）；
  报告新增模型章节（评分分布、KS 曲线、PSI）；无评分的申请由冠军申请模型评分后准入。
  触达：$REMIND_DAYS 的自动提醒（到期前、到期日、逾期初期；短信、推送、机器人外呼、邮件）全部经同一
  合规检查排定（借款人当地时段、每日上限、争议、诉讼阶段、经济困难），由发送进程发往本地模拟网关与邮件
  服务器；报告的触达章节按渠道统计消息、按网关回执计算送达率，并按规则统计拦截。

== Open the report 打开报告
  $(pwd)/$REPORT
  (one self-contained file, no network needed 单个文件，无需联网; open it in any browser)

== The service 服务 (pages and API 页面与接口)
  ARREARS_DATABASE_URL=${ARREARS_DATABASE_URL} ARREARS_DATA_DIR=${ARREARS_DATA_DIR} ARREARS_BUSINESS_DATE=${DEMO_DATE} \\
    .venv/bin/arrears serve --host 127.0.0.1 --port 8000
  then open http://127.0.0.1:8000/login — demo logins 演示账户 (password 密码 arrears-demo):
    admin (管理员) · risk (风控) · collector (催收员) · legal (法务) · auditor (审计)
  collection pages 催收页面: /work (collector 催收员工作台) · /collection (risk 催收管理) · /legal (legal 诉讼)
  contact pages 触达页面: /contact/templates (templates 消息模板) · /contact/decisions (auditor 合规日志) · /borrowers/ID/messages
  API: http://127.0.0.1:8000/docs (bearer tokens: .venv/bin/arrears token create NAME)
  These accounts exist only in the demo database 仅存在于演示数据库.

== Explore further 继续探索 (from the repository root 在仓库根目录下)
  export ARREARS_DATABASE_URL=${ARREARS_DATABASE_URL} ARREARS_DATA_DIR=${ARREARS_DATA_DIR} ARREARS_BUSINESS_DATE=${DEMO_DATE}
  .venv/bin/arrears portfolio --as-of ${DEMO_DATE} --json
  .venv/bin/arrears loan show ${LOAN} --as-of 2026-10-31      # any date: status is replayed
  .venv/bin/arrears payment reverse DEMO-PMT-1 --reason "cheque bounced 退票"
  .venv/bin/arrears cob --as-of ${DEMO_DATE}                   # re-run a date: results replaced
  .venv/bin/arrears snapshot --as-of ${DEMO_DATE} --out snapshot.parquet
  The small hand-made example book: .venv/bin/arrears import examples/book (into another database)
EOF
