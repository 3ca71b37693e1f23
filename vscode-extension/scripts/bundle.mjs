// Bundles the extension and vscode-languageclient into dist/extension.js (the only code in
// the .vsix). `vscode` is provided by the editor at run time.
import { build } from "esbuild";

await build({
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.js",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
