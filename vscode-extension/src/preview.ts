/** The answer of `cspec.previewRegeneration`, checked, and the two sides of each diff. */

import { applyPatch } from "./patch";

export type FileStatus = "added" | "changed" | "removed";

export interface FileChange {
  readonly path: string;
  readonly status: FileStatus;
  readonly added: number;
  readonly removed: number;
  readonly diff: string;
  /** A generated file changed by hand: applying would overwrite it. */
  readonly edited: boolean;
}

export interface RegenerationPreview {
  readonly summary: string;
  readonly outDir: string;
  readonly files: readonly FileChange[];
}

const STATUSES: readonly string[] = ["added", "changed", "removed"];

export function parsePreview(value: unknown): RegenerationPreview {
  const record = asRecord(value, "the preview");
  const files = record["files"];
  if (!Array.isArray(files)) {
    throw new Error("the preview has no list of files");
  }
  return {
    summary: text(record, "summary"),
    outDir: text(record, "outDir"),
    files: files.map((item, i) => {
      const file = asRecord(item, `file ${i}`);
      const status = text(file, "status");
      if (!STATUSES.includes(status)) {
        throw new Error(`file ${i} has the unknown status ${JSON.stringify(status)}`);
      }
      return {
        path: text(file, "path"),
        status: status as FileStatus,
        added: count(file, "added"),
        removed: count(file, "removed"),
        diff: text(file, "diff"),
        edited: file["edited"] === true,
      };
    }),
  };
}

/** The text before and after regeneration; `current` is the file on disk (undefined when absent). */
export function sides(file: FileChange, current: string | undefined): { before: string; after: string } {
  const before = current ?? "";
  if (file.status === "removed") {
    return { before, after: "" };
  }
  return { before, after: applyPatch(file.status === "added" ? "" : before, file.diff) };
}

/** A line of the file list: `+12 −3  api/routes.py`. */
export function describe(file: FileChange): string {
  return `${file.status} · +${file.added} −${file.removed}${file.edited ? " · edited by hand: applying overwrites it" : ""}`;
}

export function title(file: FileChange): string {
  const what = { added: "new file", changed: "regenerated", removed: "no longer generated" }[file.status];
  return `${file.path} (${what})`;
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function text(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== "string") {
    throw new Error(`\`${key}\` is not a string`);
  }
  return value;
}

function count(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : 0;
}
