import { api, el, fmtTime, header } from "./common.js";

const $ = (id) => document.getElementById(id);
let me = { role: "viewer" };
let next = null;
let before = null;

function row(a) {
  let ack;
  if (!a.active) ack = el("span", { class: "dim" }, "–");
  else if (a.acked_by) ack = el("span", {}, `${a.acked_by}, ${fmtTime(a.acked_ms)}`);
  else
    ack = el(
      "button",
      {
        type: "button",
        class: "ack",
        disabled: me.role !== "operator",
        title: me.role === "operator" ? "" : "needs the operator role",
        onclick: async () => {
          try {
            await api(`/api/alarms/${a.id}/ack`, { method: "POST" });
            await load(before);
          } catch (e) {
            $("error").textContent = e.message;
          }
        },
      },
      "Acknowledge",
    );
  return el(
    "tr",
    { "data-id": a.id },
    el("td", {}, fmtTime(a.time_ms)),
    el("td", {}, a.code),
    el("td", {}, a.message),
    el("td", {}, el("span", { class: `tag ${a.active ? "active" : "cleared"}` }, a.active ? "raised" : "cleared")),
    el("td", { class: "acked" }, ack),
  );
}

async function load(from) {
  before = from;
  try {
    const r = await api(`/api/alarms?limit=50${from ? `&before=${from}` : ""}`);
    $("rows").replaceChildren(...(r.items.length > 0 ? r.items.map(row) : [el("tr", {}, el("td", { colspan: 5, class: "dim" }, "no alarms"))]));
    next = r.next;
    $("older").disabled = !next;
    $("newest").disabled = !from;
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  }
}

$("older").addEventListener("click", () => next && load(next));
$("newest").addEventListener("click", () => load(null));
header()
  .then((m) => (me = m))
  .catch((e) => ($("error").textContent = e.message))
  .finally(() => load(null));
