// The folder view: a run's photos with their verdicts and failing axes, filterable by status.
"use strict";

const STATUSES = ["selected", "corrected", "rejected", "no_face", "error"];
const LABELS = { selected: "selected", corrected: "corrected", rejected: "rejected", no_face: "no face", error: "error" };
const view = { run: null, data: null, status: null };

function card(item) {
  const open = item.open ? `/?${new URLSearchParams({ path: item.open })}` : null;
  const img = item.thumb ? thumbImg(item.thumb, item.file) : "no preview";
  return el("div", { class: "card", "data-status": item.status, "data-file": item.file },
    el(open ? "a" : "div", { href: open, title: open ? "open in the IQA browser" : null },
      el("div", { class: "img" }, img),
      el("div", { class: "body" },
        el("div", { class: "name", title: item.file }, item.file),
        el("span", { class: `badge ${item.status}` }, LABELS[item.status] || item.status), " ",
        item.failed.map((a) => el("span", { class: "chip fail" }, a)),
        el("div", { class: "reason", title: item.reason }, item.error || item.reason))));
}

function render() {
  const d = view.data;
  const filters = document.getElementById("filters");
  const button = (status, text, n) => el("button", { class: view.status === status ? "active" : null,
      "data-filter": status || "all", onclick: () => { view.status = status; render(); } }, `${text} (${n})`);
  filters.replaceChildren(el("span", { class: "muted small" }, "show:"), button(null, "all", d.total),
    ...STATUSES.map((s) => button(s, LABELS[s], d.counts[s])));
  const shown = d.images.filter((i) => !view.status || i.status === view.status);
  document.getElementById("grid").replaceChildren(...shown.map(card));
  document.getElementById("empty").textContent = shown.length ? "" : "No photo with this status.";
  const tol = d.tolerances ? AXES.map((a) => `${a} ${fmt(d.tolerances[a])}`).join(", ") : "";
  document.getElementById("run-meta").textContent =
    ` ${d.total} photos · model ${d.model} · tolerances ${tol} · verdict ${d.verdict}`;
  const q = new URLSearchParams({ run: view.run });
  if (view.status) q.set("status", view.status);
  history.replaceState(null, "", `/folder?${q}`);
}

async function load(run) {
  showError("");
  view.run = run;
  try {
    view.data = await api(`/api/run?${new URLSearchParams({ run })}`);
    render();
  } catch (e) { showError(e.message); }
}

async function main() {
  nav("/folder");
  const q = new URLSearchParams(location.search);
  view.status = q.get("status");
  const { runs } = await api("/api/runs");
  const select = document.getElementById("run");
  if (!runs.length) {
    document.getElementById("empty").textContent =
      "No run here yet: `clairvoyance run PHOTO_DIR` writes report.json, which this view reads.";
    return;
  }
  select.replaceChildren(...runs.map((r) => el("option", { value: r.run },
    `${r.run === "." ? "(photo folder)" : r.run} · ${r.photos} photos`)));
  select.addEventListener("change", () => load(select.value));
  const start = runs.some((r) => r.run === q.get("run")) ? q.get("run") : runs[0].run;
  select.value = start;
  load(start);
}

main().catch((e) => showError(e.message));
