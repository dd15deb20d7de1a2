/**
 * Script bundles for the ssh exec channel: the .ps1/.psm1 files of one package folder (with
 * `recursive`: of its subfolders too, named by relative path with `/`), as base64, with the content
 * hash the target checks them against and files them under (RdsRemoting/FarSide.ps1 InstallBlock).
 *
 * The hash is the one the subsystem channel computes in PowerShell (Shipping.ps1 Get-RdsScriptBundle):
 * SHA-256 over, for each file in ordinal name order, its UTF-8 name and a NUL, its length as a
 * little-endian uint64, and its bytes; the first 24 hex digits. A bundle is cached until a file's
 * name, size or write time changes, so a changed script is shipped again under a new hash.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface ScriptBundle {
  hash: string;
  /** Relative name -> base64 content. */
  files: Record<string, string>;
}

interface Cached {
  signature: string;
  bundle: ScriptBundle;
}

const cache = new Map<string, Cached>();

function listScripts(root: string, recursive: boolean, relative = ""): { name: string; full: string; stat: fs.Stats }[] {
  const found: { name: string; full: string; stat: fs.Stats }[] = [];
  for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
    const name = relative === "" ? entry.name : `${relative}/${entry.name}`;
    const full = path.join(root, name);
    if (entry.isDirectory()) {
      if (recursive) found.push(...listScripts(root, true, name));
    } else if (/\.(ps1|psm1)$/i.test(entry.name)) {
      found.push({ name, full, stat: fs.statSync(full) });
    }
  }
  return found;
}

/** The bundle of `dir` (absolute), cached until one of its files changes. */
export function scriptBundle(dir: string, recursive = false): ScriptBundle {
  const files = listScripts(dir, recursive).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const signature = files.map((f) => `${f.name}|${f.stat.size}|${f.stat.mtimeMs}`).join("/");
  const key = `${dir}|${recursive}`;
  const cached = cache.get(key);
  if (cached !== undefined && cached.signature === signature) return cached.bundle;
  const sha = crypto.createHash("sha256");
  const contents: Record<string, string> = {};
  for (const file of files) {
    const bytes = fs.readFileSync(file.full);
    contents[file.name] = bytes.toString("base64");
    sha.update(Buffer.concat([Buffer.from(file.name, "utf8"), Buffer.from([0])]));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(bytes.length));
    sha.update(length);
    sha.update(bytes);
  }
  const bundle = { hash: sha.digest("hex").slice(0, 24), files: contents };
  cache.set(key, { signature, bundle });
  return bundle;
}
