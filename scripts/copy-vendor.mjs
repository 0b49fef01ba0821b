// Copies the dist files the templates load (and each package's licence) from
// node_modules/ into the git-ignored static/vendor/, so that whitenoise and
// collectstatic serve them: the browser never needs a CDN.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");

// [package, source inside the package, destination inside static/vendor]
const files = [
  ["bootstrap", "dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"],
  ["bootstrap", "dist/css/bootstrap.min.css.map", "bootstrap/bootstrap.min.css.map"],
  ["bootstrap", "dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"],
  ["bootstrap", "dist/js/bootstrap.bundle.min.js.map", "bootstrap/bootstrap.bundle.min.js.map"],
  ["bootstrap", "LICENSE", "bootstrap/LICENSE"],
  ["bootstrap-icons", "font/bootstrap-icons.min.css", "bootstrap-icons/bootstrap-icons.min.css"],
  ["bootstrap-icons", "font/fonts", "bootstrap-icons/fonts"],
  ["bootstrap-icons", "LICENSE", "bootstrap-icons/LICENSE"],
  ["tom-select", "dist/css/tom-select.bootstrap5.min.css", "tom-select/tom-select.bootstrap5.min.css"],
  ["tom-select", "dist/js/tom-select.complete.min.js", "tom-select/tom-select.complete.min.js"],
  ["tom-select", "LICENSE", "tom-select/LICENSE"],
  ["cytoscape", "dist/cytoscape.min.js", "cytoscape/cytoscape.min.js"],
  ["cytoscape", "LICENSE", "cytoscape/LICENSE"],
  ["chart.js", "dist/chart.umd.min.js", "chart.js/chart.umd.min.js"],
  ["chart.js", "LICENSE.md", "chart.js/LICENSE.md"],
];

rmSync(vendor, { recursive: true, force: true });
let missing = 0;
for (const [pkg, source, destination] of files) {
  const from = join(modules, pkg, source);
  const to = join(vendor, destination);
  if (!existsSync(from)) {
    // Source maps are optional; anything else missing is a broken install.
    if (source.endsWith(".map")) continue;
    console.error(`copy-vendor: missing ${pkg}/${source}`);
    missing += 1;
    continue;
  }
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}
if (missing) process.exit(1);
console.log(`copy-vendor: copied ${files.length} entries into static/vendor/`);
