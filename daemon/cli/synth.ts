import { DEFAULT_NOVEL_RATE, writeSyntheticDataset } from "../capture/synthetic-dataset.js";
import { NOVEL_DEFECTS, type NovelDefect } from "../capture/novel-kinds.js";
import { EXIT } from "./usage.js";
import { numberArg, parseCommand, usageError } from "./args.js";

export const SYNTH_USAGE = `Usage: edge-inspect synth --out DIR --parts N --seed S [options]

Renders N parts of the synthetic line (plate, disc, bracket; defects scratch,
crack, stain, missing_hole) into a video and/or a folder of PNG images, with
DIR/truth.json holding each part's frame, type, class and bounding box.
The same options always give the same pixels.

Novel defects (--novel) are kinds no model is trained on, for measuring what
a station ships when it meets a defect nobody photographed:
  ${NOVEL_DEFECTS.join(", ")}
They carry "novel": true in truth.json; none are drawn unless asked for.

Options:
      --out DIR            output folder (created)
      --parts N            number of parts (frames)
      --seed S             random seed (whole number)
      --defect-rate R      share of defective parts, 0..1 (default 0.2)
      --novel K1,K2|all    also draw these novel defect kinds
      --novel-rate R       share of parts with a novel defect, 0..1 (default ${DEFAULT_NOVEL_RATE})
      --width W            frame width (default 640)
      --height H           frame height (default 480)
      --fps F              video frame rate (default 20)
      --video FILE         write a video: .avi/.mkv (lossless FFV1) or .mp4 (mp4v)
      --fourcc XXXX        video codec instead of the default (e.g. MJPG)
      --images             write DIR/images/000000.png ...
  -h, --help               this help

Without --video or --images it writes DIR/line.avi.
`;

export function cmdSynth(args: string[]): number {
  const { values } = parseCommand(args, {
    out: { type: "string" },
    parts: { type: "string" },
    seed: { type: "string" },
    "defect-rate": { type: "string" },
    novel: { type: "string" },
    "novel-rate": { type: "string" },
    width: { type: "string" },
    height: { type: "string" },
    fps: { type: "string" },
    video: { type: "string" },
    fourcc: { type: "string" },
    images: { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(SYNTH_USAGE);
    return EXIT.OK;
  }
  if (!values.out) throw usageError("--out DIR is required");
  if (values.parts === undefined) throw usageError("--parts N is required");
  if (values.seed === undefined) throw usageError("--seed S is required");
  const int = (n: number) => Number.isSafeInteger(n);
  const size = (n: number) => int(n) && n >= 64 && n <= 4096;
  if (values["novel-rate"] !== undefined && values.novel === undefined) throw usageError("--novel-rate needs --novel KINDS");
  const novel = values.novel === undefined ? undefined : novelKinds(values.novel);
  const novelRate = numberArg("novel-rate", values["novel-rate"], (n) => n >= 0 && n <= 1, "between 0 and 1");
  const video = values.video ?? (values.images ? undefined : "line.avi");
  const r = writeSyntheticDataset({
    out: values.out,
    parts: numberArg("parts", values.parts, (n) => int(n) && n > 0, "a positive whole number")!,
    seed: numberArg("seed", values.seed, (n) => int(n) && n >= 0, "a whole number >= 0")!,
    defectRate: numberArg("defect-rate", values["defect-rate"], (n) => n >= 0 && n <= 1, "between 0 and 1") ?? 0.2,
    width: numberArg("width", values.width, size, "a whole number from 64 to 4096") ?? 640,
    height: numberArg("height", values.height, size, "a whole number from 64 to 4096") ?? 480,
    fps: numberArg("fps", values.fps, (n) => n > 0 && n <= 1000, "a number of frames per second, up to 1000") ?? 20,
    images: values.images === true,
    ...(novel ? { novelDefects: novel } : {}),
    ...(novelRate !== undefined ? { novelRate } : {}),
    ...(video ? { video } : {}),
    ...(values.fourcc ? { fourcc: values.fourcc } : {}),
  });
  process.stdout.write(`wrote ${[r.video, r.imagesDir, r.truthFile].filter(Boolean).join(", ")}\n`);
  return EXIT.OK;
}

function novelKinds(v: string): NovelDefect[] {
  if (v === "all") return [...NOVEL_DEFECTS];
  const kinds = v.split(",").map((k) => k.trim());
  for (const k of kinds) {
    if (!(NOVEL_DEFECTS as readonly string[]).includes(k)) throw usageError(`--novel: unknown kind '${k}'; kinds are ${NOVEL_DEFECTS.join(", ")} (or all)`);
  }
  if (new Set(kinds).size !== kinds.length) throw usageError(`--novel lists a kind twice: '${v}'`);
  return kinds as NovelDefect[];
}
