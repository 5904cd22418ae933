// Copies the built files of the docs site's libraries, with their licences, into sqlflow/docs/static/vendor/
// and writes vendor/VERSIONS.json. Run from this folder: npm ci && npm run vendor
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "sqlflow", "docs", "static", "vendor");
const modules = join(here, "node_modules");

// [package, file in the package, name in vendor/]
const files = [
  ["cytoscape", "dist/cytoscape.min.js", "cytoscape.min.js"],
  // cytoscape-dagre's UMD build bundles @dagrejs/dagre and @dagrejs/graphlib (their licences are copied too)
  ["cytoscape-dagre", "dist/cytoscape-dagre.min.js", "cytoscape-dagre.min.js"],
  // highlight.js with its common languages, SQL among them
  ["@highlightjs/cdn-assets", "highlight.min.js", "highlight.min.js"],
  ["@highlightjs/cdn-assets", "styles/github.min.css", "highlight-github.min.css"],
];
const licensed = ["cytoscape", "cytoscape-dagre", "@dagrejs/dagre", "@dagrejs/graphlib", "@highlightjs/cdn-assets"];

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "licenses"), { recursive: true });
for (const [pkg, file, name] of files) {
  // the source maps are not vendored: drop the comments that point at them
  const text = readFileSync(join(modules, pkg, file), "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  writeFileSync(join(out, name), text);
}
const versions = {};
for (const pkg of licensed) {
  const meta = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8"));
  versions[pkg] = { version: meta.version, license: meta.license };
  copyFileSync(join(modules, pkg, "LICENSE"), join(out, "licenses", pkg.replace("@", "").replace("/", "-") + ".LICENSE"));
}
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendored into ${out}:`, versions);
