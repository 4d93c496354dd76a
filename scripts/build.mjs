// Builds the published shape: dist/esm (tsc: ESM + declarations) and dist/cjs (esbuild: the same
// modules as CommonJS, with the declarations copied beside them under a {"type":"commonjs"} marker).
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

execFileSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);

const filesUnder = (dir, suffix) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(suffix));

const sources = filesUnder(join(root, "src"), ".ts").map((file) => join("src", file));
await build({
  entryPoints: sources.map((file) => join(root, file)),
  outdir: join(dist, "cjs"),
  outbase: join(root, "src"),
  format: "cjs",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  // src/optional.ts reads import.meta.url only in the ESM build; the CommonJS one uses require.
  logOverride: { "empty-import-meta": "silent" },
});
for (const declaration of filesUnder(join(dist, "esm"), ".d.ts")) {
  const target = join(dist, "cjs", declaration);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(dist, "esm", declaration), target);
}
writeFileSync(join(dist, "cjs", "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
console.log(`built ${sources.length} modules into ${relative(root, dist)}/{esm,cjs}`);
