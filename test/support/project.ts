import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

/**
 * A fresh project directory whose node_modules holds a copy of the built package and links to
 * these packages of this repository's node_modules, and nothing else: an application with exactly
 * these installed. A copy, not a link: a link would resolve the package's own imports from this
 * repository's node_modules. The caller removes the directory.
 */
export function projectWith(packages: readonly string[], prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const modules = join(dir, "node_modules");
  const own = join(modules, "langchain-otel");
  mkdirSync(own, { recursive: true });
  cpSync(join(root, "package.json"), join(own, "package.json"));
  cpSync(join(root, "dist"), join(own, "dist"), { recursive: true });
  for (const name of packages) {
    mkdirSync(join(modules, name, ".."), { recursive: true });
    symlinkSync(join(root, "node_modules", name), join(modules, name), "dir");
  }
  return dir;
}
