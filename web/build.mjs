// Bundles the web map into dist/: one script, one stylesheet, index.html. Nothing is loaded from the internet at
// run time: Leaflet and its plugins are bundled, and the map draws its own background from the unit layers.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

const dist = new URL("./dist/", import.meta.url);
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outdir: "dist",
  loader: { ".png": "file", ".svg": "file" },
  logLevel: "warning",
});
await copyFile(new URL("./index.html", import.meta.url), new URL("./index.html", dist));
// The base map's state and county borders and county names (us-atlas, Census, public domain), served with the page
// and fetched after the first draw.
await mkdir(new URL("./basemap/", dist), { recursive: true });
await copyFile(new URL("./node_modules/us-atlas/counties-10m.json", import.meta.url), new URL("./basemap/counties-10m.json", dist));
console.log("web map built into web/dist");
