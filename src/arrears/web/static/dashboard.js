/* Dashboard charts (Apache ECharts, served from the package). Data: #dashboard-data, written by
   the server from reports.html.report_context — the same figures as `arrears portfolio`. */
(function () {
  var holder = document.getElementById("dashboard-data");
  if (!holder || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var me = document.getElementById("dashboard-js");
  var zh = (me && me.getAttribute("data-lang")) !== "en";
  var L = function (en, cn) { return zh ? cn : en; };
  var narrow = window.innerWidth < 700;
  var charts = [];
  var money = function (v) { return v == null ? "—" : v.toLocaleString("en-US", {maximumFractionDigits: 0}); };
  var pct = function (v) { return v == null ? "—" : v.toFixed(v > 0 && v < 1 ? 2 : 1) + "%"; };
  var short = function (v) { return v >= 1e6 ? (v / 1e6) + "M" : v >= 1e3 ? (v / 1e3) + "k" : v; };
  var base = {animation: false, textStyle: {fontFamily: "system-ui, Noto Sans CJK SC, WenQuanYi Zen Hei, PingFang SC, Microsoft YaHei, sans-serif"}};
  function make(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el, null, {renderer: "canvas"});
    chart.setOption(Object.assign({}, base, option));
    el.setAttribute("data-drawn", "1");
    charts.push(chart);
  }
  var unit = L("loans", "笔");

  make("chart-buckets", {
    grid: {left: narrow ? 50 : 80, right: 16, top: 40, bottom: 40},
    tooltip: {trigger: "axis", valueFormatter: money},
    xAxis: {type: "category", data: data.buckets.map(function (b) { return b.name; }), name: L("bucket", "账龄"), nameLocation: "middle", nameGap: 26},
    yAxis: {type: "value", name: L("balance", "余额") + " (" + data.currency + ")", axisLabel: {formatter: short}},
    series: [{type: "bar", name: L("balance", "余额"), data: data.buckets.map(function (b) { return {value: b.balance, count: b.count, share: b.share}; }),
              itemStyle: {color: "#c2410c"},
              label: {show: true, position: "top", formatter: function (p) { return p.data.count + " " + unit + "\n" + pct(p.data.share); }}}]
  });

  make("chart-classification", {
    grid: {left: narrow ? 80 : 110, right: 70, top: 20, bottom: 30},
    tooltip: {trigger: "axis", valueFormatter: money},
    xAxis: {type: "value", name: data.currency, axisLabel: {formatter: short}},
    yAxis: {type: "category", inverse: true, data: data.classification.map(function (c) { return c.name; })},
    series: [{type: "bar", name: L("balance", "余额"),
              data: data.classification.map(function (c) { return {value: c.balance, count: c.count, share: c.share, itemStyle: {color: c.npl ? "#b91c1c" : "#0f766e"}}; }),
              label: {show: true, position: "right", formatter: function (p) { return p.data.count + " " + unit + " · " + pct(p.data.share); }}}]
  });

  if (data.roll) {
    make("chart-roll", {
      grid: {left: narrow ? 44 : 150, right: 16, top: 10, bottom: 80},
      tooltip: {formatter: function (p) { return data.roll.rows[p.value[1]] + " → " + data.roll.cols[p.value[0]] + ": " + pct(p.value[2]); }},
      xAxis: {type: "category", data: data.roll.cols, axisLabel: {interval: 0, rotate: 30}, splitArea: {show: true}},
      yAxis: {type: "category", inverse: true, splitArea: {show: true},
              data: data.roll.rows.map(function (r) { return narrow ? r.split(" (")[0] : r; })},
      visualMap: {min: 0, max: 100, calculable: false, orient: "horizontal", right: 10, bottom: 0, itemWidth: 12, itemHeight: 100,
                  text: ["100%", "0%"], inRange: {color: ["#f8fafc", "#fde68a", "#f97316", "#b91c1c"]}},
      series: [{type: "heatmap", data: data.roll.cells,
                label: {show: true, fontSize: narrow ? 9 : 12, formatter: function (p) { return p.value[2] === 0 ? "" : narrow ? Math.round(p.value[2]) + "%" : pct(p.value[2]); }}}]
    });
  }

  make("chart-vintage", {
    grid: {left: 56, right: 16, top: narrow ? 110 : 70, bottom: 50},
    legend: {type: "scroll", top: 0},
    color: ["#1d4ed8", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#65a30d",
            "#475569", "#ea580c", "#4f46e5", "#a16207"],
    tooltip: {trigger: "axis", valueFormatter: pct},
    xAxis: {type: "value", name: L("months on book (MOB)", "账龄月数 (MOB)"), nameLocation: "middle", nameGap: 28, minInterval: 1},
    yAxis: {type: "value", name: L("ever " + data.vintage_days + "+ %", "累计逾期" + data.vintage_days + "+ 占比 %"), axisLabel: {formatter: "{value}%"}},
    series: data.vintage.map(function (v) { return {type: "line", name: v.name, data: v.points, showSymbol: true, symbolSize: 5}; })
  });

  make("chart-trend", {
    grid: {left: 56, right: 16, top: 40, bottom: 60},
    legend: {top: 0},
    tooltip: {trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(2) + "%"; }},
    xAxis: {type: "category", data: data.trend.dates, name: L("month-end", "月末"), nameLocation: "middle", nameGap: 45, axisLabel: {interval: 0, rotate: data.trend.dates.length > 4 ? 30 : 0}},
    yAxis: {type: "value", axisLabel: {formatter: "{value}%"}},
    series: [
      {type: "line", name: "PAR30", data: data.trend.par30, color: "#f59e0b"},
      {type: "line", name: "PAR90", data: data.trend.par90, color: "#dc2626", lineStyle: {width: 3}},
      {type: "line", name: L("NPL", "不良率"), data: data.trend.npl, color: "#7c3aed", lineStyle: {type: "dashed", width: 2}, symbol: "diamond"}
    ]
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
