// Prints, for the records database given as argument: SQLite's integrity
// check and the inspections per run and outcome. Run inside an arm64 root by
// arm64-roots.test.ts, with the root's better-sqlite3.
import Database from "better-sqlite3";

const db = new Database(process.argv[2]!, { readonly: true, fileMustExist: true });
const integrity = db.pragma("integrity_check", { simple: true });
const outcomes = db.prepare("SELECT run_id, outcome, count(*) AS n, count(failsafe) AS failsafe FROM inspections GROUP BY run_id, outcome ORDER BY run_id, outcome").all();
db.close();
process.stdout.write(JSON.stringify({ integrity, outcomes }) + "\n");
