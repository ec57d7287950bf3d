import { api, el, fmtScore, fmtTime, header } from "./common.js";

const $ = (id) => document.getElementById(id);
const form = $("filters");
const FILTERS = ["from", "to", "class", "verdict"];

/** The filter lives in the page's URL, so a reload or a shared link shows the same rows. */
function filterFromUrl() {
  const u = new URLSearchParams(location.search);
  const q = new URLSearchParams();
  for (const k of FILTERS) if (u.get(k)) q.set(k, u.get(k));
  return q;
}

const toLocalInput = (ms) => {
  const d = new Date(ms);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
};

function fillForm(q) {
  for (const k of FILTERS) {
    const v = q.get(k) ?? "";
    form.elements[k].value = (k === "from" || k === "to") && v ? toLocalInput(/^\d+$/.test(v) ? Number(v) : Date.parse(v)) : v;
  }
}

function formToFilter() {
  const q = new URLSearchParams();
  for (const k of FILTERS) {
    const v = form.elements[k].value;
    if (!v) continue;
    q.set(k, k === "from" || k === "to" ? new Date(v).toISOString() : v);
  }
  return q;
}

async function loadClasses(selected) {
  const { classes } = await api("/api/classes");
  const sel = form.elements.class;
  sel.replaceChildren(el("option", { value: "" }, "any"), ...classes.map((c) => el("option", { value: c }, c)));
  sel.value = selected ?? "";
}

/** Rows per page: 50, or the page URL's limit. */
const PAGE_SIZE = /^\d{1,3}$/.test(new URLSearchParams(location.search).get("limit") ?? "") ? new URLSearchParams(location.search).get("limit") : "50";
let filter = filterFromUrl();
let next = null;
let page = 0;

function row(d) {
  const href = `/defects/${d.id}`;
  return el(
    "tr",
    { "data-id": d.id },
    el("td", {}, el("a", { href }, d.snapshot ? el("img", { class: "thumb", src: d.snapshot, loading: "lazy", alt: `part ${d.part_id}` }) : el("div", { class: "nothumb" }, "no image"))),
    el("td", {}, el("a", { href }, fmtTime(d.time_ms))),
    el("td", { class: "cls" }, d.class),
    el("td", {}, fmtScore(d.score)),
    el("td", { class: "dim" }, d.model_version),
    el("td", {}, d.operator_verdict ? el("span", { class: `tag ${d.operator_verdict}` }, d.operator_verdict.replace("_", " ")) : el("span", { class: "dim" }, "–")),
  );
}

async function load(before) {
  const q = new URLSearchParams(filter);
  q.set("limit", PAGE_SIZE);
  if (before) q.set("before", before);
  try {
    const r = await api(`/api/defects?${q}`);
    $("error").textContent = "";
    $("rows").replaceChildren(...r.items.map(row));
    next = r.next;
    page = before ? page + 1 : 1;
    $("older").disabled = !next;
    $("newest").disabled = page <= 1;
    $("pageinfo").textContent = r.items.length === 0 ? "no defects match" : `page ${page}`;
  } catch (e) {
    $("error").textContent = e.message;
  }
}

function apply() {
  const shown = new URLSearchParams(filter);
  if (PAGE_SIZE !== "50") shown.set("limit", PAGE_SIZE);
  history.replaceState(null, "", `/defects${shown.size > 0 ? `?${shown}` : ""}`);
  $("export").href = `/api/defects.csv${filter.size > 0 ? `?${filter}` : ""}`;
  void load();
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  filter = formToFilter();
  apply();
});
$("older").addEventListener("click", () => next && load(next));
$("newest").addEventListener("click", () => load());

header().catch((e) => ($("error").textContent = e.message));
fillForm(filter);
loadClasses(filter.get("class")).catch((e) => ($("error").textContent = e.message));
apply();
