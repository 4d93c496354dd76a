// Builds the published shape: dist/esm and dist/cjs, each with one bundled module per entry point of
// package.json's "exports" (ESM and CommonJS, with source maps to src/) and the type declarations of
// every source module beside it (tsc; the CommonJS copy under a {"type":"commonjs"} marker).
//
// One module per entry, not one per source file: Node pays about a millisecond per module it loads,
// and the package root is some forty modules, most of the cold-start cost of importing it
// (docs/performance.md, "Cold start"). Dependencies stay external, so the application's copies of
// @opentelemetry/api, @langchain/core and the optional SDK are the ones used.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

// Declarations (and a type check) from tsc; its per-file JavaScript is replaced by the bundles below.
execFileSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);

const filesUnder = (dir, suffix) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(suffix));

const emitted = [".js", ".js.map", ".cjs", ".cjs.map"].flatMap((suffix) =>
  filesUnder(join(dist, "esm"), suffix),
);
for (const file of emitted) {
  rmSync(join(dist, "esm", file));
}

// Entry points: every "exports" target under dist/esm, e.g. "./dist/esm/index.js" ← src/index.ts.
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const targets = Object.values(manifest.exports)
  .map((target) => (typeof target === "object" ? target.import?.default : undefined))
  .filter((target) => typeof target === "string" && target.startsWith("./dist/esm/"));
const entryPoints = targets.map((target) =>
  join(root, "src", target.slice("./dist/esm/".length).replace(/\.js$/, ".ts")),
);

// src/optional-modules.cts stays a CommonJS module of its own, dist/cjs/optional-modules.js, which
// both builds import: bundled into them, its literal require("…") calls would become a helper, and
// an application's bundler would no longer see which optional packages to include. They import it
// as "#optional-modules", which package.json's "imports" maps: to optional-modules-browser.js
// (src/optional-modules-browser.cts, the browser's short list) under the `browser` condition, to
// the full module everywhere else.
const OWN_MODULE = "optional-modules";
const OWN_MODULES = [OWN_MODULE, `${OWN_MODULE}-browser`];
const keepOwnModule = {
  name: "keep-optional-modules",
  setup(builder) {
    builder.onResolve({ filter: new RegExp(`/${OWN_MODULE}\\.cjs$`) }, () => ({
      path: `#${OWN_MODULE}`,
      external: true,
    }));
  },
};

const common = {
  entryPoints,
  outbase: join(root, "src"),
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
};
// Several entries share their modules through chunks, so each class exists once.
await build({
  ...common,
  outdir: join(dist, "esm"),
  format: "esm",
  plugins: [keepOwnModule],
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
// CommonJS has no chunks: with one entry it is one bundle; with several, one module per source
// file (as tsc lays them out), so that no class exists twice.
const sources = filesUnder(join(root, "src"), ".ts").map((file) => join(root, "src", file));
await build({
  ...common,
  ...(entryPoints.length === 1 ? {} : { entryPoints: sources, bundle: false }),
  outdir: join(dist, "cjs"),
  format: "cjs",
  plugins: [keepOwnModule],
});

for (const name of OWN_MODULES) {
  await build({
    ...common,
    entryPoints: [join(root, "src", `${name}.cts`)],
    bundle: false,
    outfile: join(dist, "cjs", `${name}.js`),
    format: "cjs",
  });
}
const imports = manifest.imports?.[`#${OWN_MODULE}`];
if (
  imports?.browser !== `./dist/cjs/${OWN_MODULE}-browser.js` ||
  imports?.default !== `./dist/cjs/${OWN_MODULE}.js`
)
  throw new Error(`build: package.json's "imports" must map "#${OWN_MODULE}" to the two modules built here`);

for (const declaration of [
  ...filesUnder(join(dist, "esm"), ".d.ts"),
  ...filesUnder(join(dist, "esm"), ".d.cts"),
]) {
  const target = join(dist, "cjs", declaration);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(dist, "esm", declaration), target);
}
// The CommonJS build's package scope is this marker, so "#optional-modules" resolves through its
// own "imports", the package's with the paths taken from here.
const cjsImports = Object.fromEntries(
  Object.entries(imports).map(([condition, path]) => [condition, path.replace("./dist/cjs/", "./")]),
);
writeFileSync(
  join(dist, "cjs", "package.json"),
  `${JSON.stringify({ type: "commonjs", imports: { [`#${OWN_MODULE}`]: cjsImports } })}\n`,
);
console.log(
  `built ${entryPoints.map((entry) => relative(root, entry)).join(", ")} into ${relative(root, dist)}/{esm,cjs}`,
);
