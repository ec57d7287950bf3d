/** One RFC 4180 line; cells that a spreadsheet would run as a formula are quoted with a leading apostrophe. */
export function csvLine(cells: Array<string | number | boolean | null>): string {
  return (
    cells
      .map((c) => {
        if (c === null) return "";
        let s = String(c);
        if (typeof c === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
        return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
      })
      .join(",") + "\r\n"
  );
}
