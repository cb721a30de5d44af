// Build the counselor console into dist/ (or the directory given as the first argument):
// index.html, console.css, and console.js, one ES module bundling src/, web/e2ee's sources and
// the pinned npm dependencies. rtserver serves that directory at /console/.

import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));
const e2eeSources = resolve(here, "../e2ee/src");
const outdir = resolve(process.argv[2] ?? join(here, "dist"));

// web/e2ee's modules import tweetnacl, hash-wasm and socket.io-client: take them from this
// package's node_modules (same pinned versions, checked below), so building the console needs
// only `npm ci` here and the bundle holds one copy of each.
const dependenciesFromConsole = {
  name: "e2ee-dependencies-from-console",
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (!args.importer.startsWith(e2eeSources) || args.pluginData === "console") return undefined;
      return builder.resolve(args.path, {
        kind: args.kind,
        resolveDir: join(here, "src"),
        pluginData: "console",
      });
    });
  },
};

async function checkSameVersions() {
  const read = async (path) => JSON.parse(await readFile(path, "utf8")).dependencies;
  const ours = await read(join(here, "package.json"));
  const theirs = await read(resolve(here, "../e2ee/package.json"));
  for (const [name, version] of Object.entries(ours)) {
    if (name in theirs && theirs[name] !== version) {
      throw new Error(`${name}: console pins ${version}, web/e2ee pins ${theirs[name]}`);
    }
  }
}

await checkSameVersions();
await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: ["src/main.js"],
  outfile: join(outdir, "console.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  sourcemap: true,
  legalComments: "eof",
  logLevel: "warning",
  plugins: [dependenciesFromConsole],
});
await copyFile(join(here, "index.html"), join(outdir, "index.html"));
await copyFile(join(here, "console.css"), join(outdir, "console.css"));
