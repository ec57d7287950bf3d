import { api, drawBoxes, el, fmtScore, fmtTime, header } from "./common.js";

const $ = (id) => document.getElementById(id);
const id = location.pathname.split("/").pop();
/** Frame size when no snapshot was kept: the box extents on the synthetic line's default frame. */
const FALLBACK = [640, 480];

function showVerdict(d) {
  $("opverdict").textContent = d.operator_verdict ? d.operator_verdict.replace("_", " ") : "unreviewed";
  $("opverdict").className = `tag ${d.operator_verdict ?? ""}`;
  $("opverdict").dataset.verdict = d.operator_verdict ?? "";
  $("opby").textContent = d.operator ? `by ${d.operator}${d.verdict_time_ms ? ` at ${fmtTime(d.verdict_time_ms)}` : ""}` : "";
}

async function load(me) {
  const d = await api(`/api/defects/${encodeURIComponent(id)}`);
  $("title").textContent = `Part ${d.part_id} (run ${d.run_id})`;
  $("class").textContent = d.class;
  $("class").className = `tag ${d.outcome}`;
  $("time").textContent = fmtTime(d.time_ms);
  $("meta").textContent = `model ${d.model_version} · verdict ${d.verdict}${d.failsafe ? ` · fail-safe: ${d.failsafe}` : ""}${d.detail ? ` · ${d.detail}` : ""}`;
  // A part seen by several cameras: which view saw each finding, and each view's own verdict.
  const several = d.views.length > 0;
  $("viewcol").hidden = !several;
  $("findings").replaceChildren(
    ...d.findings.map((f) =>
      el("tr", { class: "finding" }, el("td", {}, f.class), el("td", {}, fmtScore(f.score)), el("td", { class: "dim" }, f.box ? f.box.map((v) => Math.round(v)).join(", ") : "–"), several ? el("td", {}, f.view ?? "–") : null),
    ),
  );
  $("viewsection").hidden = !several;
  $("views").replaceChildren(
    ...d.views.map((v) =>
      el("tr", { class: "view" }, el("td", {}, v.view), el("td", {}, el("span", { class: `tag ${v.verdict === "pass" ? "accepted" : "rejected"}` }, v.verdict)), el("td", {}, v.class ?? "–"), el("td", {}, v.score === null ? "–" : fmtScore(v.score)), el("td", { class: "dim" }, v.failsafe ? `${v.failsafe}${v.detail ? `: ${v.detail}` : ""}` : "")),
    ),
  );
  $("timings").replaceChildren(
    ...Object.entries(d.timings_ms).map(([k, v]) => el("tr", {}, el("th", {}, k.replace("_", " ")), el("td", {}, v === null ? "–" : v.toFixed(2)))),
  );
  showVerdict(d);
  if (d.snapshot) {
    // The snapshot of an anomaly reject carries the anomaly head's map (drawn when it was encoded).
    $("heatnote").hidden = !d.findings.some((f) => f.class === "anomaly");
    const img = $("snapshot");
    // The views' snapshot has its boxes drawn in, each in its own panel.
    if (!several) img.onload = () => drawBoxes($("boxes"), d.findings, img.naturalWidth, img.naturalHeight);
    img.src = d.snapshot;
  } else {
    $("snapshot").hidden = true;
    $("nosnap").hidden = false;
    const w = Math.max(FALLBACK[0], ...d.findings.map((f) => (f.box ? f.box[0] + f.box[2] : 0)));
    const h = Math.max(FALLBACK[1], ...d.findings.map((f) => (f.box ? f.box[1] + f.box[3] : 0)));
    drawBoxes($("boxes"), d.findings, w, h);
  }
  const canAct = me.role === "operator" && d.outcome === "rejected";
  for (const [button, verdict] of [[$("confirm"), "confirmed"], [$("false"), "false_reject"]]) {
    button.disabled = !canAct;
    button.title = canAct ? "" : "needs the operator role";
    button.onclick = async () => {
      try {
        await api(`/api/defects/${encodeURIComponent(id)}/verdict`, { method: "PUT", body: JSON.stringify({ verdict }) });
        showVerdict(await api(`/api/defects/${encodeURIComponent(id)}`));
        $("error").textContent = "";
      } catch (e) {
        $("error").textContent = e.message;
      }
    };
  }
}

header()
  .then(load)
  .catch((e) => ($("error").textContent = e.message));
