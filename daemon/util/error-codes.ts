/**
 * Every error code the station reports, in logs, MQTT replies, alarms and
 * exit messages, with what it means to the person who sees it. Codes are
 * stable: tests, dashboards and alarm rules match on them. docs/errors.md is
 * written from this list (`npm run docs:errors`) and a test keeps the two equal.
 */
export const ERROR_CODES = {
  // configuration and command line
  E_CONFIG: "the config file (or an EDGE_INSPECT_* override) is invalid: every problem is listed with its path",
  E_USAGE: "a command-line argument is invalid",
  E_RELOAD_RESTART: "a reload changed a section that only a restart applies: nothing was applied",
  E_STATE: "the station is not in a state to do this (starting, stopping)",
  E_START: "start-up failed at the named step",
  E_INTERNAL: "an unexpected failure with no code of its own (a defect: report it with the log)",
  E_NICE: "the line's threads could not take their priority (lifecycle.nice): verdicts may be late on a busy machine",
  // camera
  E_CAMERA_NOT_FOUND: "the camera's device or file does not exist",
  E_CAMERA_OPEN: "the camera could not be opened",
  E_CAMERA_OPEN_TIMEOUT: "the camera did not open within camera.open_timeout_ms",
  E_CAMERA_FORMAT: "a video file OpenCV cannot decode",
  E_CAMERA_UNSUPPORTED: "this OpenCV build lacks what the camera type needs (GStreamer)",
  E_CAMERA_ENDED: "a live source stopped delivering frames",
  E_CAMERA_STALLED: "no frame for camera.stall_ms: the source is reopened",
  E_CAMERA_TRUNCATED: "a video file ended before the frame count in its header",
  E_CAMERA_EMPTY: "an image folder holds no images",
  E_CAMERA_DECODE: "an image in a camera folder cannot be decoded",
  E_CAMERA_REPLAY: "a replay camera's recording is empty or larger than camera.max_mb once decoded",
  E_CAMERA_THREAD: "the capture thread failed",
  E_FRAME: "a frame's size does not match its pixels",
  E_TRUTH_READ: "a ground-truth file cannot be read",
  E_TRUTH_MALFORMED: "a ground-truth file is not what `edge-inspect synth` writes",
  E_SYNTH_VIDEO: "`edge-inspect synth` cannot write that video container",
  // images
  E_IMAGE: "an image cannot be decoded",
  E_IMAGE_FORMAT: "a file is not an image format the station reads",
  E_IMAGE_SIZE: "an image's header gives no pixels or more than the station takes",
  E_PREPROCESS: "the model's region of interest lies outside the frame",
  E_SNAPSHOT: "snapshot settings are invalid",
  // model and engine
  E_MODEL: "a model package cannot be used",
  E_MODEL_MANIFEST: "a model package's model.yaml is invalid",
  E_MODEL_FILE: "a model package file is missing, not a regular file or too large",
  E_MODEL_HASH: "a model package file does not match the hash or size in its manifest",
  E_MODEL_TRUNCATED: "a model package file is shorter than its manifest says",
  E_MODEL_CORRUPT: "the runtime cannot load the model file",
  E_MODEL_LOAD: "no runtime could load the model",
  E_MODEL_VARIANT: "the package has no variant for this engine",
  E_MODEL_LABELS: "labels, ok_label, thresholds or golden names disagree (in the package or with the config)",
  E_MODEL_SHAPE: "the model's inputs or outputs are not what its package declares",
  E_MODEL_OUTPUT: "the model produced a non-finite output: no verdict from it",
  E_MODEL_RUN: "a model run failed",
  E_MODEL_GOLDEN: "the package's golden images did not give their expected verdicts",
  E_ENGINE_FAILED: "the inference worker failed and is restarting: parts meanwhile fail safe",
  E_ENGINE_OVERLOAD: "the inference queue is full: the part fails safe as overload",
  E_ENGINE_OUTPUT: "a score is not a number: the part fails safe",
  E_SWAP: "a model swap is not possible here (the simulated engine)",
  E_SWAP_BUSY: "another model swap is in progress",
  // actuation
  E_REJECT_CORE: "the native reject core is not built or refused its arguments",
  E_REJECT_CORE_FULL: "more parts in flight than the reject core holds: the part is an escape",
  E_RT_PRIORITY: "the reject core could not take SCHED_FIFO: pulses may be late on a busy machine",
  E_RT_MEMLOCK: "the reject core's memory could not be locked: a page fault may delay a pulse",
  E_TEST_PULSE: "a test pulse was refused",
  E_GPIO_CHIP: "the GPIO chip cannot be opened",
  E_GPIO_LINE: "a GPIO line does not exist, is misconfigured or refused a value",
  E_GPIO_BUSY: "a GPIO line is already held by another process",
  E_GPIO_UNAVAILABLE: "sysfs GPIO is not available on this kernel (use gpio type gpiod)",
  // records
  E_STORE_OPEN: "the records database cannot be opened",
  E_STORE_SCHEMA: "the records database is not this station's or is from a newer version",
  E_STORE_WRITE: "the records database refuses writes",
  E_STORE_REJECTED: "an inspection record was refused by the database and dropped",
  E_STORE_DROPPED: "records are being dropped: the database refuses writes and the queue is full",
  E_STORE_RETENTION: "retention (deleting old records and snapshots) failed",
  E_STORE_WORKER: "the records writer thread died: records are no longer written",
  E_STORE_OPEN_TIMEOUT: "the records writer thread did not open the database in time (a hung disk or card)",
  E_SNAPSHOT_WRITE: "a snapshot could not be written",
  E_OUTBOX_OVERFLOW: "the outbox backlog is over its bound: the oldest messages were dropped",
  E_OVERRIDES_FILE: "runtime threshold overrides cannot be read or written (a damaged file is set aside)",
  E_OVERRIDES_CLASS: "a runtime threshold override names a class the running model lacks: kept, not applied",
  // publishing and commands
  E_MQTT: "the MQTT connection failed",
  E_PUBLISH: "a publish failed",
  E_PUBLISH_OFFLINE: "the broker is not connected: the message stays in the outbox",
  E_PUBLISH_LINK: "the connection to the broker was lost with messages in flight",
  E_PUBLISH_CLOSED: "the publisher was closed with messages in flight",
  E_PUBLISH_REFUSED: "the broker refused a publish (authorisation, size): it is not resent",
  E_PUBLISH_TLS: "a TLS file for MQTT cannot be read",
  E_CMD_UNKNOWN: "no such command",
  E_CMD_MALFORMED: "a command's payload is not JSON, not UTF-8, too deep or has duplicate keys",
  E_CMD_INVALID: "a command's fields are invalid",
  E_CMD_TOO_LARGE: "a command's payload is over publish.commands.max_payload_bytes",
  E_CMD_UNAUTHORISED: "the sender's identity is missing, ambiguous or not allowed",
  E_CMD_NOT_READY: "the station is not READY: nothing acts before",
  E_CMD_RETAINED: "a retained command: refused, it would act again on every start",
  E_CMD_RATE: "over the overall or the command's rate",
  E_CMD_BUSY: "the same expensive command is already running",
  E_CMD_REPLY_TOPIC: "the response topic is not one the station may write: the reply goes to cmd/<name>/reply",
  E_CMD_CORRELATION: "correlation data over 256 bytes: not echoed",
  E_CMD_UNAVAILABLE: "the command cannot act now (outputs held, no frame judged, no package)",
  E_HTTP_LISTEN: "the review server cannot listen on its address: an alarm, the line keeps running",
  E_BROKER_START: "the demo's embedded MQTT broker cannot start (no mosquitto executable for implementation: mosquitto)",
  E_SPARKPLUG_BDSEQ: "the Sparkplug bdSeq file in the data directory cannot be read or written",
  E_SPARKPLUG_PAYLOAD: "a Sparkplug message is not a valid Sparkplug B payload: refused",
  E_SPARKPLUG_STATE: "the primary host's STATE message is not Sparkplug 3.0 JSON: ignored",
  // benchmarks (bench/)
  E_BENCH_ARGS: "a benchmark setting is invalid",
  E_BENCH_DAEMON: "the daemon under benchmark exited without its summary",
  E_BENCH_SHORT: "a benchmark run was too short for a steady state",
  E_BENCH_NO_RATE: "no rate of the step search ran without fail-safes",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes with a number from the broker after them: the MQTT 5 reason code of a CONNACK or DISCONNECT. */
export const ERROR_CODE_FAMILIES = {
  E_MQTT_CONNACK_: "the broker refused the connection with this MQTT 5 reason code (e.g. 135: not authorised)",
  E_MQTT_DISCONNECT_: "the broker disconnected the station with this MQTT 5 reason code",
} as const;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
