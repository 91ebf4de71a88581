// The labelling studio: the model's prediction pre-fills three sliders; the labeller accepts or
// nudges them, by mouse or keyboard, against the calibration chart. Each change is saved at once.
"use strict";

const S = { items: [], index: -1, item: null, values: null, axis: 0, saving: Promise.resolve(), nav: 0 };

const clamp = (x) => Math.min(1, Math.max(0, Math.round(x * 100) / 100));
const who = () => document.getElementById("who").value.trim();

function setStatus(text) { document.getElementById("status").textContent = text; }

function renderProgress(labelled, total) {
  document.getElementById("progress-text").textContent = `${labelled} / ${total} labelled`;
  document.getElementById("progress-bar").style.width = `${total ? labelled / total * 100 : 0}%`;
}

function renderStats(stats) {
  const m = stats.mean_abs_change;
  document.getElementById("mac").replaceChildren(
    el("tr", {}, el("td", {}, "axis"), el("td", {}, "mean |label − prediction|")),
    ...AXES.map((a) => el("tr", {}, el("td", {}, a), el("td", { id: `mac-${a}` }, fmt(m[a], 3)))));
  document.getElementById("mac-note").textContent = m.n
    ? `over ${m.n} label(s). Fine-tune on them: clairvoyance train-iqa --data DATA_DIR --labels labels.sqlite --init iqa`
    : "no label yet";
}

function renderQueue() {
  const ol = document.getElementById("queue");
  ol.replaceChildren(...S.items.map((it, i) => el("li", {
    "data-file": it.file, class: [it.labelled ? "done" : "", i === S.index ? "current" : ""].join(" ").trim() || null,
    title: it.source || it.file, onclick: () => show(i) }, it.file.replace(/^crops\//, ""))));
  renderProgress(S.items.filter((i) => i.labelled).length, S.items.length);
  const cur = ol.children[S.index];
  if (cur) cur.scrollIntoView({ block: "nearest" });
}

function renderSliders() {
  const box = document.getElementById("sliders");
  const pred = S.item.prediction;
  box.replaceChildren(...AXES.map((a, k) => {
    const input = el("input", { type: "range", min: 0, max: 1, step: 0.01, value: S.values[a], id: `lab-${a}`,
      "aria-label": `${a} label`, tabindex: -1,
      oninput: (e) => { S.values[a] = Number(e.target.value); S.axis = k; refreshValues(); },
      onchange: () => save() });
    return el("label", { class: k === S.axis ? "selected" : null, "data-axis": a },
      el("span", {}, `${k + 1} · ${a}`),
      el("div", { class: "slider" }, input, el("div", { class: "pred", style: { left: `calc(${pred[a] * 100}% - 1px)` } })),
      el("span", { class: "small" }, el("b", { id: `lab-${a}-value` }, fmt(S.values[a])),
        el("span", { class: "muted" }, ` model ${fmt(pred[a])}`)));
  }));
  highlightChart();
}

function refreshValues() {
  for (const [k, a] of AXES.entries()) {
    document.getElementById(`lab-${a}`).value = S.values[a];
    document.getElementById(`lab-${a}-value`).textContent = fmt(S.values[a]);
    document.querySelector(`#sliders label[data-axis="${a}"]`).classList.toggle("selected", k === S.axis);
  }
  highlightChart();
}

function highlightChart() {
  for (const row of document.querySelectorAll("#minichart .row[data-axis]")) {
    row.classList.toggle("hl", row.dataset.axis === AXES[S.axis]);
  }
}

function labelText(label) {
  return label ? `labelled ${AXES.map((a) => `${a} ${fmt(label[a])}`).join(", ")}${label.who ? ` by ${label.who}` : ""} at ${label.labelled_at}`
               : "not labelled yet: the sliders show the model's prediction";
}

// Shows item i. Navigation may run ahead of the network: the latest call wins, and until its item
// has arrived only navigation keys act (a nudge never lands on the wrong crop).
async function show(i) {
  if (i < 0 || i >= S.items.length) return;
  const token = ++S.nav;
  S.index = i;
  S.item = null;
  await S.saving;
  let item;
  try {
    item = await api(`/api/studio/item?${new URLSearchParams({ file: S.items[i].file })}`);
  } catch (e) { if (token === S.nav) showError(e.message); return; }
  if (token !== S.nav) return;
  showError("");
  S.item = item;
  const src = S.item.label || S.item.prediction;
  S.values = Object.fromEntries(AXES.map((a) => [a, clamp(src[a])]));
  document.getElementById("crop").src = S.item.image;
  document.getElementById("item-title").textContent = `Face ${i + 1} of ${S.items.length} · ${S.item.split || ""}`;
  renderSliders();
  renderQueue();
  setStatus(labelText(S.item.label));
  history.replaceState(null, "", `/studio#${encodeURIComponent(S.item.file)}`);
}

// Saves the current values (serialised: saves reach the server in the order they were made).
function save(values = S.values) {
  if (!S.item) return S.saving;
  const file = S.item.file;
  const body = { file, ...values, who: who() };
  S.saving = S.saving.then(async () => {
    try {
      const r = await api("/api/labels", { method: "PUT", json: body });
      const it = S.items.find((x) => x.file === file);
      if (it) it.labelled = true;
      if (S.item && S.item.file === file) { S.item.label = r.label; setStatus(`saved · ${labelText(r.label)}`); }
      renderQueue();
      renderStats(r.stats);
    } catch (e) { showError(`not saved: ${e.message}`); }
  });
  return S.saving;
}

async function accept() {
  S.values = Object.fromEntries(AXES.map((a) => [a, clamp(S.item.prediction[a])]));
  refreshValues();
  await save(S.item.prediction);
  await show(Math.min(S.index + 1, S.items.length - 1));
}

async function saveNext() { await save(); await show(Math.min(S.index + 1, S.items.length - 1)); }

function nudge(delta) {
  const a = AXES[S.axis];
  S.values[a] = clamp(S.values[a] + delta);
  refreshValues();
  save();
}

function onKey(e) {
  if (!S.items.length || e.target.id === "who" || e.ctrlKey || e.metaKey || e.altKey) return;
  const step = e.shiftKey ? 0.01 : 0.05;
  const k = e.key;
  const moves = {
    ArrowRight: () => show(S.index + 1), n: () => show(S.index + 1),
    ArrowLeft: () => show(S.index - 1), p: () => show(S.index - 1),
  };
  const move = moves[k] || moves[k.toLowerCase()];
  if (move) { e.preventDefault(); move(); return; }
  if (!S.item) { if ([" ", "Enter", "ArrowUp", "ArrowDown"].includes(k)) e.preventDefault(); return; }
  const actions = {
    Enter: accept, a: accept, " ": saveNext, s: saveNext,
    1: () => { S.axis = 0; refreshValues(); }, 2: () => { S.axis = 1; refreshValues(); },
    3: () => { S.axis = 2; refreshValues(); },
    ArrowUp: () => nudge(step), ArrowDown: () => nudge(-step), "+": () => nudge(step), "=": () => nudge(step),
    "-": () => nudge(-step),
  };
  const fn = actions[k] || actions[k.toLowerCase()];
  if (!fn) return;
  e.preventDefault();
  fn();
}

async function loadChart() {
  const c = await api("/api/chart");
  document.getElementById("minichart").replaceChildren(
    el("div", { class: "row" }, el("span", {}), c.levels.map((l) => el("span", { class: "hdr" }, fmt(l)))),
    ...c.rows.map((r) => el("div", { class: "row", "data-axis": r.axis },
      el("span", { class: "name" }, r.title), r.items.map((it) => el("img", { src: it.image, alt: `${r.title} ${it.label}`,
        title: `${r.title}: label ${fmt(it.label)}` })))));
  highlightChart();
}

async function main() {
  nav("/studio");
  const whoBox = document.getElementById("who");
  whoBox.value = localStorage.getItem("clairvoyance.who") || "";
  whoBox.addEventListener("change", () => localStorage.setItem("clairvoyance.who", whoBox.value.trim()));
  document.getElementById("prev").addEventListener("click", () => show(S.index - 1));
  document.getElementById("next").addEventListener("click", () => show(S.index + 1));
  document.getElementById("accept").addEventListener("click", () => S.item && accept());
  document.getElementById("save-next").addEventListener("click", () => S.item && saveNext());
  document.addEventListener("keydown", onKey);
  loadChart().catch((e) => showError(e.message));
  api("/api/studio/stats").then(renderStats).catch(() => {});
  let q;
  try { q = await api("/api/studio/queue"); } catch (e) { showError(e.message); return; }
  S.items = q.items;
  document.getElementById("dataset").textContent = `${q.dataset} · model ${q.model}`;
  if (!S.items.length) { setStatus("the dataset has no crops"); renderQueue(); return; }
  const wanted = decodeURIComponent(location.hash.slice(1));
  let start = S.items.findIndex((it) => it.file === wanted);
  if (start < 0) start = S.items.findIndex((it) => !it.labelled);
  await show(start < 0 ? 0 : start);
}

main();
