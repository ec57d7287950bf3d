export interface StationId {
  site: string;
  line: string;
  device: string;
}

/** edge-inspect/<site>/<line>/<device>/<leaf> */
export function topic(station: StationId, leaf: string): string {
  return `edge-inspect/${station.site}/${station.line}/${station.device}/${leaf}`;
}
