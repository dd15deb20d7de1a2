import * as os from "os";
import * as path from "path";

/**
 * The provider's own folder in the user's home, `~/.pulumi-rds-licensing`: the CAL-pack journal and
 * its key (unless moved by their variables), and the cache folder of the pwsh it starts.
 */
export function userDataDir(home: string = os.homedir()): string {
  return path.join(home, ".pulumi-rds-licensing");
}

/**
 * The package root (where package.json, provider/ and bin/ live). Built files sit at
 * bin/provider/**, sources at provider/**; both find the shipped .ps1 files under <root>/provider.
 */
export function packageRoot(): string {
  // __dirname is <root>/bin/provider when built, <root>/provider under ts-jest.
  const here = __dirname;
  const parts = here.split(path.sep);
  const binAt = parts.lastIndexOf("bin");
  if (binAt > 0 && parts[binAt + 1] === "provider") return parts.slice(0, binAt).join(path.sep) || path.sep;
  return path.resolve(here, "..");
}

/** Absolute path of a file shipped under provider/ (a .ps1 or .psm1), from its path relative to provider/. */
export function providerFile(relative: string): string {
  return path.join(packageRoot(), "provider", relative);
}
