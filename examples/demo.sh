#!/usr/bin/env bash
# Arrears demo 演示: import the example loan book, look at its status on the demo date,
# post a payment to an overdue loan and watch its status change.
#
# Run by `make demo` (which creates .venv and installs Arrears first), from the repository root.
# Repeatable: the demo database ./arrears-demo.db is deleted and rebuilt on every run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ARREARS=.venv/bin/arrears
PYTHON=.venv/bin/python
DEMO_DB=./arrears-demo.db
DEMO_DATE=2026-11-30        # the example book (examples/make_book.py) is built for this date
LOAN=L00008                 # consumer loan, two instalments unpaid on the demo date (M2)

if [[ ! -x "$ARREARS" ]]; then
    echo "error 错误: $ARREARS not found — run \`make demo\` (it creates .venv and installs Arrears)" >&2
    exit 2
fi

# Rich sizes tables to the terminal; when the output is piped (a log, CI) give it room.
[[ -t 1 ]] || export COLUMNS="${COLUMNS:-160}"

export ARREARS_DATABASE_URL="sqlite:///${DEMO_DB}"
rm -f "$DEMO_DB" "$DEMO_DB-wal" "$DEMO_DB-shm"

if [[ -t 1 ]]; then BOLD=$'\033[1m' DIM=$'\033[2m' RESET=$'\033[0m'; else BOLD='' DIM='' RESET=''; fi
step() {
    printf '\n%s== %s%s\n' "$BOLD" "$1" "$RESET"
    printf '%s$ %s%s\n' "$DIM" "$2" "$RESET"
}

# ---------------------------------------------------------------------------------------------
step "1. Create the database 创建数据库" "arrears db upgrade"
"$ARREARS" db upgrade

step "2. Import the example loan book 导入示例贷款簿 (all or nothing 全部成功或全部不写入)" \
    "arrears import examples/book"
"$ARREARS" import examples/book

step "3. The book's status on $DEMO_DATE 贷款簿状态 (DPD, bucket 账龄, five categories 五级分类, IFRS 9 stage)" \
    "arrears loan list --as-of $DEMO_DATE --limit 100"
"$ARREARS" loan list --as-of "$DEMO_DATE" --limit 100

step "4. One overdue loan in detail 单笔逾期贷款详情" \
    "arrears loan show $LOAN --as-of $DEMO_DATE"
"$ARREARS" loan show "$LOAN" --as-of "$DEMO_DATE"

step "5. A repayment schedule from terms 由贷款条件生成还款计划 (等额本息, 120,000 at 12% for 12 months)" \
    "arrears schedule --principal 120000 --annual-rate 0.12 --term 12 --method equal_installment --disbursed-on 2026-01-15"
"$ARREARS" schedule --principal 120000 --annual-rate 0.12 --term 12 \
    --method equal_installment --disbursed-on 2026-01-15

# The demo works on the example book's business date, whatever the calendar says.
export ARREARS_BUSINESS_DATE="$DEMO_DATE"
PAID_ON=$DEMO_DATE
AMOUNT=$("$ARREARS" loan show "$LOAN" --as-of "$PAID_ON" --json | "$PYTHON" -c '
import json, sys
from decimal import Decimal
v = json.load(sys.stdin)
print(sum(Decimal(v[k]) for k in ("overdue_principal", "overdue_interest", "overdue_fee", "overdue_penalty")))
')

step "6. Post a payment of $AMOUNT CNY to $LOAN on $PAID_ON 还款入账（结清逾期金额）" \
    "arrears payment post $LOAN --amount $AMOUNT --paid-on $PAID_ON --payment-id DEMO-PMT-1 --reference demo"
"$ARREARS" payment post "$LOAN" --amount "$AMOUNT" --paid-on "$PAID_ON" \
    --payment-id DEMO-PMT-1 --reference demo

step "7. The same loan on $DEMO_DATE, after the payment 入账后再看同一笔贷款" \
    "arrears loan show $LOAN --as-of $DEMO_DATE"
"$ARREARS" loan show "$LOAN" --as-of "$DEMO_DATE"

# ---------------------------------------------------------------------------------------------
cat <<EOF

== What you just saw 刚才演示了什么

中文：
  1. 建库：\`arrears db upgrade\` 用内置的 Alembic 迁移创建了 SQLite 数据库 ${DEMO_DB}。
  2. 导入：examples/book 中的借款人、贷款、还款计划和还款记录经逐行校验后一次性写入
     （任何一行有错则整批不写入，并给出错误报告）。
  3. 贷款簿状态：每笔贷款在 ${DEMO_DATE} 的逾期天数 (DPD)、账龄 (M0…M6+)、五级分类
     (正常/关注/次级/可疑/损失) 和 IFRS 9 阶段，都是根据还款计划和截至该日的还款记录实时重算的。
  4. 单笔详情：${LOAN} 有两期未还，逾期 54 天，处于 M2、关注类、IFRS 9 第 2 阶段，罚息按日计提，
     罚息利率受综合成本上限 (24%) 约束。
  5. 还款计划：等额本息，最后一期吸收舍入差额。
  6–7. 入账：一笔还清逾期金额的还款立即改变状态——逾期天数归零，回到 M0、正常类、第 1 阶段。

English:
  1. \`arrears db upgrade\` created the SQLite database ${DEMO_DB} from the migrations shipped
     inside the package.
  2. The example book (borrowers, loans, schedules, payments) was validated row by row and written
     in one transaction: one bad row and nothing lands, with a report of what was wrong.
  3. Every loan's days past due, bucket (M0 … M6+), five-category class and IFRS 9 stage on
     ${DEMO_DATE}, replayed from its schedule and the payments dated on or before that day.
  4. ${LOAN}: two instalments unpaid, 54 DPD, M2, special mention, Stage 2; penalty interest
     accrues per day at a rate cut down so that contract rate + penalty stays within the 24% cap.
  5. An equal-instalment (annuity) schedule; the last instalment absorbs the rounding.
  6–7. One payment of what was overdue changes the status at once: 0 DPD, M0, normal, Stage 1.

== Explore further 继续探索 (from the repository root 在仓库根目录下)

  export ARREARS_DATABASE_URL=${ARREARS_DATABASE_URL}
  export ARREARS_BUSINESS_DATE=${DEMO_DATE}   # "today" for the demo book 演示业务日期

  .venv/bin/arrears loan list --as-of ${DEMO_DATE} --limit 100 --json
  .venv/bin/arrears loan show L00020 --as-of ${DEMO_DATE}     # card product, 203 DPD → loss 损失
  .venv/bin/arrears loan show ${LOAN} --as-of 2027-02-28      # any date: status is replayed
  .venv/bin/arrears payment reverse DEMO-PMT-1 --reason "cheque bounced 退票"
  .venv/bin/arrears products                                  # the product catalog 产品目录
  .venv/bin/arrears --help

  Docs 文档: README.md, docs/cli.md, docs/rules.md, docs/architecture.md
  Start again 重来: make demo
EOF
