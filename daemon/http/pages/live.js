import { drawBoxes, el, header, fmtScore } from "./common.js";

const $ = (id) => document.getElementById(id);
let shownSeq = null;

function show(s) {
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
  if (!last) return;
  const v = $("verdict");
  v.dataset.part = String(last.part_id);
  v.replaceChildren(
    el("span", { class: `tag ${last.outcome}` }, last.outcome),
    ` part ${last.part_id}: ${last.reason}`,
    last.findings.length > 0 ? el("span", { class: "dim" }, ` (${last.findings.map((f) => `${f.class} ${fmtScore(f.score)}`).join(", ")})`) : "",
  );
  if (last.frame_seq !== null && last.frame_seq !== shownSeq) {
    shownSeq = last.frame_seq;
    const img = $("frame");
    // Boxes are drawn once the frame they belong to is on screen.
    img.onload = () => drawBoxes($("boxes"), last.findings, last.width, last.height);
    img.src = `/api/live/frame.jpg?seq=${last.frame_seq}`;
  }
}

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("status", (e) => {
    $("error").textContent = "";
    show(JSON.parse(e.data));
  });
  // The browser reconnects by itself after the server's retry delay.
  events.onerror = () => ($("error").textContent = "connection to the station lost; reconnecting…");
}

header().catch((e) => ($("error").textContent = e.message));
connect();
