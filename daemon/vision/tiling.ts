import type { Rect } from "./preprocess.js";

export interface TileGrid {
  cols: number;
  rows: number;
  /** Fraction of a tile shared with its neighbour. */
  overlap: number;
}

/**
 * Splits a region into cols x rows equal tiles that overlap by `overlap` of
 * a tile, so a defect on a seam is whole in at least one tile. The last
 * tile of a row or column ends exactly at the region's edge.
 */
export function tileRects(region: Rect, grid: TileGrid): Rect[] {
  const along = (start: number, length: number, n: number): Array<[number, number]> => {
    if (n === 1) return [[start, length]];
    const size = Math.min(length, Math.ceil(length / (n - (n - 1) * grid.overlap)));
    const step = (length - size) / (n - 1);
    return Array.from({ length: n }, (_, i) => [start + Math.round(i * step), size]);
  };
  const xs = along(region.x, region.w, grid.cols);
  const ys = along(region.y, region.h, grid.rows);
  return ys.flatMap(([y, h]) => xs.map(([x, w]) => ({ x, y, w, h })));
}
