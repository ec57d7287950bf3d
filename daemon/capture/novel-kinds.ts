/**
 * Defect kinds no model of the project is trained on, drawn by the synthetic
 * line (capture/novel-defects.ts) to measure what a station does with a defect
 * nobody photographed yet. Kept apart from the renderers so the config schema
 * can name them without loading OpenCV.
 */
export const NOVEL_DEFECTS = ["dent", "chipped_edge", "foreign_object", "discoloration", "wrong_part"] as const;
export type NovelDefect = (typeof NOVEL_DEFECTS)[number];
