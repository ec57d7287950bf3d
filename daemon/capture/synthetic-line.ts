import { cv, replaceMat, type Mat } from "../vision/opencv.js";
import { seededRandom } from "../util/random.js";
import type { GroundTruth } from "./camera.js";
import { drawNovelDefect, wrongPart } from "./novel-defects.js";
import type { NovelDefect } from "./novel-kinds.js";
import { bbox, clipBox, gray, inPolygon, pt, type Box, type Pt } from "./part-geometry.js";

export const PART_TYPES = ["plate", "disc", "bracket"] as const;
export const DEFECT_CLASSES = ["scratch", "crack", "stain", "missing_hole"] as const;
export type DefectClass = (typeof DEFECT_CLASSES)[number];

export interface LineSettings {
  width: number;
  height: number;
  seed: number;
  /** Share of parts with a defect, 0..1. */
  defectRate: number;
  /** Defects no model is trained on, for evaluation; none unless given. */
  novel?: NovelSettings;
}

export interface NovelSettings {
  kinds: readonly NovelDefect[];
  /** Share of parts with a novel defect, 0..1, drawn before (and instead of) the trained defects. */
  rate: number;
}

/**
 * Renders part number `index` of a synthetic line: a part on a belt, drawn
 * with OpenCV, with position, rotation, lighting, noise and blur varied, and
 * a defect at `defectRate`. The same seed and index always give the same
 * pixels and the same ground truth. Novel defects draw on a random stream of
 * their own: a novel part is the good part of the same seed and index plus
 * the novel change, and every other part keeps its pixels.
 */
export function renderPart(s: LineSettings, index: number): { image: Mat; truth: GroundTruth } {
  const rnd = seededRandom((s.seed * 2654435761 + index * 40503) >>> 0);
  const novelRnd = seededRandom((Math.imul(s.seed + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ 0x6e6f76) >>> 0);
  const kinds = s.novel?.kinds ?? [];
  const novel: NovelDefect | null = kinds.length > 0 && novelRnd() < s.novel!.rate ? kinds[Math.floor(novelRnd() * kinds.length)]! : null;
  const { width: w, height: h } = s;
  const scale = Math.min(w, h) / 480;

  const belt = 60 + rnd() * 25;
  // Mat(rows, cols, type, fill) fills element by element in the binding
  // (~60 ms at VGA); setTo is one native call. It fills in place and returns a
  // second handle on the same pixels, released at once so that releasing
  // `img` below frees them.
  const img = new cv.Mat(h, w, cv.CV_8UC3);
  img.setTo(new cv.Vec3(belt, belt + 4, belt + 2)).release();
  // Belt texture: faint slats moving past.
  const pitch = Math.round(40 * scale);
  const phase = Math.floor(rnd() * pitch);
  for (let x = phase; x < w; x += pitch) img.drawLine(new cv.Point2(x, 0), new cv.Point2(x, h - 1), gray(belt - 12), Math.max(1, Math.round(2 * scale)));

  const partType = PART_TYPES[Math.floor(rnd() * PART_TYPES.length)]!;
  const cx = w / 2 + (rnd() - 0.5) * w * 0.15;
  const cy = h / 2 + (rnd() - 0.5) * h * 0.15;
  const angle = (rnd() - 0.5) * Math.PI * 0.5;
  const size = (150 + rnd() * 30) * scale;
  const shade = 175 + rnd() * 50;
  const colour = new cv.Vec3(shade * 0.92, shade, shade * 0.97);
  const rot = (p: Pt): Pt => {
    const c = Math.cos(angle);
    const sn = Math.sin(angle);
    return [cx + p[0] * c - p[1] * sn, cy + p[0] * sn + p[1] * c];
  };

  let outline: Pt[];
  let holes: Pt[];
  let holeR: number;
  switch (partType) {
    case "plate":
      outline = [[-size, -size * 0.6], [size, -size * 0.6], [size, size * 0.6], [-size, size * 0.6]];
      holes = [[-size * 0.7, -size * 0.35], [size * 0.7, -size * 0.35], [-size * 0.7, size * 0.35], [size * 0.7, size * 0.35]];
      holeR = size * 0.11;
      break;
    case "disc":
      outline = Array.from({ length: 48 }, (_, i) => {
        const a = (i / 48) * Math.PI * 2;
        return [Math.cos(a) * size * 0.85, Math.sin(a) * size * 0.85] as Pt;
      });
      holes = [[0, 0], [size * 0.5, 0], [-size * 0.5, 0]];
      holeR = size * 0.12;
      break;
    case "bracket":
      outline = [[-size, -size * 0.7], [-size * 0.3, -size * 0.7], [-size * 0.3, size * 0.1], [size, size * 0.1], [size, size * 0.7], [-size, size * 0.7]];
      holes = [[-size * 0.65, -size * 0.3], [size * 0.6, size * 0.4], [-size * 0.65, size * 0.4]];
      holeR = size * 0.1;
      break;
  }

  let box: Box | undefined;
  if (novel === "wrong_part") ({ outline, holes, holeR, box } = wrongPart(partType, { outline, holes, holeR }, rot));
  img.drawFillPoly([outline.map(rot).map(pt)], colour, cv.LINE_AA);

  const defective = rnd() < s.defectRate && novel === null;
  const defect: DefectClass | null = defective ? DEFECT_CLASSES[Math.floor(rnd() * DEFECT_CLASSES.length)]! : null;
  const missing = defect === "missing_hole" ? Math.floor(rnd() * holes.length) : -1;
  holes.forEach((hp, i) => {
    if (i !== missing) img.drawCircle(pt(rot(hp)), Math.round(holeR), gray(belt), -1, cv.LINE_AA);
  });

  const inside = (r: () => number = rnd): Pt => {
    // A point on the part away from the holes and its edges, in part
    // coordinates: the box sampled covers the bracket's cut-out too, and a
    // defect drawn there lies on the belt while the truth calls the part defective.
    const m = size * 0.12;
    for (;;) {
      const p: Pt = [(r() - 0.5) * size * 1.0, (r() - 0.5) * size * 0.6];
      const onPart = ([[0, 0], [m, 0], [-m, 0], [0, m], [0, -m]] as Pt[]).every((d) => inPolygon([p[0] + d[0], p[1] + d[1]], outline));
      if (onPart && holes.every((hp) => Math.hypot(hp[0] - p[0], hp[1] - p[1]) > holeR * 2.2)) return p;
    }
  };
  const dark = new cv.Vec3(shade * 0.35, shade * 0.33, shade * 0.3);
  switch (defect) {
    case "scratch": {
      const a = inside();
      const dir = rnd() * Math.PI;
      const len = size * (0.5 + rnd() * 0.4);
      const b: Pt = [a[0] + Math.cos(dir) * len * 0.5, a[1] + Math.sin(dir) * len * 0.5];
      const a2: Pt = [a[0] - Math.cos(dir) * len * 0.5, a[1] - Math.sin(dir) * len * 0.5];
      const pts = [rot(a2), rot(b)];
      img.drawLine(pt(pts[0]!), pt(pts[1]!), new cv.Vec3(shade * 0.55, shade * 0.55, shade * 0.55), Math.max(1, Math.round(2 * scale)), cv.LINE_AA);
      box = bbox(pts, 3);
      break;
    }
    case "crack": {
      let p = inside();
      const pts: Pt[] = [rot(p)];
      let dir = rnd() * Math.PI * 2;
      for (let i = 0; i < 7; i++) {
        dir += (rnd() - 0.5) * 1.4;
        p = [p[0] + Math.cos(dir) * size * 0.09, p[1] + Math.sin(dir) * size * 0.09];
        pts.push(rot(p));
      }
      img.drawPolylines([pts.map(pt)], false, new cv.Vec3(25, 25, 25), Math.max(2, Math.round(3 * scale)), cv.LINE_AA);
      box = bbox(pts, 3);
      break;
    }
    case "stain": {
      const c = rot(inside());
      const ax = size * (0.12 + rnd() * 0.1);
      const ay = ax * (0.5 + rnd() * 0.5);
      img.drawEllipse(new cv.RotatedRect(pt(c), new cv.Size(ax * 2, ay * 2), rnd() * 180), dark, -1, cv.LINE_AA);
      box = bbox([[c[0] - ax, c[1] - ax], [c[0] + ax, c[1] + ax]], 0);
      break;
    }
    case "missing_hole": {
      const c = rot(holes[missing]!);
      box = bbox([[c[0] - holeR, c[1] - holeR], [c[0] + holeR, c[1] + holeR]], 2);
      break;
    }
    case null:
      break;
  }
  if (novel && novel !== "wrong_part") {
    box = drawNovelDefect(img, novel, { outline, holes, holeR, size, shade, belt, toFrame: rot, pointOnPart: () => inside(novelRnd) }, novelRnd);
  }

  // Lighting gradient, sensor noise and focus blur.
  const gain = 0.85 + rnd() * 0.3;
  let out = replaceMat(img, img.convertTo(cv.CV_8UC3, gain, (rnd() - 0.5) * 20));
  const noises = noiseTextures(w, h);
  out = replaceMat(out, out.addWeighted(1, noises[Math.floor(rnd() * noises.length)]!, 1, -NOISE_MID));
  const k = 1 + 2 * Math.floor(rnd() * 2);
  if (k > 1) out = replaceMat(out, out.gaussianBlur(new cv.Size(k, k), 0));

  const truth: GroundTruth = { partType, defect: novel ?? defect };
  if (novel) truth.novel = true;
  if (box) truth.box = clipBox(box, w, h);
  return { image: out, truth };
}

const NOISE_MID = 128;
const noiseCache = new Map<string, Mat[]>();

/**
 * Sensor noise: a few textures made once per frame size (the binding has no
 * randn), one picked per frame. Roughly Gaussian, sigma ~6 grey levels.
 */
function noiseTextures(w: number, h: number): Mat[] {
  const key = `${w}x${h}`;
  let set = noiseCache.get(key);
  if (!set) {
    const rnd = seededRandom(0x5eed);
    set = Array.from({ length: 4 }, () => {
      const buf = Buffer.alloc(w * h * 3);
      for (let i = 0; i < buf.length; i++) buf[i] = NOISE_MID + Math.round((rnd() + rnd() + rnd() - 1.5) * 12);
      return new cv.Mat(buf, h, w, cv.CV_8UC3);
    });
    noiseCache.set(key, set);
  }
  return set;
}
