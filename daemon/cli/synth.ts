import { writeSyntheticDataset } from "../capture/synthetic-dataset.js";
import { EXIT } from "./usage.js";
import { numberArg, parseCommand, usageError } from "./args.js";

export const SYNTH_USAGE = `Usage: edge-inspect synth --out DIR --parts N --seed S [options]

Renders N parts of the synthetic line (plate, disc, bracket; defects scratch,
crack, stain, missing_hole) into a video and/or a folder of PNG images, with
DIR/truth.json holding each part's frame, type, class and bounding box.
The same options always give the same pixels.

Options:
      --out DIR            output folder (created)
      --parts N            number of parts (frames)
      --seed S             random seed (whole number)
      --defect-rate R      share of defective parts, 0..1 (default 0.2)
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
    ...(video ? { video } : {}),
    ...(values.fourcc ? { fourcc: values.fourcc } : {}),
  });
  process.stdout.write(`wrote ${[r.video, r.imagesDir, r.truthFile].filter(Boolean).join(", ")}\n`);
  return EXIT.OK;
}
