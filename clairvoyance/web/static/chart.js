// The calibration chart: per axis, reference crops at labels 0, 0.25, 0.5, 0.75 and 1.
"use strict";

function strengthText(row, s) {
  if (row.axis === "lighting") return `${s > 0 ? "+" : ""}${fmt(s)} EV`;
  return `${row.axis === "focus" ? "σ" : "noise"} ${fmt(s, row.axis === "focus" ? 2 : 1)}${row.axis === "focus" ? " px" : ""}`;
}

async function main() {
  nav("/chart");
  const c = await api("/api/chart");
  const table = document.getElementById("chart");
  table.replaceChildren(
    el("tr", {}, el("th", {}, "label →"), c.levels.map((l) => el("th", {}, fmt(l)))),
    ...c.rows.map((row) => el("tr", { "data-row": row.key },
      el("th", { class: "row" }, row.title),
      row.items.map((it) => el("td", {},
        el("img", { src: it.image, alt: `${row.title} at ${it.label}` }),
        el("div", { class: "strength" }, strengthText(row, it.strength)))))));
}

main().catch((e) => showError(e.message));
