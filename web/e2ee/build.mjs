// Bundle src/ and the pinned npm dependencies into one ES module for the console:
// dist/rtserver-e2ee.js (or the path given as the first argument).

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));
const outfile = resolve(process.argv[2] ?? `${here}/dist/rtserver-e2ee.js`);

await build({
  absWorkingDir: here,
  entryPoints: ["src/index.js"],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  sourcemap: true,
  legalComments: "eof",
  logLevel: "warning",
});
