// Shared by every page: the JSON API client, a tiny element builder, the navigation bar.
"use strict";

const AXES = ["focus", "noise", "lighting"];

async function api(path, options = {}) {
  const opts = { ...options, headers: { ...(options.headers || {}) } };
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const msg = data && data.detail ? data.detail : `${res.status} ${res.statusText}`;
    throw new Error(msg);
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style" && typeof v === "object") Object.assign(node.style, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// An <img> that turns into a "no preview" note when the server cannot make one (e.g. a corrupt file).
function thumbImg(src, alt, cls = "none") {
  const img = el("img", { src, alt, loading: "lazy" });
  img.addEventListener("error", () => img.replaceWith(el("span", { class: cls }, "no preview")));
  return img;
}

function fmt(x, digits = 2) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }

function showError(msg) {
  const box = document.getElementById("error");
  if (box) box.textContent = msg || "";
}

function nav(active) {
  const links = [["/", "IQA browser"], ["/folder", "Folder view"], ["/chart", "Calibration chart"],
                 ["/studio", "Labelling studio"]];
  const header = el("header", { class: "top" },
    el("span", { class: "brand" }, "Clairvoyance"),
    el("nav", {}, links.map(([href, name]) => el("a", { href, class: href === active ? "active" : null }, name))),
    el("span", { class: "right" }, el("a", { href: "/docs" }, "API"), " ", el("span", { id: "info" })));
  document.body.prepend(header);
  api("/api/info").then((i) => {
    document.getElementById("info").textContent = ` · model ${i.model} · v${i.version}`;
  }).catch(() => {});
}
