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
console.log("web map built into web/dist");
