// Shared by every page: API calls, the header, boxes over an image.

export async function api(path, options = {}) {
  // A request that changes state is always JSON (the server refuses anything else): an empty one is {}.
  const changes = (options.method ?? "GET") !== "GET";
  const res = await fetch(path, {
    ...options,
    ...(changes ? { body: options.body ?? "{}" } : {}),
    headers: { accept: "application/json", ...(changes ? { "content-type": "application/json" } : {}) },
  });
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : undefined;
  if (!res.ok) throw new Error(body?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

export function fmtTime(ms) {
  return new Date(ms).toLocaleString(undefined, { hour12: false });
}

export function fmtScore(s) {
  return s === null || s === undefined ? "–" : s.toFixed(3);
}

/** Who is looking: pages disable the buttons a viewer may not use. */
export async function header() {
  for (const a of document.querySelectorAll("nav a")) {
    const here = location.pathname === a.getAttribute("href") || (a.getAttribute("href") === "/defects" && location.pathname.startsWith("/defects/"));
    if (here) a.setAttribute("aria-current", "page");
  }
  const me = await api("/api/me");
  document.getElementById("who").textContent = `${me.name} (${me.role})`;
  return me;
}

const SVG = "http://www.w3.org/2000/svg";

/** Draws findings with boxes ([x, y, w, h] in frame pixels) into an SVG laid over the image. */
export function drawBoxes(svg, findings, width, height) {
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.replaceChildren();
  for (const f of findings) {
    if (!f.box) continue;
    const [x, y, w, h] = f.box;
    const r = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({ x, y, width: w, height: h, class: "box", "data-class": f.class })) r.setAttribute(k, String(v));
    const t = document.createElementNS(SVG, "text");
    t.setAttribute("x", String(x));
    t.setAttribute("y", String(Math.max(16, y - 4)));
    t.setAttribute("class", "label");
    t.textContent = `${f.class} ${fmtScore(f.score)}`;
    svg.append(r, t);
  }
}
