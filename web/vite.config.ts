// Vite builds the app into dist/, which the gateway serves file by file (gateway/envoy.yaml,
// the static block): the names are fixed so that block can list them.
import { copyFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";

// The API reference at /docs is swagger-ui from npm, served as plain files: no CDN.
function swaggerUi(): Plugin {
  return {
    name: "vidmesh-swagger-ui",
    apply: "build",
    closeBundle() {
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
        copyFileSync(`node_modules/swagger-ui-dist/${file}`, `dist/docs/${file}`);
      }
    },
  };
}

const gateway = `http://127.0.0.1:${process.env.VIDMESH_ENVOY_PORT ?? "8080"}`;

export default defineConfig({
  build: {
    modulePreload: { polyfill: false },
    rolldownOptions: {
      output: { entryFileNames: "assets/app.js", assetFileNames: "assets/app[extname]" },
    },
  },
  // `npm run dev`: the app with hot reload, the API of a running stack behind the same origin.
  server: { proxy: { "/api": gateway } },
  plugins: [swaggerUi()],
});
