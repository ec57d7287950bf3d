import { drawBoxes, el, header, fmtScore } from "./common.js";

const $ = (id) => document.getElementById(id);
let shownSeq = null;
/** The line shown (`?line=`); the station's first without it. */
const line = new URLSearchParams(location.search).get("line");
const lineQuery = line === null ? "" : `line=${encodeURIComponent(line)}`;

/** A station with several lines offers each; choosing one reloads the page on it. */
function showLines(s) {
  const pick = $("line");
  if (s.lines.length < 2) return;
  if (pick.hidden) {
    pick.replaceChildren(...s.lines.map((name) => el("option", { value: name }, `line ${name}`)));
    pick.onchange = () => (location.search = `?line=${encodeURIComponent(pick.value)}`);
    pick.hidden = false;
  }
  pick.value = s.line;
}

function show(s) {
  showLines(s);
  $("state").textContent = s.paused ? "paused" : s.camera_connected || s.state !== "running" ? s.state : "camera lost";
  $("state").className = `tag ${s.state === "running" && s.camera_connected && !s.paused ? "running" : "rejected"}`;
  $("model").textContent = `model ${s.model_version}`;
  $("ppm").textContent = s.parts_per_min.toFixed(1);
  $("rate").textContent = `${(s.reject_rate * 100).toFixed(1)} %`;
  $("failsafe").textContent = s.parts.failsafe;
  $("inflight").textContent = s.parts.in_flight;
  $("accepted").textContent = s.parts.accepted;
  $("rejected").textContent = s.parts.rejected;
  $("triggered").textContent = s.parts.triggered;
  $("updated").textContent = `updated ${new Date(s.time_ms).toLocaleTimeString(undefined, { hour12: false })}`;
  const last = s.last;
  if (last) {
    const v = $("verdict");
    v.dataset.part = String(last.part_id);
    v.replaceChildren(
      el("span", { class: `tag ${last.outcome}` }, last.outcome),
      ` part ${last.part_id}: ${last.reason}`,
      last.findings.length > 0 ? el("span", { class: "dim" }, ` (${last.findings.map((f) => `${f.class} ${fmtScore(f.score)}`).join(", ")})`) : "",
    );
  }
  if (s.framed && s.framed.frame_seq !== shownSeq) showFrame(s.framed);
}

let loading = false;
let queued = null;

/** One frame request at a time: on a slow link a newer frame waits instead of cancelling the one on its way. */
function showFrame(framed) {
  shownSeq = framed.frame_seq;
  if (loading) {
    queued = framed;
    return;
  }
  loading = true;
  const img = $("frame");
  const done = () => {
    loading = false;
    const next = queued;
    queued = null;
    if (next) showFrame(next);
  };
  // Verdict and boxes change together with the frame they belong to.
  img.onload = () => {
    drawBoxes($("boxes"), framed.findings, framed.width, framed.height);
    $("caption").textContent = `frame of part ${framed.part_id}: ${framed.outcome} (${framed.reason})`;
    $("caption").dataset.part = String(framed.part_id);
    done();
  };
  img.onerror = done;
  img.src = `/api/live/frame.jpg?seq=${framed.frame_seq}${lineQuery && `&${lineQuery}`}`;
}

function connect() {
  const events = new EventSource(`/api/events${lineQuery && `?${lineQuery}`}`);
  events.addEventListener("status", (e) => {
    $("error").textContent = "";
    show(JSON.parse(e.data));
  });
  // The browser reconnects by itself after the server's retry delay.
  events.onerror = () => ($("error").textContent = "connection to the station lost; reconnecting…");
}

header().catch((e) => ($("error").textContent = e.message));
connect();
