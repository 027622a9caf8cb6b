// Reports page: the tables under the charts, each with its CSV download (the server writes the CSV).
"use strict";

const reportTables = (() => {
  const TITLES = {
    periods: "Per period", queues: "Per queue", agents: "Per agent", escalation_reasons: "Escalation reasons",
    intents: "Top intents", articles: "Knowledge answers by article", hour_of_day: "Hour of day (average day)",
    day_of_week: "Day of week (average day)", staff_plan: "Staff plan by hour of day",
  };
  const HEADERS = {
    asa_seconds: "ASA (s)", aht_seconds: "AHT (s)", talk_seconds: "talk (s)", wrap_up_seconds: "wrap-up (s)",
    expected_asa_seconds: "expected ASA (s)", service_level: "service level", expected_service_level:
    "expected service level", ivr_containment: "IVR containment", traffic_erlangs: "traffic (erlangs)",
    agents_needed: "agents needed", agents_rostered: "agents to roster", signed_in: "signed in",
  };
  const isRate = (name) => /(rate|level|containment|share)$/.test(name);
  const isNumber = (value) => typeof value === "number";

  function format(name, value) {
    if (value === null || value === undefined) return "-";
    if (isRate(name) && isNumber(value)) return `${(value * 100).toFixed(1)} %`;
    if (isNumber(value) && !Number.isInteger(value)) return value.toFixed(1);
    return String(value);
  }

  function csvLink(query, name) {
    const params = new URLSearchParams(query);
    params.set("format", "csv");
    params.set("table", name);
    const link = document.createElement("a");
    link.href = `/supervisor/api/report?${params}`;
    link.textContent = "CSV";
    link.id = `csv-${name}`;
    link.setAttribute("download", "");
    return link;
  }

  function block(report, query, name) {
    const columns = report.columns[name];
    const section = document.createElement("div");
    section.className = "table-block";
    const title = document.createElement("h3");
    title.textContent = TITLES[name] || name;
    title.appendChild(csvLink(query, name));
    const table = document.createElement("table");
    table.id = `table-${name}`;
    const head = table.createTHead().insertRow();
    for (const column of columns) {
      const cell = document.createElement("th");
      cell.textContent = HEADERS[column] || column.replaceAll("_", " ");
      if (column !== columns[0]) cell.className = "num";
      head.appendChild(cell);
    }
    const body = table.createTBody();
    for (const row of report[name]) {
      const line = body.insertRow();
      columns.forEach((column, index) => {
        const cell = line.insertCell();
        cell.textContent = format(column, row[column]);
        if (index) cell.className = "num";
      });
    }
    section.append(title, table);
    return section;
  }

  function render(target, report, query) {
    target.replaceChildren(...Object.keys(report.columns).map((name) => block(report, query, name)));
  }

  return { render, format };
})();
