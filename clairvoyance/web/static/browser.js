// The IQA browser: open a photo, see every face boxed with its scores, judge it against tolerance
// sliders live (verdicts are computed here from the scores), correct a failing face.
"use strict";

const state = { photo: null, tol: { focus: 0.5, noise: 0.5, lighting: 0.5 }, rule: "budget", policy: "all",
                touched: false };

// clairvoyance.verdict.POWER: the Minkowski power that joins the shares under the budget rule.
const BUDGET_POWER = 1.25;

// Each axis's loss from a perfect 1 as a share of what its tolerance allows, raised to BUDGET_POWER:
// what it spends of the budget of 1 (clairvoyance/verdict.py).
function shares(scores) {
  const out = {};
  for (const a of AXES) {
    const t = state.tol[a], loss = Math.max(0, 1 - scores[a]);
    out[a] = (t <= 0 ? 0 : t >= 1 ? (loss > 0 ? Infinity : 0) : loss / (1 - t)) ** BUDGET_POWER;
  }
  return out;
}

function budgetUsed(scores) {
  const s = shares(scores);
  return AXES.reduce((sum, a) => sum + s[a], 0) ** (1 / BUDGET_POWER);
}

// The axes a face fails on, as clairvoyance.verdict.failed_axes decides them: per-axis, those below
// their tolerance; budget, the fewest axes (largest share first) without which the rest add up to <= 1.
function failedAxes(scores) {
  if (state.rule === "per-axis") return AXES.filter((a) => scores[a] < state.tol[a]);
  const s = shares(scores), out = [];
  const rest = () => AXES.filter((a) => !out.includes(a)).reduce((sum, a) => sum + s[a], 0);
  for (const a of [...AXES].sort((x, y) => s[y] - s[x])) {
    if (rest() <= 1 + 1e-9) break;
    out.push(a);
  }
  return AXES.filter((a) => out.includes(a));
}

function judged(faces) {
  if (state.policy === "all" || faces.length <= 1) return faces.map((f) => f.index);
  let best = faces[0];
  for (const f of faces) if (f.box[2] * f.box[3] > best.box[2] * best.box[3]) best = f;
  return [best.index];
}

// The photo's verdict, as `clairvoyance run` would decide it before any correction.
function verdict(photo) {
  const faces = photo.faces;
  const judgedIdx = judged(faces);
  const failing = judgedIdx.filter((i) => failedAxes(faces[i].scores).length > 0);
  if (faces.length && faces[0].whole_image) {
    return failing.length ? ["no_face", "No face found · the whole image fails"]
                          : ["no_face", "No face found · the whole image passes"];
  }
  if (!failing.length) return ["pass", "Pass · selected"];
  const axes = [...new Set(failing.flatMap((i) => failedAxes(faces[i].scores)))];
  return ["fail", `Fail · ${axes.join(", ")} on face ${failing.map((i) => i + 1).join(", ")} (to correct)`];
}

function renderTolerances() {
  const box = document.getElementById("tolerances");
  box.replaceChildren(...AXES.map((a) => {
    const out = el("output", { id: `tol-${a}-value` }, fmt(state.tol[a]));
    const input = el("input", { type: "range", min: 0, max: 1, step: 0.01, value: state.tol[a], id: `tol-${a}`,
      "aria-label": `${a} tolerance`,
      oninput: (e) => { state.touched = true; state.tol[a] = Number(e.target.value); out.textContent = fmt(state.tol[a]); update(); } });
    return el("label", {}, a, input, out);
  }));
}

function bar(axis, score, failed) {
  const fail = failed.includes(axis);
  return el("div", { class: `bar${fail ? " fail" : ""}`, "data-axis": axis },
    el("span", {}, axis),
    el("div", { class: "track" },
      el("div", { class: "fill", style: { width: `${Math.max(0, Math.min(1, score)) * 100}%` } }),
      el("div", { class: "tol", style: { left: `${state.tol[axis] * 100}%` } })),
    el("span", {}, fmt(score)),
    el("span", { class: "ok" }, fail ? "fail" : "pass"));
}

function update() {
  const p = state.photo;
  if (!p) return;
  const [cls, text] = verdict(p);
  const v = document.getElementById("verdict");
  v.className = `verdict ${cls}`;
  v.textContent = text;
  v.dataset.verdict = cls;
  for (const f of p.faces) {
    const box = document.querySelector(`.box[data-face="${f.index}"]`);
    if (box) box.classList.toggle("fail", failedAxes(f.scores).length > 0);
  }
  const faces = document.getElementById("faces");
  const found = p.faces[0] && p.faces[0].whole_image ? `subject (no face of ${p.min_face} px or more found: the whole image, judged on its best areas)` : "face(s)";
  faces.replaceChildren(el("h3", {}, `${p.faces.length} ${found}`),
    ...p.faces.map((f) => {
      const failed = failedAxes(f.scores);
      return el("div", { class: "face", "data-face": f.index },
        el("img", { src: f.crop, alt: `face ${f.index + 1}` }),
        el("div", {},
          el("div", { class: "title" }, f.whole_image ? "Whole image" : `Face ${f.index + 1}`,
            el("span", { class: `badge ${failed.length ? "fail" : "pass"}` }, failed.length ? "fail" : "pass")),
          AXES.map((a) => bar(a, f.scores[a], failed)),
          state.rule === "budget" && failed.some((a) => f.scores[a] >= state.tol[a])
            ? el("p", { class: "muted small budget-note" },
                 `Within the tolerance on ${failed.filter((a) => f.scores[a] >= state.tol[a]).join(" + ")}, but ` +
                 `the losses on all axes together use ${fmt(budgetUsed(f.scores))} of the allowance (at most 1 passes).`)
            : null,
          failed.length ? el("button", { class: "primary correct", "data-face": f.index,
                                         onclick: () => correct(f.index) }, `Correct ${failed.join(" + ")}`) : null));
    }));
}

function renderPhoto() {
  const p = state.photo;
  const viewer = document.getElementById("viewer");
  const img = el("img", { src: p.image, alt: p.name, id: "photo" });
  const boxes = p.faces.map((f) => {
    const [x, y, w, h] = f.box;
    return el("div", { class: `box${f.whole_image ? " whole" : ""}`, "data-face": f.index, title: `face ${f.index + 1}`,
      style: { left: `${x / p.width * 100}%`, top: `${y / p.height * 100}%`,
               width: `${w / p.width * 100}%`, height: `${h / p.height * 100}%` },
      onclick: () => document.querySelector(`.face[data-face="${f.index}"]`).scrollIntoView({ behavior: "smooth" }) },
      el("span", {}, String(f.index + 1)));
  });
  viewer.replaceChildren(img, ...boxes);
  document.getElementById("photo-meta").textContent =
    `${p.name} · ${p.width}×${p.height} · ${p.faces.length} face(s) · ${p.model} · detector ${p.detector}`;
  document.getElementById("correction").replaceChildren();
  update();
}

async function open(query, name = null) {
  showError("");
  document.getElementById("verdict").textContent = "Looking…";
  try {
    state.photo = await api(`/api/photo?${new URLSearchParams(query)}`);
    state.photo.query = query;
    if (name) state.photo.name = name;
    renderPhoto();
    for (const t of document.querySelectorAll(".thumb")) t.classList.toggle("active", t.dataset.path === query.path);
    if (query.path) history.replaceState(null, "", `/?${new URLSearchParams({ path: query.path })}`);
  } catch (e) {
    showError(e.message);
    document.getElementById("verdict").textContent = "Cannot open this photo";
  }
}

async function correct(index) {
  const box = document.getElementById("correction");
  box.replaceChildren(el("p", { class: "muted" }, `Correcting face ${index + 1}…`));
  try {
    const r = await api("/api/correct", { method: "POST",
      json: { ...state.photo.query, face: index, tolerances: state.tol, verdict: state.rule } });
    box.replaceChildren(
      el("h3", {}, `Face ${index + 1}: ${r.axes.join(" + ")} corrected (${r.corrector}) · `,
        el("span", { class: `badge ${r.passes ? "pass" : "fail"}`, id: "correction-verdict" },
          r.passes ? "passes now" : "still fails")),
      el("div", { class: "pair" },
        el("figure", {}, el("img", { src: r.before.crop, alt: "before" }),
          el("figcaption", {}, "before · ", AXES.map((a) => `${a[0]} ${fmt(r.before.scores[a])}`).join(" "))),
        el("figure", {}, el("img", { src: r.after.crop, alt: "after", id: "after-crop" }),
          el("figcaption", {}, "after · ", AXES.map((a) => `${a[0]} ${fmt(r.after.scores[a])}`).join(" ")))),
      el("div", { class: "photo" }, el("img", { src: r.photo, alt: "corrected photo", id: "corrected-photo" }),
        el("figcaption", {}, "the corrected face pasted back into the photo")));
  } catch (e) {
    box.replaceChildren();
    showError(e.message);
  }
}

async function loadFolder() {
  const list = await api("/api/photos");
  const thumbs = document.getElementById("thumbs");
  document.getElementById("folder-title").textContent = list.folder ? `Photo folder: ${list.folder}` : "Photo folder";
  if (!list.folder) document.getElementById("folder-note").textContent = "No photo folder: start `clairvoyance serve PHOTO_DIR`.";
  else if (list.total > list.photos.length) document.getElementById("folder-note").textContent = `showing ${list.photos.length} of ${list.total}`;
  thumbs.replaceChildren(...list.photos.map((p) => el("button", { class: "thumb", "data-path": p.path, title: p.path,
      onclick: () => open({ path: p.path }) },
    thumbImg(p.thumb, p.path), el("span", {}, p.path))));
}

async function upload(file) {
  showError("");
  const form = new FormData();
  form.append("file", file);
  try {
    const r = await api("/api/upload", { method: "POST", body: form });
    await open({ upload: r.upload }, r.name);
  } catch (e) { showError(e.message); }
}

function setupUpload() {
  const input = document.getElementById("upload");
  const zone = document.getElementById("dropzone");
  input.addEventListener("change", () => input.files[0] && upload(input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  });
}

async function main() {
  nav("/");
  setupUpload();  // before any await: a file chosen while the page loads is not missed
  document.getElementById("policy").addEventListener("change", (e) => { state.policy = e.target.value; update(); });
  const rule = document.getElementById("rule");
  rule.addEventListener("change", (e) => { state.touched = true; state.rule = e.target.value; update(); });
  renderTolerances();
  const info = await api("/api/info").catch(() => null);
  if (info && !state.touched) {
    state.tol = { ...info.tolerances };
    state.rule = info.verdict || state.rule;
    rule.value = state.rule;
    renderTolerances();
    update();
  }
  loadFolder().catch((e) => showError(e.message));
  const q = new URLSearchParams(location.search);
  if (q.get("path")) open({ path: q.get("path") });
}

main();
